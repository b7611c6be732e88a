"""The shared token bucket against the account quota SES reports."""

from __future__ import annotations

import time

from app.mail.ses import Quota, _daily_limit
from app.sending.pacing import SqlPacer as Pacer


class QuotaTransport:
    """A transport whose account quota is whatever the test says."""

    def __init__(self, quota: Quota) -> None:
        self.quota = quota
        self.reads = 0

    def read_quota(self) -> Quota:
        self.reads += 1
        return self.quota

    def send(self, message):  # pragma: no cover - never called here
        raise AssertionError("no sending in pacing tests")


def test_unlimited_daily_quota_is_no_limit(app):
    # SES reports an unlimited 24-hour quota as -1.
    assert _daily_limit(-1.0) is None and _daily_limit(200.0) == 200
    pacer = Pacer(QuotaTransport(Quota(max_send_rate=100.0, max_24h=None, sent_last_24h=5_000_000)))
    pacer.refresh_quota(force=True)
    time.sleep(0.05)
    grant = pacer.acquire(5)
    assert grant.tokens > 0 and grant.reason != "quota"


def test_used_up_daily_quota_grants_nothing(app):
    pacer = Pacer(QuotaTransport(Quota(max_send_rate=100.0, max_24h=200, sent_last_24h=200)))
    pacer.refresh_quota(force=True)
    time.sleep(0.05)
    grant = pacer.acquire(5)
    assert grant.tokens == 0 and grant.reason == "quota"


def test_quota_is_read_only_when_stale(app):
    transport = QuotaTransport(Quota(max_send_rate=10.0, max_24h=1000, sent_last_24h=0))
    Pacer(transport).refresh_quota(force=True)
    Pacer(transport).refresh_quota()  # another worker, moments later: the row is fresh
    assert transport.reads == 1
