"""Public views: webhooks."""

from app.public import bp  # noqa: F401
