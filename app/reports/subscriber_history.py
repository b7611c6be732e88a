"""A subscriber's history across domains: subscriptions, suppression, the
sends they were in and what came back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Row, select

from app.db import db
from app.sending.models import Delivery, FeedbackEvent, Send
from app.subscribers.models import Subscriber, Subscription, Suppression
from app.subscribers.suppression import email_hash

__all__ = ["History", "history"]


@dataclass
class History:
    subscriptions: list[Subscription]
    suppression: Suppression | None
    deliveries: Sequence[Row[Delivery, str]]  # (delivery, subject of its send)
    feedback: list[FeedbackEvent]


def history(subscriber: Subscriber, limit: int = 100) -> History:
    """Subscriptions, suppression, the latest deliveries and their bounces/complaints."""
    subscriptions = list(
        db.session.scalars(
            select(Subscription).where(Subscription.subscriber_id == subscriber.id).order_by(Subscription.created_at)
        )
    )
    suppression = db.session.scalar(select(Suppression).where(Suppression.email_hash == email_hash(subscriber.email)))
    deliveries = db.session.execute(
        select(Delivery, Send.subject)
        .join(Send, Send.id == Delivery.send_id)
        .where(Delivery.subscriber_id == subscriber.id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    ).all()
    # Bounces and complaints of those deliveries, found through the (send_id, kind)
    # index: per send there are few of them, whatever the audience size.
    feedback: list[FeedbackEvent] = []
    if deliveries:
        delivery_ids = [d.id for d, _ in deliveries]
        send_ids = {d.send_id for d, _ in deliveries}
        feedback = list(
            db.session.scalars(
                select(FeedbackEvent)
                .where(
                    FeedbackEvent.send_id.in_(send_ids),
                    FeedbackEvent.kind.notin_(("open", "click", "delivery", "send")),
                    (FeedbackEvent.delivery_id.in_(delivery_ids)) | (FeedbackEvent.email == subscriber.email),
                )
                .order_by(FeedbackEvent.occurred_at.desc())
                .limit(limit)
            )
        )
    return History(subscriptions, suppression, deliveries, feedback)
