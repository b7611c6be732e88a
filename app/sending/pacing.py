"""Pacing: one token bucket for the whole SES account, shared by every worker
through a ``RateBucket`` row locked with SELECT ... FOR UPDATE (PostgreSQL;
SQLite serialises writers anyway).

The ceiling comes from the account quota (``GetAccount``: MaxSendRate) or from
``SEND_RATE``. On throttling the current rate drops by 30% and claims stop for a
short back-off; then it climbs back towards the ceiling (AIMD). The 24-hour
quota is respected by counting what was granted since the quota was read."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import db, utcnow
from app.sending.models import RateBucket

log = logging.getLogger(__name__)

BUCKET = "ses"
DEFAULT_RATE = 50.0          # non-SES transports when SEND_RATE is unset
BURST_SECONDS = 0.25         # how much unused rate may accumulate
BACKOFF_SECONDS = 0.5        # pause after a throttle
DECREASE = 0.7               # rate multiplier on a throttle
RECOVERY_PER_SECOND = 0.2    # fraction of the ceiling regained per second
FLOOR = 0.05                 # never slow below this fraction of the ceiling
QUOTA_REFRESH = timedelta(minutes=5)


@dataclass(frozen=True)
class Grant:
    tokens: int
    wait: float          # seconds to wait before asking again when tokens == 0
    reason: str = ""     # "quota" when the 24-hour quota is used up


def configured_rate() -> float | None:
    rate = current_app.config.get("SEND_RATE")
    return float(rate) if rate not in (None, "") else None


def _bucket() -> RateBucket:
    row = db.session.scalar(select(RateBucket).where(RateBucket.name == BUCKET).with_for_update())
    if row is None:
        row = RateBucket(name=BUCKET, rate=0.0, tokens=0.0, updated_at=utcnow())
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:  # another worker created it first
            db.session.rollback()
            row = db.session.scalar(select(RateBucket).where(RateBucket.name == BUCKET).with_for_update())
    return row


class Pacer:
    """One per worker process; state lives in the database row."""

    def __init__(self, transport: object) -> None:
        self.transport = transport
        self.ceiling = configured_rate() or DEFAULT_RATE

    def refresh_quota(self, force: bool = False) -> None:
        """Read the account quota when it is stale (every worker may; the row
        keeps the latest). SES is asked before the bucket row is locked, so a
        slow quota call never holds up the other workers' token grants."""
        now = utcnow()
        fixed = configured_rate()
        quota = None
        if fixed is None and hasattr(self.transport, "read_quota"):
            checked = db.session.scalar(select(RateBucket.quota_checked_at).where(RateBucket.name == BUCKET))
            db.session.commit()
            if force or checked is None or now - checked > QUOTA_REFRESH:
                try:
                    quota = self.transport.read_quota()  # type: ignore[attr-defined]
                except Exception as exc:  # keep sending at the last known rate
                    log.warning("cannot read the SES quota: %s", exc)
        row = _bucket()
        if fixed is not None or not hasattr(self.transport, "read_quota"):
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

    def acquire(self, want: int, commit: bool = True, minimum: int = 1) -> Grant:
        """Take up to ``want`` tokens now, but none until ``minimum`` are there
        (fewer, larger claims: database round trips do not grow with the rate).
        With ``commit=False`` the bucket row stays locked until the caller
        commits (its claim joins the transaction)."""
        row = _bucket()
        now = utcnow()
        elapsed = max(0.0, (now - row.updated_at).total_seconds()) if row.updated_at else 0.0
        ceiling = self.ceiling
        rate = min(row.rate or ceiling, ceiling)
        throttled = row.throttled_until is not None and row.throttled_until > now
        if not throttled and rate < ceiling:
            rate = min(ceiling, rate + ceiling * RECOVERY_PER_SECOND * elapsed)
        burst = max(1.0, rate * BURST_SECONDS)
        tokens = min(burst, row.tokens + rate * elapsed)
        need = max(1, min(minimum, want, math.floor(burst)))
        remaining = None if row.max_24h is None else max(0, row.max_24h - (row.sent_last_24h or 0))
        if remaining:
            need = min(need, remaining)
        granted = 0 if throttled or tokens < need else min(want, math.floor(tokens))
        if remaining is not None:
            granted = min(granted, remaining)
        row.tokens, row.rate, row.updated_at = tokens - granted, rate, now
        if row.max_24h is not None:
            row.sent_last_24h = (row.sent_last_24h or 0) + granted
        if commit:
            db.session.commit()
        if granted:
            return Grant(granted, 0.0)
        if row.max_24h is not None and (row.sent_last_24h or 0) >= row.max_24h:
            return Grant(0, 60.0, "quota")
        if throttled:
            return Grant(0, (row.throttled_until - now).total_seconds())
        return Grant(0, max(0.005, (need - tokens) / rate))

    def refund(self, tokens: int, commit: bool = True) -> None:
        """Give back tokens that were granted but not used (fewer rows than asked)."""
        if tokens <= 0:
            return
        row = _bucket()
        row.tokens = min(max(1.0, row.rate * BURST_SECONDS), row.tokens + tokens)
        if row.max_24h is not None:
            row.sent_last_24h = max(0, (row.sent_last_24h or 0) - tokens)
        if commit:
            db.session.commit()

    def throttled(self) -> None:
        """SES said 429: slow down once per back-off window and stop granting briefly."""
        row = _bucket()
        now = utcnow()
        if row.throttled_until is None or row.throttled_until <= now:
            row.rate = max(self.ceiling * FLOOR, (row.rate or self.ceiling) * DECREASE)
            row.throttled_until = now + timedelta(seconds=BACKOFF_SECONDS)
            row.tokens = 0.0
            log.info("throttled: rate now %.1f/s", row.rate)
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
