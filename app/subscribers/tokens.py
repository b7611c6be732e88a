"""Signed per-recipient tokens for unsubscribe links.

Unsubscribe tokens never expire (an old email's link must keep working) and
carry only ids, never the address."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.errors import InvalidInput

UNSUBSCRIBE_SALT = "pressroom.unsubscribe.v1"


class InvalidToken(InvalidInput):
    """The token was tampered with, truncated or is not ours."""


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(subscriber_id: int, list_id: int | None) -> str:
    return _unsubscribe_serializer().dumps([subscriber_id, list_id])


def read_unsubscribe_token(token: str) -> tuple[int, int | None]:
    try:
        subscriber_id, list_id = _unsubscribe_serializer().loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken("This unsubscribe link is not valid.") from exc
    if not isinstance(subscriber_id, int) or not (list_id is None or isinstance(list_id, int)):
        raise InvalidToken("This unsubscribe link is not valid.")
    return subscriber_id, list_id


def unsubscribe_url(subscriber_id: int, list_id: int | None) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/unsubscribe/{unsubscribe_token(subscriber_id, list_id)}"
