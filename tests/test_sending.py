"""Sends: scheduling rules, recipients, CLI, and a whole send through moto's SES."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, update

from app.db import db
from app.sending import schedule, service
from app.sending.models import Delivery, Send
from app.sending.ports import SystemClock
from app.sending.service import SendError
from app.sending.sql_store import SqlDeliveryStore
from app.sending.worker import worker_for
from app.settings import set_setting
from app.subscribers.suppression import suppress
from tests.support.sending import make_issue, make_list, subscriber_id


def outbox_messages(app) -> list[email.message.Message]:
    outbox = Path(app.config["TRANSPORT"].removeprefix("outbox:"))
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(outbox.glob("*.eml"))]


# --- scheduling ----------------------------------------------------------------


def test_schedule_time_is_stored_as_the_utc_instant(app):
    assert schedule.parse_schedule("2026-03-29T09:00+02:00") == datetime(2026, 3, 29, 7, 0)
    # Local time in the editor's zone, either side of the spring-forward change.
    assert schedule.parse_schedule("2026-03-28T09:00", "Europe/Paris") == datetime(2026, 3, 28, 8, 0)
    assert schedule.parse_schedule("2026-03-29T09:00", "Europe/Paris") == datetime(2026, 3, 29, 7, 0)
    with pytest.raises(SendError, match="does not exist"):
        schedule.parse_schedule("2026-03-29T02:30", "Europe/Paris")
    with pytest.raises(SendError, match="happens twice"):
        schedule.parse_schedule("2026-10-25T02:30", "Europe/Paris")
    # An explicit offset resolves the ambiguity.
    assert schedule.parse_schedule("2026-10-25T02:30+01:00", "Europe/Paris") == datetime(2026, 10, 25, 1, 30)
    with pytest.raises(SendError, match="ISO 8601"):
        schedule.parse_schedule("tomorrow")


def test_send_needs_approval_when_required(app, users):
    issue = make_issue(status="draft")
    lst = make_list("Readers", 3)
    set_setting("require_approval", True)
    with pytest.raises(SendError, match="approved"):
        service.create_send(issue, [lst])
    assert db.session.scalar(select(func.count()).select_from(Send)) == 0
    set_setting("require_approval", False)
    send = service.create_send(issue, [lst], user=users["editor"])
    db.session.commit()
    assert send.status == "scheduled" and issue.status == "scheduled"
    with pytest.raises(SendError, match="already"):
        service.create_send(issue, [lst])


def test_recipients_deduplicated_active_and_unsuppressed(app):
    issue = make_issue()
    first = make_list("First", 10)  # r0..r9
    second = make_list("Second", 10, start=5)  # r5..r14: r5..r9 on both
    make_list("Pending", 3, start=20, status="pending")
    suppress("r1@example.com", "hard-bounce")
    send = service.create_send(issue, [second, first], at=datetime.now(UTC) - timedelta(seconds=1))
    db.session.commit()
    assert service.estimate([first, second]).recipients == 14
    assert service.start_send(send.id)
    db.session.commit()
    assert not service.start_send(send.id)  # a second worker loses the race
    rows = db.session.execute(select(Delivery.email, Delivery.list_id).where(Delivery.send_id == send.id)).all()
    assert len(rows) == 14 == send.recipient_count
    assert "r1@example.com" not in {e for e, _ in rows}
    assert dict(rows)["r7@example.com"] == min(first.id, second.id)
    assert send.issue.status == "sending" and send.subject == "Hello readers"


# --- whole sends -----------------------------------------------------------------


def test_cli_send_worker_once_and_show(app, runner):
    issue = make_issue()
    make_list("Readers", 5)
    result = runner.invoke(args=["send", issue.slug, "--list", "Readers"])
    assert result.exit_code == 0, result.output
    assert "5 recipients" in result.output
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    shown = runner.invoke(args=["sends", "show", issue.slug]).output.splitlines()
    assert shown == ["queued 0", "claimed 0", "sent 5", "failed 0", "skipped 0", "unknown 0", "status finished"]
    messages = outbox_messages(app)
    assert sorted(parseaddr(m["To"])[1] for m in messages) == [f"r{i}@example.com" for i in range(5)]
    assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in messages)
    db.session.expire_all()
    assert issue.status == "sent"


def test_cli_recount_repairs_counts_after_a_manual_update(app, runner):
    issue = make_issue()
    make_list("Readers", 4)
    runner.invoke(args=["send", issue.slug, "--list", "Readers"])
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    # An operator marks one row failed by hand: the kept counts no longer match the rows.
    send = service.latest_send(issue)
    first = db.session.scalar(select(func.min(Delivery.id)).where(Delivery.send_id == send.id))
    db.session.execute(update(Delivery).where(Delivery.id == first).values(status="failed", error="manual"))
    db.session.commit()
    assert runner.invoke(args=["sends", "show", issue.slug]).output.splitlines()[2:4] == ["sent 4", "failed 0"]
    result = runner.invoke(args=["sends", "recount", issue.slug])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2:4] == ["sent 3 (was 4)", "failed 1 (was 0)"]
    assert runner.invoke(args=["sends", "show", issue.slug]).output.splitlines()[2:4] == ["sent 3", "failed 1"]


def test_cli_refusals_are_clear(app, runner):
    issue = make_issue(status="draft")
    make_list("Readers", 1)
    set_setting("require_approval", True)
    result = runner.invoke(args=["send", issue.slug, "--list", "Readers"])
    assert result.exit_code != 0 and "approved" in result.output
    result = runner.invoke(args=["send", issue.slug, "--list", "Nope"])
    assert result.exit_code != 0 and "No list" in result.output
    set_setting("reader_timezone", "Europe/Paris")
    set_setting("require_approval", False)
    result = runner.invoke(args=["send", issue.slug, "--list", "Readers", "--at", "2026-03-29T02:30"])
    assert result.exit_code != 0 and "does not exist" in result.output
    result = runner.invoke(args=["send", issue.slug, "--list", "Readers", "--at", "2026-01-05T09:00"])
    assert result.exit_code != 0 and "2026-01-05 09:00 CET in Europe/Paris has already passed" in result.output
    assert runner.invoke(args=["sends", "show", issue.slug]).exit_code != 0


def test_pause_resume_cancel_resend_unknown(app, runner):
    issue = make_issue()
    make_list("Readers", 6)
    runner.invoke(args=["send", issue.slug, "--list", "Readers"])
    send = service.latest_send(issue)
    service.start_send(send.id)
    db.session.commit()
    assert runner.invoke(args=["sends", "pause", issue.slug]).exit_code == 0
    worker_for(app).run(once=True)  # nothing claimable while paused
    assert service.counts(send)["queued"] == 6
    assert runner.invoke(args=["sends", "resume", issue.slug]).exit_code == 0
    # Two rows were claimed by a worker that died: their lease expired.
    dead = SqlDeliveryStore(app, SystemClock())
    with dead.cycle():
        assert dead.claim(send.id, 2, "dead", timedelta(seconds=-1))[0] == 2
    worker_for(app).run(once=True)
    counts = service.counts(send)
    assert counts["sent"] == 4 and counts["unknown"] == 2
    db.session.refresh(send)
    assert send.status == "finished"
    result = runner.invoke(args=["sends", "resend-unknown", issue.slug])
    assert "2 recipients queued again" in result.output
    worker_for(app).run(once=True)
    assert service.counts(send)["sent"] == 6
    db.session.expire_all()  # the worker ran in its own session
    result = runner.invoke(args=["sends", "cancel", issue.slug])
    assert result.exit_code != 0 and "finished" in result.output


def test_moto_ses_send_to_300_with_suppressed_and_mid_send_unsubscribe(app, aws):
    import boto3

    boto3.client("sesv2").create_email_identity(EmailIdentity="newsletter@example.com")
    app.config.update(TRANSPORT="ses", SEND_RATE=1000, SEND_THREADS=8)
    issue = make_issue()
    readers = make_list("Readers", 302)
    suppress("r300@example.com", "complaint")
    send = service.create_send(issue, [readers])
    db.session.commit()
    service.start_send(send.id)
    db.session.commit()
    assert send.recipient_count == 301
    # r301 unsubscribes after the send started (its row exists, it must be skipped).
    from app.subscribers.models import Subscription

    db.session.execute(
        Subscription.__table__.update()
        .where(Subscription.subscriber_id == subscriber_id("r301@example.com"))
        .values(status="unsubscribed")
    )
    db.session.commit()
    worker_for(app).run(once=True)

    # moto keeps raw sends under ses.RawMessage; "destinations" lists the
    # Destination addresses and the To header, so the same address twice.
    sent = requests.get(f"{aws}/moto-api/data.json", timeout=10).json()["ses"]["RawMessage"]
    recipients = sorted(r for m in sent for r in {parseaddr(d)[1] for d in m["destinations"]})
    assert recipients == sorted(f"r{i}@example.com" for i in range(300))
    raw = email.message_from_string(sent[0]["raw_data"])
    assert raw["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/unsubscribe/")
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert raw["Subject"] == "Hello readers"
    counts = service.counts(send)
    assert counts == {"queued": 0, "claimed": 0, "sent": 300, "failed": 0, "skipped": 1, "unknown": 0}
    assert sum(counts.values()) == send.recipient_count


def test_a_send_that_cannot_be_built_pauses_with_the_reason_and_claims_nothing(app):
    issue = make_issue()
    readers = make_list("Readers", 3)
    readers.from_address = "not an address"
    db.session.commit()
    send = service.create_send(issue, [readers])
    db.session.commit()
    worker_for(app).run(once=True)
    db.session.expire_all()
    assert send.status == "paused" and "not an email address" in send.pause_reason
    assert service.counts(send)["queued"] == 3
