"""Admin views for subscribers."""

from app.admin import bp  # noqa: F401
