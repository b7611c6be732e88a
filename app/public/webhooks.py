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
from app.sending.feedback import MAX_BODY_BYTES, FeedbackError, FeedbackTooLarge, handle_sns_post


def _bounded_body() -> bytes:
    """The body, read only up to the limit: a 64 MB post costs 512 KB of reading,
    not 64 MB (the declared length is refused before anything is read)."""
    declared = request.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        raise FeedbackTooLarge("Message too large")
    body = request.stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise FeedbackTooLarge("Message too large")
    return body


@bp.route("/webhooks/ses", methods=["POST"])
@csrf.exempt
def webhooks_ses():
    try:
        result = handle_sns_post(_bounded_body())
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
