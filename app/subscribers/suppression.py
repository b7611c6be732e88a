"""The global suppression list: addresses never sent to, whatever their
subscriptions say. Rows are keyed by a hash of the normalised address, so an
erased subscriber stays suppressed; ``email`` is kept for every reason but
``deleted`` (erasure)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.db import db, utcnow
from app.subscribers.models import Subscriber, Subscription, SubscriptionStatus, Suppression


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_hash(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def is_suppressed(email: str) -> bool:
    found = db.session.scalar(select(Suppression.id).where(Suppression.email_hash == email_hash(email)))
    return found is not None


def _find(digest: str) -> Suppression | None:
    return db.session.scalar(select(Suppression).where(Suppression.email_hash == digest))


def suppress(
    email: str,
    reason: str,
    source: str = "",
    *,
    unsubscribe_all: bool = False,
    keep_address: bool = True,
    commit: bool = True,
) -> Suppression:
    """Add (or update) a suppression. ``unsubscribe_all`` also ends every
    subscription of that address (complaints, unsubscribe-from-everything)."""

    digest = email_hash(email)
    row = _find(digest)
    if row is None:
        # The same address may be suppressed concurrently (a double click on
        # "unsubscribe from everything", a bounce at the same moment): the
        # savepoint keeps the caller's transaction alive when our INSERT loses.
        try:
            with db.session.begin_nested():
                row = Suppression(email_hash=digest, reason=reason, source=source[:200])
                db.session.add(row)
        except IntegrityError:
            row = _find(digest)
            if row is None:
                raise
    row.reason, row.source = reason, source[:200]
    row.email = normalise_email(email) if keep_address else None
    # The subscriber's own flag says the same, so every reader (admin filter,
    # send queries that check ``status == "enabled"``) agrees without a join.
    db.session.execute(update(Subscriber).where(Subscriber.email == normalise_email(email)).values(status="suppressed"))
    if unsubscribe_all:
        subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == normalise_email(email)))
        if subscriber is not None:
            now = utcnow()
            for subscription in db.session.scalars(
                select(Subscription).where(
                    Subscription.subscriber_id == subscriber.id, Subscription.status != "unsubscribed"
                )
            ):
                subscription.status = SubscriptionStatus.UNSUBSCRIBED
                subscription.unsubscribed_at = now
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return row


def reachable():  # noqa: ANN201 (a SQL expression)
    """SQL condition on ``Subscriber``: mail may go to this address at all.
    Both the send's recipient query and the worker's last-moment re-check use
    it, so "a suppressed address is never sent to" lives in one place."""
    from sqlalchemy import and_, exists

    return and_(Subscriber.status == "enabled", ~exists().where(Suppression.email == Subscriber.email))
