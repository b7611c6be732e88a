"""Admin views for reports."""

from app.admin import bp  # noqa: F401
