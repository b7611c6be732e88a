"""Public views: events."""

from app.public import bp  # noqa: F401
