"""Read side of the subscriber admin: keyset-paginated search, a subscriber's
history, counts per list.

Pages are addressed by the email at their edge (``after`` / ``before``), never
by offset, so page 20,000 of a million rows costs the same index range scan as
page 1. Emails are compared bytewise (C collation on PostgreSQL), so an email
prefix is a range on the same unique index."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, and_, exists, func, select

from app.db import db
from app.subscribers.models import SUBSCRIPTION_STATES, MailingList, Subscriber, Subscription

PAGE_SIZE = 50
STATUS_FILTERS = (*SUBSCRIPTION_STATES, "suppressed")
_TOP = "\U0010ffff"  # sorts after every character: prefix P is the range [P, P + _TOP)


@dataclass
class Page:
    rows: list[Subscriber]
    statuses: dict[int, str] = field(default_factory=dict)  # subscriber id -> status on the filtered list
    first: str | None = None
    last: str | None = None
    has_prev: bool = False
    has_next: bool = False


def _filtered(prefix: str, list_id: int | None, status: str | None) -> Select:
    query = select(Subscriber)
    prefix = prefix.strip().lower()
    if prefix:
        query = query.where(Subscriber.email >= prefix, Subscriber.email < prefix + _TOP)
    if status == "suppressed":
        query = query.where(Subscriber.status == "suppressed")
        status = None
    if list_id is not None or status:
        conditions = [Subscription.subscriber_id == Subscriber.id]
        if list_id is not None:
            conditions.append(Subscription.list_id == list_id)
        if status:
            conditions.append(Subscription.status == status)
        query = query.where(exists().where(and_(*conditions)))
    return query


def search(
    prefix: str = "",
    list_id: int | None = None,
    status: str | None = None,
    *,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of subscribers ordered by email. ``after``: the page following
    that email; ``before``: the page preceding it; ``last``: the final page."""
    if status and status not in STATUS_FILTERS:
        status = None
    query = _filtered(prefix, list_id, status)
    if before is not None or last:
        if before is not None:
            query = query.where(Subscriber.email < before)
        rows = list(db.session.scalars(query.order_by(Subscriber.email.desc()).limit(size + 1)))
        more = len(rows) > size
        rows = rows[:size][::-1]
        page = Page(rows, has_prev=more, has_next=before is not None)
    else:
        if after is not None:
            query = query.where(Subscriber.email > after)
        rows = list(db.session.scalars(query.order_by(Subscriber.email).limit(size + 1)))
        page = Page(rows[:size], has_prev=after is not None, has_next=len(rows) > size)
    if page.rows:
        page.first, page.last = page.rows[0].email, page.rows[-1].email
        if list_id is not None:
            ids = [s.id for s in page.rows]
            page.statuses = dict(
                db.session.execute(
                    select(Subscription.subscriber_id, Subscription.status).where(
                        Subscription.list_id == list_id, Subscription.subscriber_id.in_(ids)
                    )
                ).all()
            )
    return page


def all_lists() -> list[MailingList]:
    return list(db.session.scalars(select(MailingList).order_by(MailingList.name)))


def list_counts() -> dict[int, dict[str, int]]:
    """{list id: {status: count}} in one grouped index-only scan."""
    counts: dict[int, dict[str, int]] = {}
    rows = db.session.execute(
        select(Subscription.list_id, Subscription.status, func.count()).group_by(
            Subscription.list_id, Subscription.status
        )
    )
    for list_id, status, count in rows:
        counts.setdefault(list_id, {})[status] = count
    return counts
