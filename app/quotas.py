"""Counters for per-user limits that must hold across processes and machines
(for example: confirmation emails an editor's actions may trigger per hour).

One row per key and window; an increment is a single upsert-like UPDATE, so
two processes counting at once never lose a count."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model, db, utcnow

__all__ = ["QuotaCounter", "count", "take"]


class QuotaCounter(Model):
    __tablename__ = "quota_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    used: Mapped[int] = mapped_column(default=0)


def _window(now: datetime, seconds: int) -> datetime:
    epoch = datetime(2000, 1, 1)
    return epoch + timedelta(seconds=(now - epoch) // timedelta(seconds=seconds) * seconds)


def count(key: str, *, window_seconds: int = 3600, now: datetime | None = None) -> int:
    start = _window(now or utcnow(), window_seconds)
    return (
        db.session.scalar(select(QuotaCounter.used).where(QuotaCounter.key == key, QuotaCounter.window_start == start))
        or 0
    )


def take(key: str, amount: int, limit: int, *, window_seconds: int = 3600, now: datetime | None = None) -> int:
    """Take up to ``amount`` from this window's allowance of ``limit``; returns
    how many were granted (0 when the window is used up). The caller commits."""
    if amount <= 0:
        return 0
    start = _window(now or utcnow(), window_seconds)
    for _ in range(2):
        row = db.session.scalar(
            select(QuotaCounter).where(QuotaCounter.key == key, QuotaCounter.window_start == start).with_for_update()
        )
        if row is None:
            try:
                with db.session.begin_nested():
                    db.session.add(QuotaCounter(key=key, window_start=start, used=0))
            except IntegrityError:
                continue  # another process created the row first: lock theirs
            continue
        granted = max(0, min(amount, limit - row.used))
        if granted:
            db.session.execute(
                update(QuotaCounter)
                .where(QuotaCounter.key == key, QuotaCounter.window_start == start)
                .values(used=QuotaCounter.used + granted)
            )
            db.session.expire(row)
        return granted
    return 0
