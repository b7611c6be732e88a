"""Creating a send's deliveries in chunks of subscriber ids.

One INSERT ... SELECT of a million rows took 75 s (each row checks three
foreign keys and fills four indexes) with nothing sent meanwhile. So the
audience is fixed when the send starts (every subscriber up to the highest id
then, the condition read as of the start), the first chunk is written with
the start, and workers write the rest, chunk by chunk: each chunk is one
INSERT ... SELECT of the same recipient query (no per-row Python) in its own
transaction with the cursor ``Send.prepared_through``, taken by a conditional
UPDATE so two workers never write the same chunk, and the unique (send,
subscriber) pair would refuse a second row anyway. A crash between chunks
loses nothing: the next worker goes on from the cursor. A send is never
finished while chunks remain (``finish_if_done``), a paused one waits, a
cancelled one stops. Suppression and unsubscribes are read as each chunk is
written and again when each message is claimed."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import func, insert, literal, select, update

from app.db import db, rowcount, utcnow
from app.sending import tally
from app.sending.models import Delivery, DeliveryStatus, Send, SendStatus
from app.sending.recipients import recipients_select
from app.subscribers.models import Subscriber

__all__ = ["DEFAULT_CHUNK", "begin", "prepare_pending", "preparing"]

DEFAULT_CHUNK = 100_000  # subscribers looked at per chunk: ~2-3 s of writing for a whole list


def _chunk() -> int:
    return max(1, int(current_app.config.get("SEND_PREPARE_CHUNK", DEFAULT_CHUNK)))


def _next_high(low: int, until: int) -> int:
    """The id of the chunk's last subscriber (chunks count subscribers, not ids: ids have gaps)."""
    high = db.session.scalar(
        select(Subscriber.id).where(Subscriber.id > low).order_by(Subscriber.id).offset(_chunk() - 1).limit(1)
    )
    return until if high is None or high >= until else high


def _write(send: Send, low: int, high: int) -> None:
    """The deliveries of subscribers low < id <= high; then the send's counts and range."""
    list_ids = [lst.id for lst in send.lists]
    rows = (
        recipients_select(list_ids, send.segment_expression, as_of=send.started_at)
        .where(Subscriber.id > low, Subscriber.id <= high)
        .subquery()
    )
    db.session.execute(
        insert(Delivery).from_select(
            ["send_id", "subscriber_id", "list_id", "email", "status", "attempts", "updated_at"],
            select(
                literal(send.id),
                rows.c[0],
                rows.c[1],
                rows.c[2],
                literal(DeliveryStatus.QUEUED.value),
                literal(0),
                literal(utcnow()),
            ),
        )
    )
    # The (send_id, subscriber_id) index finds exactly this chunk's rows.
    count, first, last = db.session.execute(
        select(func.count(), func.min(Delivery.id), func.max(Delivery.id)).where(
            Delivery.send_id == send.id, Delivery.subscriber_id > low, Delivery.subscriber_id <= high
        )
    ).one()
    if count:
        send.recipient_count = (send.recipient_count or 0) + int(count)
        send.first_delivery_id = first if send.first_delivery_id is None else min(send.first_delivery_id, first)
        send.last_delivery_id = last if send.last_delivery_id is None else max(send.last_delivery_id, last)
        tally.add({(send.id, DeliveryStatus.QUEUED.value): int(count)})
    send.prepared_through = None if high >= (send.prepare_until or 0) else high


def begin(send: Send) -> None:
    """At the start (in its transaction): fix the audience's bound and write the first chunk."""
    until = db.session.scalar(select(func.max(Subscriber.id))) or 0
    start = (db.session.scalar(select(func.min(Subscriber.id))) or 1) - 1
    send.recipient_count, send.first_delivery_id, send.last_delivery_id = 0, None, None
    send.prepare_until, send.prepared_through = until, start
    _write(send, start, _next_high(start, until))


def _take_chunk(send_id: int) -> bool:
    """Write the next chunk of a running send if no other worker took it; commits."""
    send = db.session.get(Send, send_id)
    if send is None or send.status != SendStatus.RUNNING or send.prepared_through is None:
        db.session.rollback()
        return False
    low, until = send.prepared_through, send.prepare_until or 0
    high = _next_high(low, until)
    taken = db.session.execute(
        update(Send)
        .where(Send.id == send_id, Send.status == SendStatus.RUNNING, Send.prepared_through == low)
        .values(prepared_through=high)
        .execution_options(synchronize_session=False)
    )
    if rowcount(taken) != 1:
        db.session.rollback()
        return False
    _write(send, low, high)
    db.session.commit()
    return True


def preparing() -> list[int]:
    return list(
        db.session.scalars(
            select(Send.id)
            .where(Send.status == SendStatus.RUNNING, Send.prepared_through.is_not(None))
            .order_by(Send.started_at, Send.id)
        )
    )


def prepare_pending(budget: float = 2.0, *, only: int | None = None) -> int:
    """Write chunks of running sends (or of the one send ``only``) for about
    ``budget`` seconds (the worker calls this between sending); returns how
    many chunks were written. Commits after each chunk."""
    deadline, written = time.monotonic() + budget, 0
    for send_id in [only] if only is not None else preparing():
        while time.monotonic() < deadline and _take_chunk(send_id):
            written += 1
        if time.monotonic() >= deadline:
            break
    db.session.commit()
    return written
