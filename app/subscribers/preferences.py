"""The preference centre behind every unsubscribe link: which lists a reader
gets, changed by the reader with the signed token of their email as the only
key (no login, no other reader's data).

A reader is offered the public lists and any list they already have a
subscription to; nothing else can be switched on, however the form is forged.
Ticking a list is a confirmed subscription (the token proves the address
receives our mail). An address blocked for a bounce, a complaint or by an
admin stays blocked: only the reader's own "unsubscribe from everything" is
lifted by ticking a list again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select

from app.db import db, utcnow
from app.i18n import gettext as _
from app.subscribers.models import (
    MailingList,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
)
from app.subscribers.service import SubscriberError, clean_name
from app.subscribers.suppression import email_hash

READER_LIFTABLE = "unsubscribed-all"  # the only suppression a reader may undo


@dataclass(frozen=True)
class Choice:
    mailing_list: MailingList
    subscribed: bool  # active
    pending: bool  # asked, not confirmed yet


def choices(subscriber: Subscriber) -> list[Choice]:
    """Every list the reader may switch, with their current state, by name."""
    theirs = {s.list_id: s for s in subscriber.subscriptions}
    offered = db.session.scalars(
        select(MailingList)
        .where(or_(MailingList.public.is_(True), MailingList.id.in_(theirs)))
        .order_by(MailingList.name)
    )
    out = []
    for mailing_list in offered:
        found = theirs.get(mailing_list.id)
        status = found.status if found else None
        out.append(Choice(mailing_list, status == SubscriptionStatus.ACTIVE, status == SubscriptionStatus.PENDING))
    return out


def _suppression(subscriber: Subscriber) -> Suppression | None:
    return db.session.scalar(select(Suppression).where(Suppression.email_hash == email_hash(subscriber.email)))


def blocked_reason(subscriber: Subscriber) -> str | None:
    """Why no list can be switched on, in the reader's words (None: nothing blocks)."""
    row = _suppression(subscriber)
    if row is None or row.reason == READER_LIFTABLE:
        return None
    return _(
        "Mail to this address bounced or was reported as spam, so we no longer send to it. "
        "Reply to any of our emails if you want it back."
    )


def save_choices(subscriber: Subscriber, wanted: Iterable[int], name: str | None = None) -> list[str]:
    """Make the reader's subscriptions match ``wanted`` among the offered lists;
    returns the names of what changed. Flushes; the caller commits."""
    offered = {choice.mailing_list.id: choice.mailing_list for choice in choices(subscriber)}
    wanted_ids = {i for i in wanted if i in offered}
    if wanted_ids and blocked_reason(subscriber):
        raise SubscriberError(blocked_reason(subscriber) or "")
    now, changed = utcnow(), []
    theirs = {s.list_id: s for s in subscriber.subscriptions}
    for list_id, mailing_list in offered.items():
        found = theirs.get(list_id)
        if list_id in wanted_ids and (found is None or found.status != SubscriptionStatus.ACTIVE):
            if found is None:
                found = Subscription(subscriber=subscriber, list_id=list_id, source="preference centre", created_at=now)
                db.session.add(found)
            found.status, found.confirmed_at, found.unsubscribed_at = SubscriptionStatus.ACTIVE, now, None
            changed.append(_("subscribed to %(list)s", list=mailing_list.public_name))
        elif list_id not in wanted_ids and found is not None and found.status != SubscriptionStatus.UNSUBSCRIBED:
            found.status, found.unsubscribed_at = SubscriptionStatus.UNSUBSCRIBED, now
            changed.append(_("unsubscribed from %(list)s", list=mailing_list.public_name))
    row = _suppression(subscriber)
    if wanted_ids and row is not None and row.reason == READER_LIFTABLE:
        db.session.delete(row)  # they said "everything" before; now they choose lists again
        subscriber.status = SubscriberStatus.ENABLED
    if name is not None:
        cleaned = clean_name(name)
        if cleaned != subscriber.name:
            subscriber.name = cleaned
            changed.append(_("name updated"))
    db.session.flush()
    return changed
