"""A send's deliveries written in chunks (app.sending.preparation): the first
with the start, the rest by the worker; exactly one delivery per reader
whatever happens between chunks (a second worker, a crash, a cancel), the
send never finished early, the audience fixed at the start."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.db import db
from app.sending import preparation, service
from app.sending.models import Delivery, Send
from app.sending.worker import worker_for
from app.subscribers.models import Subscription
from app.subscribers.suppression import suppress
from tests.support.sending import make_issue, make_list, subscriber_id


@pytest.fixture
def chunked(app):
    app.config["SEND_PREPARE_CHUNK"] = 3
    return app


def _rows(send_id: int) -> list[tuple[int, int]]:
    return db.session.execute(
        select(Delivery.subscriber_id, func.count()).where(Delivery.send_id == send_id).group_by(Delivery.subscriber_id)
    ).all()


def _started(count: int = 10):
    readers = make_list("Readers", count)
    send = service.create_send(make_issue(), [readers])
    db.session.commit()
    assert service.start_send(send.id)
    db.session.commit()
    return send, readers


def test_the_first_chunk_comes_with_the_start_and_the_worker_writes_the_rest(chunked) -> None:
    suppress("r4@example.com", "complaint")
    db.session.commit()
    send, _ = _started(10)
    assert send.recipient_count == 3 and send.prepared_through is not None  # r0-r2
    assert not service.finish_if_done(send.id)  # nothing queued is not "done" while chunks remain
    db.session.execute(update(Delivery).where(Delivery.send_id == send.id).values(status="sent"))
    from tests.support.sending import recount_sends

    recount_sends()
    assert not service.finish_if_done(send.id)
    assert preparation.prepare_pending() == 3  # r3-r5, r6-r8, r9
    db.session.refresh(send)
    assert send.prepared_through is None and send.recipient_count == 9  # r4 is suppressed
    assert sorted(n for _, n in _rows(send.id)) == [1] * 9


def test_the_worker_delivers_every_reader_once_and_finishes(chunked) -> None:
    send, _ = _started(10)
    # Between chunks: r7 unsubscribes (never written), a new reader joins (after the start: not in it).
    db.session.execute(
        update(Subscription)
        .where(Subscription.subscriber_id == subscriber_id("r7@example.com"))
        .values(status="unsubscribed")
    )
    make_list("Later", 1, start=100)
    db.session.execute(
        update(Subscription)
        .where(Subscription.subscriber_id == subscriber_id("r100@example.com"))
        .values(list_id=send.lists[0].id)
    )
    db.session.commit()
    worker_for(chunked).run(once=True)
    db.session.refresh(send)
    assert send.status == "finished" and send.prepared_through is None
    folder = Path(chunked.config["TRANSPORT"].removeprefix("outbox:"))
    to = sorted(
        message_from_bytes(p.read_bytes(), policy=policy.default)["To"].addresses[0].addr_spec
        for p in folder.glob("*.eml")
    )
    assert to == sorted(f"r{i}@example.com" for i in range(10) if i != 7)


def test_two_workers_never_write_the_same_chunk(chunked, monkeypatch) -> None:
    send, _ = _started(10)
    original = preparation._next_high
    raced = []

    def other_worker_first(low: int, until: int) -> int:
        high = original(low, until)
        if not raced:  # while this worker decides, another takes the same chunk and commits
            raced.append(low)
            assert preparation._take_chunk(send.id)
        return high

    monkeypatch.setattr(preparation, "_next_high", other_worker_first)
    assert not preparation._take_chunk(send.id)  # its conditional UPDATE finds the cursor moved
    monkeypatch.setattr(preparation, "_next_high", original)
    preparation.prepare_pending()
    assert sorted(n for _, n in _rows(send.id)) == [1] * 10


def test_a_crash_mid_chunk_loses_nothing_and_doubles_nothing(chunked, monkeypatch) -> None:
    send, _ = _started(10)

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(preparation, "_write", crash)
    with pytest.raises(RuntimeError):
        preparation._take_chunk(send.id)
    db.session.rollback()  # the chunk's transaction never committed: the cursor did not move
    monkeypatch.undo()
    assert db.session.scalar(select(Send.prepared_through).where(Send.id == send.id)) is not None
    preparation.prepare_pending()
    assert sorted(n for _, n in _rows(send.id)) == [1] * 10


def test_a_cancelled_or_paused_send_writes_no_more_chunks(chunked) -> None:
    send, _ = _started(10)
    service.pause(send)
    db.session.commit()
    assert preparation.prepare_pending() == 0
    service.resume(send)
    db.session.commit()
    assert preparation.prepare_pending(budget=0.0) == 0  # no time given: nothing
    assert preparation._take_chunk(send.id)
    service.cancel(send)
    db.session.commit()
    assert preparation.prepare_pending() == 0
    assert db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.send_id == send.id)) == 6


def test_later_chunks_read_the_segment_as_of_the_start(chunked) -> None:
    """The last send is the one finished by the start, even if another finishes
    while the chunks are written, so every chunk is judged alike."""
    from datetime import timedelta

    from app.db import utcnow
    from app.segments.sql_schema import SqlSegmentSchema

    readers = make_list("Readers", 2)
    start = utcnow()
    older, newer = (service.create_send(make_issue(slug), [readers]) for slug in ("a", "b"))
    db.session.flush()
    for send, finished in ((older, start - timedelta(hours=1)), (newer, start + timedelta(minutes=1))):
        send.status, send.started_at, send.finished_at = "finished", finished - timedelta(minutes=5), finished
    db.session.commit()
    recent = SqlSegmentSchema([readers.id], as_of=start).recent_sends(1)
    assert list(db.session.scalars(recent)) == [older.id]
    assert list(db.session.scalars(SqlSegmentSchema([readers.id]).recent_sends(1))) == [newer.id]


def test_the_send_page_says_the_list_is_still_being_written(chunked, users) -> None:
    from tests.conftest import login_client

    send, _ = _started(10)
    page = login_client(chunked, users["admin"]).get(f"/admin/sends/{send.id}").get_data(as_text=True)
    assert "3 recipients" in page and "still writing the recipient list" in page
    preparation.prepare_pending()
    page = login_client(chunked, users["admin"]).get(f"/admin/sends/{send.id}").get_data(as_text=True)
    assert "10 recipients" in page and "still writing" not in page
