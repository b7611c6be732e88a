"""Public views: subscribe."""

from app.public import bp  # noqa: F401
