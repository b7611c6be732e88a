"""Admin views for sends."""

from app.admin import bp  # noqa: F401
