"""Which send a worker works on, and the sends' own transitions, on SQLAlchemy.

The store's send-level questions (which sends are due, which running one has
rows that can go now, when the next retry is due) need no claim state; they
read ``sends``, the kept counts and the partial retry index. Each commits:
the engine asks them between its cycles."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from app.db import db
from app.sending import preparation, service, tally
from app.sending.models import Delivery, DeliveryStatus, Send, SendStatus

__all__ = [
    "REQUEUED",
    "finish_done",
    "next_with_work",
    "pause",
    "retry_due_times",
    "seconds_to_next_retry",
    "start_due",
    "waiting_retries",
    "work_pending",
]

log = logging.getLogger(__name__)
PREPARE_BUDGET = 2.0  # seconds of delivery writing per housekeeping round (about one per second)
D = DeliveryStatus
# Rows back in the queue with a time: retries, released claims, resent unknowns
# (the partial retry index holds exactly these).
REQUEUED: tuple[ColumnElement[bool], ...] = (Delivery.next_attempt_at.is_not(None), Delivery.status == D.QUEUED)


def start_due(now: datetime, pause_send: Callable[[int, str], None]) -> Iterator[tuple[int, str | None]]:
    """Start the scheduled sends that are due: (send id, None) for each started,
    (send id, error) for one that could not start and was paused. Then write
    the next chunks of deliveries of started sends (for a couple of seconds:
    the worker goes back to sending in between)."""
    for due in service.due_sends(now):
        try:
            started = service.start_send(due)
            db.session.commit()
            if started:
                yield due, None
        except Exception as exc:  # e.g. the issue no longer renders: stop this send, not the worker
            db.session.rollback()
            log.exception("send %s could not start", due)
            pause_send(due, f"Could not start: {exc}")
            yield due, str(exc)
    for send_id in preparation.preparing():
        try:
            preparation.prepare_pending(PREPARE_BUDGET, only=send_id)
        except Exception as exc:  # its segment no longer compiles, say: stop this send, not the worker
            db.session.rollback()
            log.exception("send %s: could not write its deliveries", send_id)
            pause_send(send_id, f"Could not prepare its recipients: {exc}")
            yield send_id, str(exc)


def finish_done() -> None:
    for running in db.session.scalars(select(Send.id).where(Send.status == SendStatus.RUNNING)).all():
        service.finish_if_done(running)
    db.session.commit()


def pause(send_id: int, reason: str) -> None:
    send = db.session.get(Send, send_id)
    if send is not None and send.status in (SendStatus.RUNNING, SendStatus.SCHEDULED):
        service.pause(send, reason[:1000])
    db.session.commit()


def _running_with_queued() -> list[int]:
    counts = tally.counts_for(db.session.scalars(select(Send.id).where(Send.status == SendStatus.RUNNING)))
    return [send_id for send_id, by_state in counts.items() if by_state["queued"] > 0]


def waiting_retries(send_id: int, now: datetime) -> int:
    """Queued rows of the send that wait for a later retry (the partial retry index)."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.send_id == send_id, Delivery.next_attempt_at > now, Delivery.status == D.QUEUED)
        )
        or 0
    )


def next_with_work(now: datetime) -> int | None:
    """The oldest running send with a row that can go now (not only retries that wait)."""
    counts = tally.counts_for(_running_with_queued())
    found = next(
        (send_id for send_id, by_state in counts.items() if by_state["queued"] > waiting_retries(send_id, now)),
        None,
    )
    db.session.commit()
    return found


def work_pending(now: datetime) -> bool:
    due = db.session.scalar(
        select(Send.id).where(Send.status == SendStatus.SCHEDULED, Send.scheduled_at <= now).limit(1)
    )
    queued = bool(_running_with_queued())
    preparing = bool(preparation.preparing())
    db.session.commit()
    return due is not None or queued or preparing


def _due_retries() -> tuple[ColumnElement[bool], ...]:
    return (Send.status == SendStatus.RUNNING, *REQUEUED)


def seconds_to_next_retry(now: datetime) -> float | None:
    soonest = db.session.scalar(
        select(func.min(Delivery.next_attempt_at)).join(Send, Send.id == Delivery.send_id).where(*_due_retries())
    )
    db.session.commit()
    return None if soonest is None else max(0.01, (soonest - now).total_seconds())


def retry_due_times() -> dict[int, datetime]:
    """When each running send's soonest retry is due."""
    due = db.session.execute(
        select(Delivery.send_id, func.min(Delivery.next_attempt_at))
        .join(Send, Send.id == Delivery.send_id)
        .where(*_due_retries())
        .group_by(Delivery.send_id)
    )
    # next_attempt_at IS NOT NULL above: every minimum is a datetime.
    times = {send_id: at for send_id, at in due if at is not None}
    db.session.commit()
    return times
