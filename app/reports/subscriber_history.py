"""A subscriber's history across domains: subscriptions, suppression, the
sends they were in and what came back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, select

from app.audit import for_subject
from app.db import db
from app.sending.models import Delivery, FeedbackEvent, Send
from app.subscribers.models import Subscriber, Subscription, Suppression
from app.subscribers.suppression import email_hash

__all__ = ["Entry", "History", "history", "timeline"]


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


# --- the timeline ---------------------------------------------------------------------

_FEEDBACK_TITLES = {
    "open": "Opened",
    "click": "Clicked",
    "hard_bounce": "Bounced (hard)",
    "soft_bounce": "Bounced (soft)",
    "complaint": "Complained (marked as spam)",
    "delivery": "Delivered",
    "reject": "Rejected by the mail service",
    "delay": "Delivery delayed",
    "rendering_failure": "Rendering failed",
}
_SUPPRESSION_TITLES = {
    "unsubscribed-all": "Unsubscribed from everything",
    "hard-bounce": "Suppressed after a hard bounce",
    "complaint": "Suppressed after a complaint",
    "manual": "Suppressed by an admin",
}
_AUDIT_TITLES = {"attributes": "Attributes changed", "name": "Name changed", "email": "Email address changed"}


@dataclass
class Entry:
    at: datetime
    kind: str  # signup, confirmed, unsubscribed, send, open, click, hard_bounce, ..., attributes, name, email
    title: str
    detail: str = ""


def timeline(subscriber: Subscriber, limit: int = 100) -> list[Entry]:
    """What happened to this subscriber, oldest first: signups and
    confirmations per list (with their source; no IP address is stored, so
    none is shown), the last ``limit`` sends they were in with the outcome,
    those messages' opens, clicks, bounces and complaints, unsubscribes,
    suppression, and the recorded changes of name, address and attributes.
    A subscription keeps only its latest confirmation and unsubscribe, and
    per-recipient events older than the reports' retention are aggregated
    away, so the timeline cannot show earlier ones."""
    found = history(subscriber, limit)
    entries = [
        Entry(subscriber.created_at, "created", "Added", f"via {subscriber.source}" if subscriber.source else "")
    ]
    for sub in found.subscriptions:
        entries.append(Entry(sub.created_at, "signup", f"Subscription to {sub.list.name} requested", _via(sub.source)))
        if sub.confirmed_at:
            entries.append(Entry(sub.confirmed_at, "confirmed", f"Subscribed to {sub.list.name} (confirmed)"))
        if sub.unsubscribed_at:
            entries.append(Entry(sub.unsubscribed_at, "unsubscribed", f"Unsubscribed from {sub.list.name}"))
    if found.suppression is not None:
        row = found.suppression
        title = _SUPPRESSION_TITLES.get(row.reason, f"Suppressed ({row.reason})")
        entries.append(Entry(row.created_at, "suppressed", title, _via(row.source)))
    for delivery, subject in found.deliveries:
        detail = str(delivery.status) + (f": {delivery.error}" if delivery.error else "")
        entries.append(
            Entry(
                delivery.sent_at or delivery.updated_at,
                "send",
                f"Sent “{subject or f'send #{delivery.send_id}'}”",
                detail,
            )
        )
    entries += _engagement(found, subscriber, limit)
    for event in for_subject("subscriber", subscriber.id):
        by = f" by {event.actor_email}" if event.actor_email else ""
        entries.append(Entry(event.at, event.action, _AUDIT_TITLES.get(event.action, event.action) + by, event.summary))
    entries.sort(key=lambda e: (e.at, e.kind != "created"))
    return entries


def _via(source: str) -> str:
    return f"source: {source}" if source else ""


def _engagement(found: History, subscriber: Subscriber, limit: int) -> list[Entry]:
    """Every feedback event of the deliveries shown, by the (delivery_id, kind) index."""
    if not found.deliveries:
        return []
    subjects = {d.id: subject or f"send #{d.send_id}" for d, subject in found.deliveries}
    events = db.session.scalars(
        select(FeedbackEvent)
        .where(FeedbackEvent.delivery_id.in_(list(subjects)), FeedbackEvent.kind.in_(list(_FEEDBACK_TITLES)))
        .order_by(FeedbackEvent.occurred_at.desc())
        .limit(limit * 5)
    )
    by_id = {event.id: event for event in events}
    for event in found.feedback:  # a bounce or complaint found by address only
        by_id.setdefault(event.id, event)
    entries = []
    for event in by_id.values():
        if event.kind not in _FEEDBACK_TITLES:
            continue
        subject = subjects.get(event.delivery_id or 0, "")
        detail = event.url or event.detail or ""
        title = f"{_FEEDBACK_TITLES[event.kind]} “{subject}”"
        entries.append(Entry(event.occurred_at, event.kind, title, detail))
    return entries
