"""Admin views for issues."""

from app.admin import bp  # noqa: F401
