"""Public views: webhooks. SNS posts JSON with a text/plain content type, so
the raw body is parsed whatever the header says; CSRF does not apply (the
signature is the authentication)."""

from __future__ import annotations

from flask import current_app, request

from app.public import bp
from app.security import csrf
from app.sending.feedback import FeedbackError, handle_sns_post


@bp.route("/webhooks/ses", methods=["POST"])
@csrf.exempt
def webhooks_ses():
    try:
        result = handle_sns_post(request.get_data(cache=False))
    except FeedbackError as exc:
        current_app.logger.warning("refused SNS post: %s", exc)
        return {"error": str(exc)}, exc.status
    return {"status": result.status, "events": result.events}, 200
