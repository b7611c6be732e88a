"""Public views: tracking."""

from app.public import bp  # noqa: F401
