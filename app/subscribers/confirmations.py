"""Confirmation mail that an editor's action triggers (a ``pending`` CSV
import, "add subscriber (pending)"), sent by the worker within limits:

- each user's actions may trigger at most ``CONFIRMATION_HOURLY_CAP``
  confirmation emails per hour (the rest waits for the next hour, nothing is
  dropped);
- an address is never mailed twice within the signup interval, whoever asks;
- the mail carries nothing the editor wrote but a list's (capped) name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update

from app import quotas
from app.db import db, utcnow
from app.errors import TooMany
from app.jobs import JobContext, RetryLater, enqueue
from app.jobs.models import Job
from app.subscribers.mail import send_confirmation
from app.subscribers.models import Subscriber, Subscription, SubscriptionStatus
from app.subscribers.suppression import is_suppressed

__all__ = ["ConfirmationCapReached", "hourly_cap", "recently_mailed", "request_confirmations", "run_confirmations"]

DEFAULT_HOURLY_CAP = 500
WINDOW = 3600


class ConfirmationCapReached(TooMany):
    """This user's actions have triggered as many confirmation emails as allowed this hour."""


def hourly_cap() -> int:
    return int(current_app.config.get("CONFIRMATION_HOURLY_CAP", DEFAULT_HOURLY_CAP))


def _key(user_id: int | None) -> str | None:
    return None if user_id is None else f"confirmations:user:{user_id}"


def recently_mailed(subscriber: Subscriber, now: datetime) -> bool:
    """A confirmation (or "already subscribed") mail went to this address within
    the signup interval: never mail it again so soon, whoever asks."""
    interval = timedelta(seconds=int(current_app.config.get("SIGNUP_ADDRESS_INTERVAL", 300)))
    return subscriber.confirmation_sent_at is not None and now - subscriber.confirmation_sent_at < interval


def request_confirmations(
    subscriber_ids: Iterable[int], list_id: int, user_id: int | None, *, interactive: bool = False
) -> None:
    """Queue confirmation mail for pending subscriptions (the caller commits).
    ``interactive``: refuse at once when the user's cap is already used up."""
    ids = sorted(set(subscriber_ids))
    key = _key(user_id)
    if interactive and key is not None and quotas.count(key, window_seconds=WINDOW) >= hourly_cap():
        raise ConfirmationCapReached(
            f"Your actions have triggered {hourly_cap()} confirmation emails this hour, the most allowed; "
            "try again in an hour, or add the address as active when consent was recorded elsewhere."
        )
    if ids:
        enqueue(
            "subscribers.confirmations",
            {"subscribers": ids, "list": list_id, "user": user_id},
            created_by_id=user_id,
            max_attempts=20,
        )


def run_confirmations(context: JobContext) -> dict[str, int]:
    """The job: mail each still-pending subscriber once, within the cap."""
    ids: list[int] = list(context.payload.get("subscribers") or [])
    list_id = int(context.payload["list"])
    key = _key(context.payload.get("user"))
    sent = skipped = 0
    for position, subscriber_id in enumerate(ids):
        subscriber = db.session.get(Subscriber, subscriber_id)
        subscription = db.session.get(Subscription, (subscriber_id, list_id))
        now = utcnow()
        if (
            subscriber is None
            or subscription is None
            or subscription.status != SubscriptionStatus.PENDING
            or is_suppressed(subscriber.email)
            or recently_mailed(subscriber, now)
        ):
            skipped += 1
            continue
        if key is not None and not quotas.take(key, 1, hourly_cap(), window_seconds=WINDOW):
            _keep_only(context, ids[position:])
            db.session.commit()
            raise RetryLater(_seconds_to_next_window(), f"hourly cap reached; {len(ids) - position} waiting")
        subscriber.confirmation_sent_at = now
        db.session.commit()  # recorded before it goes out: a crash never mails twice
        send_confirmation(subscriber, [subscription])
        sent += 1
    return {"sent": sent, "skipped": skipped}


def _keep_only(context: JobContext, remaining: list[int]) -> None:
    payload = {**context.payload, "subscribers": remaining}
    db.session.execute(update(Job).where(Job.id == context.job_id).values(payload=payload))


def _seconds_to_next_window() -> float:
    now = utcnow()
    start = now.replace(minute=0, second=0, microsecond=0)
    return max(1.0, (start + timedelta(seconds=WINDOW) - now).total_seconds())
