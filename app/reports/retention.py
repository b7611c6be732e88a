"""Personal data retention: per-recipient feedback events older than
``RETENTION_DAYS`` (default 90) become anonymous daily counts per send, kind
and link, then are deleted. ``pressroom worker`` runs this periodically.

It is one transaction bounded by the newest old event id, so running it twice
never counts an event twice. Workers on PostgreSQL run it under a transaction
advisory lock: two workers aggregating the same events at once could otherwise
both add them to an existing day's counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, func, select, text
from sqlalchemy.exc import IntegrityError

from app.db import db, rowcount, utcnow
from app.sending.models import DailyStat, FeedbackEvent

__all__ = ["apply_retention"]

RETENTION_LOCK_KEY = 0x50524554  # "PRET": any constant unique to this job


def _day(column):  # noqa: ANN001,ANN202 (a SQL expression either way)
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def apply_retention(now: datetime | None = None) -> int:
    """Aggregate and delete expired events; return how many were removed."""
    cutoff = (now or utcnow()) - timedelta(days=int(current_app.config.get("RETENTION_DAYS", 90)))
    if db.engine.dialect.name == "postgresql":
        # Held until this transaction ends; other workers wait, then find nothing left.
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RETENTION_LOCK_KEY})
    newest = db.session.scalar(select(func.max(FeedbackEvent.id)).where(FeedbackEvent.occurred_at < cutoff))
    if newest is None:
        db.session.commit()  # ends the transaction (and releases the lock)
        return 0
    expired = (FeedbackEvent.occurred_at < cutoff, FeedbackEvent.id <= newest)
    day = _day(FeedbackEvent.occurred_at).label("day")
    url = func.coalesce(FeedbackEvent.url, "").label("url")
    rows = db.session.execute(
        select(
            FeedbackEvent.send_id,
            day,
            FeedbackEvent.kind,
            url,
            func.count(),
            func.sum(case((FeedbackEvent.is_first.is_(True), 1), else_=0)),
        )
        .where(*expired, FeedbackEvent.send_id.is_not(None))
        .group_by(FeedbackEvent.send_id, day, FeedbackEvent.kind, url)
    ).all()
    additions: dict[tuple[int, str, str, str], int] = {}
    for send_id, day_text, kind, link, count, firsts in rows:
        # Only clicks keep their link; every kind keeps a unique-recipient count.
        keys = [((send_id, day_text, kind, link if kind == "click" else ""), int(count))]
        if firsts:
            keys.append(((send_id, day_text, f"{kind}:unique"[:30], ""), int(firsts)))
        for key, value in keys:
            additions[key] = additions.get(key, 0) + value
    try:
        for (send_id, day_text, kind, link), count in additions.items():
            when = datetime.strptime(day_text, "%Y-%m-%d")
            row = db.session.scalar(
                select(DailyStat).where(
                    DailyStat.send_id == send_id, DailyStat.day == when, DailyStat.kind == kind, DailyStat.url == link
                )
            )
            if row is None:
                db.session.add(DailyStat(send_id=send_id, day=when, kind=kind, url=link, count=count))
            else:
                row.count += count
            db.session.flush()
        removed = rowcount(db.session.execute(delete(FeedbackEvent).where(*expired)))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another worker aggregated the same events first
        return 0
    return int(removed or 0)
