"""Each list's size over time for the dashboard: subscribes, unsubscribes and
hard bounces per ISO week (Monday start), and the resulting size at the end
of each week.

A subscribe is a subscription that became active (confirmed, or created
active); pending ones never count. Bounces come from per-recipient events,
so weeks older than the retention period show none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.db import db, utcnow
from app.sending.models import Delivery, FeedbackEvent
from app.subscribers.models import MailingList, Subscription


@dataclass
class ListGrowth:
    mailing_list: MailingList
    weeks: list[date]
    subscribes: list[int]
    unsubscribes: list[int]
    bounces: list[int]
    size: list[int]


def _week(column):  # noqa: ANN001,ANN202 (a SQL expression either way)
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.date_trunc("week", column), "YYYY-MM-DD")
    return func.date(column, "weekday 0", "-6 days")


def _per_week(column, *conditions) -> dict[tuple[int, str], int]:  # noqa: ANN001
    week = _week(column).label("week")
    rows = db.session.execute(
        select(Subscription.list_id, week, func.count())
        .where(column.is_not(None), *conditions)
        .group_by(Subscription.list_id, week)
    )
    return {(list_id, str(key)): int(count) for list_id, key, count in rows}


def list_growth(weeks: int = 26, now: datetime | None = None, limit: int = 6) -> list[ListGrowth]:
    """The ``limit`` largest lists over the last ``weeks`` weeks."""
    today = (now or utcnow()).date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    start = datetime.combine(first, datetime.min.time())
    joined = func.coalesce(Subscription.confirmed_at, Subscription.created_at)
    counted = Subscription.status.in_(("active", "unsubscribed"))
    subscribes = _per_week(joined, counted, joined >= start)
    unsubscribes = _per_week(Subscription.unsubscribed_at, Subscription.unsubscribed_at >= start)
    before = dict(
        db.session.execute(
            select(Subscription.list_id, func.count()).where(counted, joined < start).group_by(Subscription.list_id)
        ).all()
    )
    gone = dict(
        db.session.execute(
            select(Subscription.list_id, func.count())
            .where(Subscription.unsubscribed_at < start)
            .group_by(Subscription.list_id)
        ).all()
    )
    week = _week(FeedbackEvent.occurred_at).label("week")
    bounces = {
        (list_id, str(key)): int(count)
        for list_id, key, count in db.session.execute(
            select(Delivery.list_id, week, func.count())
            .select_from(FeedbackEvent)
            .join(Delivery, Delivery.id == FeedbackEvent.delivery_id)
            .where(FeedbackEvent.kind == "hard_bounce", FeedbackEvent.occurred_at >= start)
            .group_by(Delivery.list_id, week)
        )
    }
    sizes = dict(
        db.session.execute(
            select(Subscription.list_id, func.count())
            .where(Subscription.status == "active")
            .group_by(Subscription.list_id)
        ).all()
    )
    lists = sorted(db.session.scalars(select(MailingList)), key=lambda m: (-sizes.get(m.id, 0), m.name))[:limit]
    days = [first + timedelta(weeks=i) for i in range(weeks)]
    keys = [d.isoformat() for d in days]
    result = []
    for mailing in lists:
        subs = [subscribes.get((mailing.id, k), 0) for k in keys]
        unsubs = [unsubscribes.get((mailing.id, k), 0) for k in keys]
        size, running = [], before.get(mailing.id, 0) - gone.get(mailing.id, 0)
        for added, removed in zip(subs, unsubs, strict=True):
            running += added - removed
            size.append(running)
        result.append(ListGrowth(mailing, days, subs, unsubs, [bounces.get((mailing.id, k), 0) for k in keys], size))
    return result
