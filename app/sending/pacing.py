"""Pacing: one token bucket for the whole SES account.

The arithmetic (:class:`BucketState` and its methods) is pure and takes the
time as an argument. :class:`SqlPacer` keeps the state in a ``RateBucket`` row
locked with SELECT ... FOR UPDATE, so every worker on every machine draws from
the same bucket; :class:`MemoryPacer` keeps it in memory (tests, benchmarks).

The ceiling comes from the account quota (``GetAccount``: MaxSendRate) or from
``SEND_RATE``. On throttling the current rate drops by 30% and grants stop for
a short back-off; then it climbs back towards the ceiling (AIMD). The 24-hour
quota is respected by counting what was granted since the quota was read."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import db, utcnow
from app.sending.models import RateBucket
from app.sending.ports import Grant

__all__ = ["BucketState", "Grant", "MemoryPacer", "SqlPacer", "configured_rate", "current_rate", "remaining_24h"]

log = logging.getLogger(__name__)

BUCKET = "ses"
DEFAULT_RATE = 50.0  # non-SES transports when SEND_RATE is unset
BURST_SECONDS = 0.25  # how much unused rate may accumulate
BACKOFF_SECONDS = 0.5  # pause after a throttle
DECREASE = 0.7  # rate multiplier on a throttle
RECOVERY_PER_SECOND = 0.2  # fraction of the ceiling regained per second
FLOOR = 0.05  # never slow below this fraction of the ceiling
QUOTA_REFRESH = timedelta(minutes=5)


class QuotaReader(Protocol):
    def read_quota(self) -> Any: ...  # app.mail.ses.Quota


@dataclass
class BucketState:
    rate: float = 0.0
    tokens: float = 0.0
    updated_at: datetime | None = None
    max_24h: int | None = None
    sent_last_24h: int | None = None
    throttled_until: datetime | None = None

    def take(self, now: datetime, ceiling: float, want: int, minimum: int = 1) -> Grant:
        """Up to ``want`` tokens now, but none until ``minimum`` are there
        (fewer, larger claims: database round trips do not grow with the rate)."""
        elapsed = max(0.0, (now - self.updated_at).total_seconds()) if self.updated_at else 0.0
        rate = min(self.rate or ceiling, ceiling)
        throttled = self.throttled_until is not None and self.throttled_until > now
        if not throttled and rate < ceiling:
            rate = min(ceiling, rate + ceiling * RECOVERY_PER_SECOND * elapsed)
        burst = max(1.0, rate * BURST_SECONDS)
        tokens = min(burst, self.tokens + rate * elapsed)
        need = max(1, min(minimum, want, math.floor(burst)))
        remaining = None if self.max_24h is None else max(0, self.max_24h - (self.sent_last_24h or 0))
        if remaining:
            need = min(need, remaining)
        granted = 0 if throttled or tokens < need else min(want, math.floor(tokens))
        if remaining is not None:
            granted = min(granted, remaining)
        self.tokens, self.rate, self.updated_at = tokens - granted, rate, now
        if self.max_24h is not None:
            self.sent_last_24h = (self.sent_last_24h or 0) + granted
        if granted:
            return Grant(granted, 0.0)
        if self.max_24h is not None and (self.sent_last_24h or 0) >= self.max_24h:
            return Grant(0, 60.0, "quota")
        if throttled and self.throttled_until is not None:
            return Grant(0, (self.throttled_until - now).total_seconds())
        return Grant(0, max(0.005, (need - tokens) / rate))

    def give_back(self, tokens: int) -> None:
        self.tokens = min(max(1.0, self.rate * BURST_SECONDS), self.tokens + tokens)
        if self.max_24h is not None:
            self.sent_last_24h = max(0, (self.sent_last_24h or 0) - tokens)

    def slow_down(self, now: datetime, ceiling: float) -> bool:
        """After a 429: once per back-off window, a lower rate and no tokens."""
        if self.throttled_until is not None and self.throttled_until > now:
            return False
        self.rate = max(ceiling * FLOOR, (self.rate or ceiling) * DECREASE)
        self.throttled_until = now + timedelta(seconds=BACKOFF_SECONDS)
        self.tokens = 0.0
        return True


def configured_rate() -> float | None:
    rate = current_app.config.get("SEND_RATE")
    return float(rate) if rate not in (None, "") else None


class MemoryPacer:
    """The bucket in this process only: for tests with a fake clock and benchmarks."""

    def __init__(self, ceiling: float, now: Callable[[], datetime], max_24h: int | None = None) -> None:
        self.ceiling = ceiling
        self.now = now
        self.state = BucketState(rate=ceiling, updated_at=now(), max_24h=max_24h, sent_last_24h=0)
        self.throttles = 0

    def refresh_quota(self, force: bool = False) -> None:
        return None

    def acquire(self, want: int, minimum: int = 1) -> Grant:
        return self.state.take(self.now(), self.ceiling, want, minimum)

    def refund(self, tokens: int) -> None:
        if tokens > 0:
            self.state.give_back(tokens)

    def throttled(self) -> None:
        if self.state.slow_down(self.now(), self.ceiling):
            self.throttles += 1


class SqlPacer:
    """One per worker process; the state lives in the database row. ``acquire``
    and ``refund`` run inside the engine's cycle (the row stays locked until the
    cycle commits, so its claim joins the same transaction)."""

    def __init__(self, quota: object, now: Callable[[], datetime] = utcnow) -> None:
        self.quota_reader: QuotaReader | None = quota if hasattr(quota, "read_quota") else None
        self.now = now
        self.ceiling = configured_rate() or DEFAULT_RATE

    def _row(self) -> RateBucket:
        row = db.session.scalar(select(RateBucket).where(RateBucket.name == BUCKET).with_for_update())
        if row is None:
            try:
                with db.session.begin_nested():
                    db.session.add(RateBucket(name=BUCKET, rate=0.0, tokens=0.0, updated_at=self.now()))
            except IntegrityError:  # another worker created it first
                pass
            row = db.session.scalar(select(RateBucket).where(RateBucket.name == BUCKET).with_for_update())
            assert row is not None
        return row

    @staticmethod
    def _state(row: RateBucket) -> BucketState:
        return BucketState(
            rate=row.rate,
            tokens=row.tokens,
            updated_at=row.updated_at,
            max_24h=row.max_24h,
            sent_last_24h=row.sent_last_24h,
            throttled_until=row.throttled_until,
        )

    @staticmethod
    def _store(row: RateBucket, state: BucketState) -> None:
        row.rate, row.tokens, row.updated_at = state.rate, state.tokens, state.updated_at or row.updated_at
        row.sent_last_24h, row.throttled_until = state.sent_last_24h, state.throttled_until

    def refresh_quota(self, force: bool = False) -> None:
        """Read the account quota when it is stale (every worker may; the row
        keeps the latest). SES is asked before the bucket row is locked, so a
        slow quota call never holds up the other workers' token grants. Commits."""
        now = self.now()
        fixed = configured_rate()
        quota = None
        if fixed is None and self.quota_reader is not None:
            checked = db.session.scalar(select(RateBucket.quota_checked_at).where(RateBucket.name == BUCKET))
            db.session.commit()
            if force or checked is None or now - checked > QUOTA_REFRESH:
                try:
                    quota = self.quota_reader.read_quota()
                except Exception as exc:  # keep sending at the last known rate
                    log.warning("cannot read the SES quota: %s", exc)
        row = self._row()
        if fixed is not None or self.quota_reader is None:
            self.ceiling = fixed or DEFAULT_RATE
            row.max_24h = None
            row.quota_checked_at = now
        elif quota is not None:
            self.ceiling = max(quota.max_send_rate, 0.1)
            row.max_24h, row.sent_last_24h = quota.max_24h, quota.sent_last_24h
            row.quota_checked_at = now
        if row.rate <= 0 or row.rate > self.ceiling:
            row.rate = self.ceiling
        db.session.commit()

    def acquire(self, want: int, minimum: int = 1) -> Grant:
        row = self._row()
        state = self._state(row)
        grant = state.take(self.now(), self.ceiling, want, minimum)
        self._store(row, state)
        return grant

    def refund(self, tokens: int) -> None:
        if tokens <= 0:
            return
        row = self._row()
        state = self._state(row)
        state.give_back(tokens)
        self._store(row, state)

    def throttled(self) -> None:
        """SES said 429: slow down once per back-off window (commits)."""
        row = self._row()
        state = self._state(row)
        if state.slow_down(self.now(), self.ceiling):
            log.info("throttled: rate now %.1f/s", state.rate)
        self._store(row, state)
        db.session.commit()


def current_rate() -> float:
    """The rate estimates use: the bucket's, else the configured/default one."""
    row = db.session.get(RateBucket, BUCKET)
    if row is not None and row.rate > 0:
        return row.rate
    return configured_rate() or DEFAULT_RATE


def remaining_24h() -> int | None:
    row = db.session.get(RateBucket, BUCKET)
    if row is None or row.max_24h is None or configured_rate() is not None:
        return None
    return max(0, row.max_24h - (row.sent_last_24h or 0))
