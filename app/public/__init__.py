"""Pages subscribers and the outside world see: archive, signup, unsubscribe,
webhooks, media. Views register themselves from their own modules."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from app.public import archive, events, health, media, site, subscribe, tracking, webhooks  # noqa: E402,F401
