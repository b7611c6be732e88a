"""Review fixes in delivery: concurrent scheduling, cancelled sends, bad input, erasure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from app.db import db, utcnow
from app.sending import schedule, service
from app.sending.models import Delivery, Send
from app.sending.ports import Decision, Verdict
from app.sending.service import SendError
from app.sending.worker import worker_for
from app.settings import set_setting
from app.subscribers.models import MailingList
from tests.support.sending import make_issue, make_list, recount_sends


def test_second_concurrent_create_send_is_refused(app, monkeypatch):
    set_setting("require_approval", False)
    issue = make_issue(status="draft")
    lst = make_list("Readers", 3)
    service.create_send(issue, [lst])
    db.session.commit()
    # A second request read the issue (still draft) and passed check_sendable
    # before the first committed: simulate that window.
    set_committed_value(issue, "status", "draft")
    monkeypatch.setattr(service, "check_sendable", lambda issue: None)
    with pytest.raises(SendError, match="someone else"):
        service.create_send(issue, [lst])
    assert db.session.scalar(select(func.count()).select_from(Send)) == 1
    db.session.expire_all()
    assert issue.status == "scheduled"


def test_rows_back_in_the_queue_after_cancel_end_skipped(app):
    issue = make_issue()
    make_list("Readers", 4)
    send = service.create_send(issue, [db.session.scalar(select(MailingList))])
    db.session.commit()
    service.start_send(send.id)
    db.session.commit()
    worker = worker_for(app)
    with worker.store.cycle():
        _, claimed = worker.store.claim(send.id, 2, worker.id, timedelta(minutes=5))
    assert service.cancel(send) == 2  # the two still queued
    db.session.commit()
    # One claimed row gets a transient answer, the other is released on stop.
    with worker.store.cycle():
        worker.store.record(
            [Decision(claimed[0].delivery_id, Verdict.RETRY, error="throttled", retry_at=utcnow(), attempts=1)],
            worker.id,
        )
    worker.store.release(worker.id)
    counts = service.counts(send)
    assert counts["queued"] == 0 and counts["claimed"] == 0
    assert counts["skipped"] == 4 == sum(counts.values())


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("0001-01-01T00:00+05:00", "UTC"),
        ("9999-12-31T23:00-05:00", "UTC"),
        ("0001-01-01T00:00", "Europe/Paris"),
        ("9999-12-31T23:59", "America/New_York"),
    ],
)
def test_schedule_at_the_ends_of_the_calendar_is_a_clear_refusal(text, zone):
    with pytest.raises(SendError, match="out of range"):
        schedule.parse_schedule(text, zone)


def test_erasure_skips_queued_rows_but_leaves_claimed_ones_to_their_worker(app):
    from app.sending.erasure import erase_subscriber as delete_subscriber
    from app.subscribers.models import Subscriber

    issue = make_issue()
    make_list("Readers", 2)
    send = service.create_send(issue, [db.session.scalar(select(MailingList))])
    db.session.commit()
    service.start_send(send.id)
    db.session.commit()
    worker = worker_for(app)
    with worker.store.cycle():
        _, [in_flight] = worker.store.claim(send.id, 1, worker.id, timedelta(minutes=5))
    for subscriber in db.session.scalars(select(Subscriber)).all():
        delete_subscriber(subscriber)
    counts = service.counts(send)
    assert counts["claimed"] == 1 and counts["skipped"] == 1
    row = db.session.get(Delivery, in_flight.delivery_id)
    assert row.status == "claimed" and row.email == ""


def test_resend_unknown_reopens_a_send_finished_behind_a_stale_object(app):
    issue = make_issue()
    make_list("Readers", 2)
    send = service.create_send(issue, [db.session.scalar(select(MailingList))])
    db.session.commit()
    service.start_send(send.id)
    db.session.commit()
    db.session.execute(Delivery.__table__.update().where(Delivery.send_id == send.id).values(status="unknown"))
    recount_sends()
    db.session.commit()
    db.session.refresh(send)
    # A worker finishes the send after this request loaded it as running.
    assert service.finish_if_done(send.id)
    db.session.commit()
    set_committed_value(send, "status", "running")
    assert service.resend_unknown(send) == 2
    db.session.expire_all()
    assert send.status == "running" and send.finished_at is None
    assert issue.status == "sending"


def test_counts_for_many_sends_match_counts_of_each(app):
    make_list("Readers", 3)
    lst = db.session.scalar(select(MailingList))
    sends = []
    for slug in ("one", "two"):
        send = service.create_send(make_issue(slug=slug), [lst])
        db.session.commit()
        service.start_send(send.id)
        db.session.commit()
        sends.append(send)
    db.session.execute(Delivery.__table__.update().where(Delivery.send_id == sends[1].id).values(status="sent"))
    recount_sends()
    db.session.commit()
    expected = {send.id: service.counts(send) for send in sends}
    assert service.counts_for([s.id for s in sends]) == expected
    assert expected[sends[0].id]["queued"] == 3 and expected[sends[1].id]["sent"] == 3
