"""Retention: per-recipient events older than the period become daily counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.db import db, utcnow
from app.reports.retention import apply_retention
from app.reports.service import send_report, top_links
from app.sending.feedback import record_event
from app.sending.models import DailyStat, FeedbackEvent
from tests.support.reports import deliveries, make_send


def test_old_events_are_aggregated_into_daily_counts_and_removed(app) -> None:
    now = utcnow()
    old, recent = now - timedelta(days=100), now - timedelta(days=10)
    send = make_send(3, started_at=old - timedelta(hours=1))
    rows = deliveries(send)
    for row in rows:
        record_event(row, "open", when=old)
    record_event(rows[0], "open", when=old + timedelta(minutes=5))
    record_event(rows[0], "click", url="https://example.org/story", when=old)
    record_event(rows[1], "click", url="https://example.org/story", when=recent)
    record_event(rows[2], "hard_bounce", detail="Permanent/General", when=old)
    db.session.commit()
    before = send_report(send)

    assert apply_retention(now=now) == 6
    remaining = db.session.execute(select(FeedbackEvent.kind, FeedbackEvent.occurred_at)).all()
    assert remaining == [("click", recent)]
    stats = {(s.kind, s.url, s.day.date()): s.count for s in db.session.scalars(select(DailyStat))}
    assert stats == {
        ("open", "", old.date()): 4,
        ("open:unique", "", old.date()): 3,
        ("click", "https://example.org/story", old.date()): 1,
        ("click:unique", "", old.date()): 1,
        ("hard_bounce", "", old.date()): 1,
        ("hard_bounce:unique", "", old.date()): 1,
    }
    after = send_report(send)
    assert [(s.key, s.count) for s in after.steps] == [(s.key, s.count) for s in before.steps]
    assert after.totals == before.totals
    assert top_links(send) == [("https://example.org/story", 2, 1)]

    assert apply_retention(now=now) == 0  # idempotent
    assert sum(s.count for s in db.session.scalars(select(DailyStat))) == 11


def test_retention_period_is_configurable(app) -> None:
    app.config["RETENTION_DAYS"] = 5
    row = deliveries(make_send(1))[0]
    record_event(row, "open", when=utcnow() - timedelta(days=6))
    db.session.commit()
    assert apply_retention() == 1


def test_the_worker_applies_retention(app, runner) -> None:
    row = deliveries(make_send(1))[0]
    record_event(row, "click", url="https://example.org/x", when=utcnow() - timedelta(days=200))
    db.session.commit()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(FeedbackEvent)) == 0
    assert db.session.scalar(select(func.sum(DailyStat.count)).where(DailyStat.kind == "click")) == 1
