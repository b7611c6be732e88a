"""Admin views for events."""

from app.admin import bp  # noqa: F401
