"""Double opt-in links: signed, short-lived, bound to the exact request."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import URLSafeTimedSerializer

from app.subscribers.models import Subscription

__all__ = ["confirm_serializer", "confirm_token", "confirm_url", "stamp"]

CONFIRM_SALT = "pressroom.confirm.v1"
_EPOCH = datetime(1970, 1, 1)


def stamp(moment: datetime) -> int:
    """A datetime as integer microseconds: exact in tokens and in both databases."""
    return (moment.replace(tzinfo=None) - _EPOCH) // timedelta(microseconds=1)


def confirm_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)


def confirm_token(subscriber_id: int, subscriptions: Iterable[Subscription]) -> str:
    """Bound to each subscription's ``requested_at``: once confirmed, or after an
    unsubscribe or a new request, the token matches nothing any more."""
    pairs = [[s.list_id, stamp(s.requested_at or s.created_at)] for s in subscriptions]
    return confirm_serializer().dumps([subscriber_id, pairs])


def confirm_url(subscriber_id: int, subscriptions: Iterable[Subscription]) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/confirm/{confirm_token(subscriber_id, subscriptions)}"
