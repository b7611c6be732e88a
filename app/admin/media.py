"""Admin views for media."""

from app.admin import bp  # noqa: F401
