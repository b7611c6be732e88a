"""Worker fault tests against the local fake SES: throttling, 5xx, latency,
SIGKILLed worker processes, and several workers sharing one send."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from app.db import db, utcnow
from app.sending import service
from app.sending.models import Delivery, Send
from app.sending.worker import run_worker, worker_for
from tests.support.fake_ses import FakeSes
from tests.support.sending import make_issue, make_list

FORK = multiprocessing.get_context("fork")


@pytest.fixture
def fake_ses(monkeypatch):
    """Start a fake SES and point boto3 at it (the ``ses`` transport)."""

    def start(**options) -> FakeSes:
        server = FakeSes(**options).__enter__()
        started.append(server)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", server.url)
        return server

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    started: list[FakeSes] = []
    yield start
    for server in started:
        server.__exit__()


def running_send(count: int, at_offset: float = -1.0) -> Send:
    issue = make_issue()
    readers = make_list("Readers", count)
    created = service.create_send(issue, [readers], at=utcnow() + timedelta(seconds=at_offset))
    db.session.commit()
    return created


def _child(config: dict, env: dict[str, str], once: bool) -> None:
    os.environ.update(env)
    app = create_app(config)
    run_worker(app, once=once)


def spawn_worker(app, ses: FakeSes, once: bool = False, **overrides: object) -> multiprocessing.Process:
    """A worker in a forked child process (the same code as ``pressroom
    worker``, without paying the interpreter start-up each time)."""
    config = {
        key: app.config[key]
        for key in ("DATABASE_URL", "SECRET_KEY", "BASE_URL", "TESTING", "MEDIA_URL", "RATELIMIT_STORAGE_URI")
    }
    config.update(TRANSPORT="ses", SEND_POLL_SECONDS=0.2, **overrides)
    db.session.remove()
    process = FORK.Process(target=_child, args=(config, {"AWS_ENDPOINT_URL_SESV2": ses.url}, once))
    process.start()
    return process


def test_latency_throttling_and_5xx_end_with_everyone_sent_once(app, fake_ses):
    # The fake allows 100/s but we ask for 200/s: real 429s, plus injected 429s and 503s.
    ses = fake_ses(latency=0.02, rate=100, p_throttle=0.02, p_error=0.05)
    app.config.update(TRANSPORT="ses", SEND_RATE=200, SEND_THREADS=16)
    send = running_send(200)
    worker_for(app).run(once=True)
    counts = service.counts(send)
    assert counts["sent"] == 200, (counts, service.errors_by_reason(send))
    stats = ses.state.stats()
    assert stats["distinct"] == 200 and stats["duplicates"] == 0
    assert stats["throttled"] > 0 and stats["errors"] > 0  # the faults really happened
    db.session.expire_all()
    assert db.session.get(Send, send.id).status == "finished"


def test_pause_stops_claims_and_loses_nothing(app, fake_ses):
    fake_ses(latency=0.01)
    app.config.update(TRANSPORT="ses", SEND_RATE=50, SEND_THREADS=4)
    send = running_send(40)
    worker = worker_for(app)
    original = worker.store.record

    def record_then_pause(decisions, worker_id):  # an operator pauses after the first results
        original(decisions, worker_id)
        if decisions and db.session.get(Send, send.id).status == "running":
            service.pause(db.session.get(Send, send.id))

    worker.store.record = record_then_pause
    worker.run(once=True)
    counts = service.counts(send)
    assert counts["queued"] > 0 and counts["claimed"] == 0
    assert counts["sent"] + counts["queued"] == 40
    db.session.expire_all()
    service.resume(db.session.get(Send, send.id))
    db.session.commit()
    worker_for(app).run(once=True)
    assert service.counts(send)["sent"] == 40


def test_sigkilled_workers_lose_nobody_and_duplicate_only_unknown(app, fake_ses):
    ses = fake_ses(latency=0.05)
    send_id = running_send(150).id
    options = {"SEND_RATE": 60, "SEND_LEASE_SECONDS": 1, "SEND_THREADS": 8}
    rng = random.Random(8)
    for _ in range(4):
        process = spawn_worker(app, ses, **options)
        # Kill mid-batch: once this worker has had some messages accepted.
        target = sum(ses.state.counts.values()) + rng.randint(5, 25)
        deadline = time.monotonic() + 60
        while sum(ses.state.counts.values()) < target and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.join()
    time.sleep(1.1)  # let the dead workers' leases expire
    finish = spawn_worker(app, ses, once=True, **options)
    finish.join(120)
    assert finish.exitcode == 0

    rows = dict(db.session.execute(select(Delivery.email, Delivery.status).where(Delivery.send_id == send_id)).all())
    accepted = ses.state.counts
    assert set(rows.values()) <= {"sent", "unknown"}, rows
    assert all(accepted[email] == 1 for email, status in rows.items() if status == "sent")
    assert all(accepted[email] <= 1 for email in rows)  # nothing resent automatically
    unknown = {email for email, status in rows.items() if status == "unknown"}
    assert unknown, "the kills should have caught messages in flight"
    assert db.session.get(Send, send_id).status == "finished"

    # The admin decides to resend to the unknown ones: only they may get two.
    assert service.resend_unknown(db.session.get(Send, send_id)) == len(unknown)
    db.session.commit()
    finish = spawn_worker(app, ses, once=True, **options)
    finish.join(120)
    db.session.expire_all()
    assert service.counts(db.session.get(Send, send_id))["sent"] == 150
    assert all(accepted[email] >= 1 for email in rows)  # no recipient lost
    assert {email for email in rows if accepted[email] > 1} <= unknown


@pytest.mark.postgres_only
@pytest.mark.parametrize("workers", [2, 4])
def test_workers_share_a_send_without_claiming_twice(app, fake_ses, workers):
    ses = fake_ses(latency=0.03)
    send_id = running_send(300, at_offset=2.0).id  # every worker is up before it is due
    processes = [spawn_worker(app, ses, SEND_RATE=150, SEND_THREADS=4) for _ in range(workers)]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.get(Send, send_id).status == "finished":
            break
        time.sleep(0.2)
    for process in processes:  # graceful stop
        os.kill(process.pid, signal.SIGTERM)
        process.join(60)
        assert process.exitcode == 0
    counts = service.counts(db.session.get(Send, send_id))
    assert counts["sent"] == 300
    assert ses.state.stats()["duplicates"] == 0 and ses.state.stats()["distinct"] == 300
    # Each row was claimed exactly once, and the work really was shared.
    assert db.session.scalar(select(func.max(Delivery.attempts)).where(Delivery.send_id == send_id)) == 1
    sharing = db.session.scalar(
        select(func.count(func.distinct(Delivery.worker_id))).where(Delivery.send_id == send_id)
    )
    assert sharing >= 2


def test_sigterm_finishes_or_releases_the_batch(app, fake_ses):
    ses = fake_ses(latency=0.05)
    send_id = running_send(200).id
    process = spawn_worker(app, ses, SEND_RATE=80, SEND_THREADS=8)
    deadline = time.monotonic() + 60
    while sum(ses.state.counts.values()) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGTERM)
    process.join(60)
    assert process.exitcode == 0
    counts = service.counts(db.session.get(Send, send_id))
    assert counts["claimed"] == 0 and counts["unknown"] == 0
    assert counts["sent"] == sum(ses.state.counts.values()) and counts["queued"] == 200 - counts["sent"]
    assert counts["queued"] > 0  # it stopped before the end


def test_account_paused_pauses_the_send_and_loses_nothing(app, fake_ses):
    ses = fake_ses(paused=True)
    app.config.update(TRANSPORT="ses", SEND_RATE=50)
    send = running_send(10)
    worker_for(app).run(once=True)
    db.session.expire_all()
    send = db.session.get(Send, send.id)
    assert send.status == "paused" and "SendingPaused" in send.pause_reason
    assert service.counts(send)["queued"] == 10
    ses.state.paused = False
    service.resume(send)
    db.session.commit()
    worker_for(app).run(once=True)
    assert service.counts(send)["sent"] == 10


def test_24_hour_quota_is_respected_and_estimated(app, fake_ses):
    ses = fake_ses(rate=100, max_24h=6)
    app.config.update(TRANSPORT="ses", SEND_RATE=None)
    issue = make_issue()
    readers = make_list("Readers", 9)
    from app.mail import get_transport
    from app.sending.pacing import SqlPacer

    SqlPacer(get_transport()).refresh_quota(force=True)
    estimate = service.estimate([readers])
    assert (estimate.recipients, estimate.remaining_24h, estimate.fits_quota) == (9, 6, False)
    send = service.create_send(issue, [readers])
    db.session.commit()
    worker_for(app).run(once=True)  # stops when the quota is used up
    counts = service.counts(send)
    assert counts["sent"] == 6 and counts["queued"] == 3 and sum(ses.state.counts.values()) == 6
