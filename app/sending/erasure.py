"""Erasing a subscriber everywhere their address is kept (GDPR Art. 17)."""

from __future__ import annotations

from sqlalchemy import select, update

from app.db import db
from app.sending import tally
from app.sending.models import Delivery, DeliveryStatus, FeedbackEvent
from app.subscribers.models import Subscriber
from app.subscribers.service import forget_subscriber

__all__ = ["erase_subscriber"]


def erase_subscriber(subscriber: Subscriber) -> None:
    """Delivery and feedback records lose the address (their counts stay), queued
    deliveries are skipped, then the subscriber is forgotten (a hash stays suppressed)."""
    address = subscriber.email
    # Only queued rows: a claimed one is in flight (its message may already be
    # out) and its worker records the real outcome.
    skipped = db.session.execute(
        update(Delivery)
        .where(Delivery.subscriber_id == subscriber.id, Delivery.status == DeliveryStatus.QUEUED)
        .values(status=DeliveryStatus.SKIPPED, error="subscriber deleted", next_attempt_at=None)
        .returning(Delivery.send_id)
    ).all()
    tally.add(tally.moved(((send_id, DeliveryStatus.SKIPPED.value) for (send_id,) in skipped), "queued"))
    db.session.execute(update(Delivery).where(Delivery.subscriber_id == subscriber.id).values(email=""))
    db.session.execute(update(FeedbackEvent).where(FeedbackEvent.email == address).values(email=None))
    db.session.execute(
        update(FeedbackEvent)
        .where(FeedbackEvent.delivery_id.in_(select(Delivery.id).where(Delivery.subscriber_id == subscriber.id)))
        .values(subscriber_id=None)
    )
    forget_subscriber(subscriber)
