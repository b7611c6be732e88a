"""Public views: archive."""

from app.public import bp  # noqa: F401
