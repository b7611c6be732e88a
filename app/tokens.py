"""Signed per-reader tokens: unsubscribe links, click redirects, open pixels.

They never expire (a link in a years-old email must keep working) and carry
ids, never an address. An unsubscribe token also carries the subscriber's
random nonce, so a token minted for an erased subscriber can never act on a
later subscriber who happens to get the same id. Tokens minted before nonces
existed (v0.1) have none; they validate only for subscribers that have none
either (those who existed then), see :mod:`app.subscribers.service`."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.errors import InvalidInput

__all__ = [
    "InvalidToken",
    "click_token",
    "issue_view_key",
    "issue_view_key_ok",
    "open_token",
    "read_click_token",
    "read_open_token",
    "read_unsubscribe_token",
    "unsubscribe_token",
]

UNSUBSCRIBE_SALT = "pressroom.unsubscribe.v1"
CLICK_SALT = "pressroom.click.v1"
OPEN_SALT = "pressroom.open.v1"
VIEW_SALT = b"pressroom.issue-view.v1"
MAX_ID = 2**63 - 1


class InvalidToken(InvalidInput):
    """The token was tampered with, truncated or is not ours."""


def _serializer(salt: str, secret: str | None = None) -> URLSafeSerializer:
    return URLSafeSerializer(secret or current_app.config["SECRET_KEY"], salt=salt)


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def unsubscribe_token(subscriber_id: int, list_id: int | None, nonce: str | None) -> str:
    payload: list[object] = [subscriber_id, list_id] if nonce is None else [subscriber_id, list_id, nonce]
    return _serializer(UNSUBSCRIBE_SALT).dumps(payload)


def read_unsubscribe_token(token: str) -> tuple[int, int | None, str | None]:
    """(subscriber id, list id or None, nonce or None for a v0.1 token)."""
    invalid = InvalidToken("This unsubscribe link is not valid.")
    try:
        payload = _serializer(UNSUBSCRIBE_SALT).loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise invalid from exc
    if not isinstance(payload, list) or len(payload) not in (2, 3):
        raise invalid
    subscriber_id, list_id, *rest = payload
    nonce = rest[0] if rest else None
    if (
        not _is_id(subscriber_id)
        or not (list_id is None or _is_id(list_id))
        or not (nonce is None or (isinstance(nonce, str) and 0 < len(nonce) <= 64))
    ):
        raise invalid
    return subscriber_id, list_id, nonce


def click_token(delivery_id: int, url: str, *, secret: str | None = None) -> str:
    """``secret`` only to measure a token's length (preflight): the length
    does not depend on the key."""
    return _serializer(CLICK_SALT, secret).dumps([delivery_id, url])


def read_click_token(token: str) -> tuple[int, str]:
    try:
        delivery_id, url = _serializer(CLICK_SALT).loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken("This link is not valid.") from exc
    if not _is_id(delivery_id) or not isinstance(url, str):
        raise InvalidToken("This link is not valid.")
    return delivery_id, url


def open_token(delivery_id: int) -> str:
    return _serializer(OPEN_SALT).dumps(delivery_id)


def read_open_token(token: str) -> int:
    try:
        delivery_id = _serializer(OPEN_SALT).loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken("This pixel is not valid.") from exc
    if not _is_id(delivery_id):
        raise InvalidToken("This pixel is not valid.")
    return delivery_id


def issue_view_key(slug: str, *, secret: str | None = None) -> str:
    """The key an issue's emails carry in their browser link: an issue sent only
    to private lists is not public, yet its readers' link must open it (a slug
    is guessable, so the key, not the slug, is what opens a private issue)."""
    key = (secret or current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, VIEW_SALT + slug.encode(), hashlib.sha256).hexdigest()[:24]


def issue_view_key_ok(slug: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(issue_view_key(slug), str(given)[:64])
