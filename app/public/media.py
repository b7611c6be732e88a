"""Public views: media."""

from app.public import bp  # noqa: F401
