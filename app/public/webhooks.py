"""Public views: webhooks. SNS posts JSON with a text/plain content type, so
the raw body is parsed whatever the header says; CSRF does not apply (the
signature is the authentication)."""

from __future__ import annotations

from flask import current_app, request
from sqlalchemy.exc import IntegrityError

from app.db import db
from app.errors import http_status
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
        return {"error": str(exc)}, http_status(exc)
    except IntegrityError:
        # Two posts about one address raced (e.g. its bounce and its complaint):
        # nothing of this one was kept, and SNS delivers it again after a non-2xx.
        db.session.rollback()
        current_app.logger.info("SNS post raced another one; asking SNS to retry")
        return {"error": "busy, retry"}, 503
    return {"status": result.status, "events": result.events}, 200
