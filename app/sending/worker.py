"""The delivery worker: starts due sends and delivers queued rows.

Crash safety rests on the Delivery rows: a row is claimed (worker id + lease)
before its message goes out and its result is written as soon as the
transport answers. A worker that dies leaves claimed rows behind; when their
lease expires they become ``unknown`` and are never sent again automatically.

Concurrency: on PostgreSQL the claim is ``UPDATE ... WHERE id IN (SELECT ...
FOR UPDATE SKIP LOCKED)``, so any number of workers on any number of machines
share one send without claiming a row twice. SQLite has no row locks: the same
statement runs (SQLite takes the database write lock for it) and is safe, but
run ONE worker there; SQLite is for development and small lists.

Throughput: messages go out from a thread pool (``SEND_THREADS``) so one
worker keeps many requests in flight; the main thread alone talks to the
database, and the shared token bucket (pacing.py) keeps the account rate."""

from __future__ import annotations

import logging
import math
import os
import queue
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic

from flask import Flask
from sqlalchemy import bindparam, exists, func, or_, select, update

from app.db import db, utcnow
from app.mail import (
    AccountPausedError,
    PermanentError,
    ThrottledError,
    TransientError,
    UncertainError,
    get_transport,
)
from app.sending import service
from app.sending.compose import Composer, RecipientRow
from app.sending.models import Delivery, Send, send_lists
from app.sending.pacing import Pacer
from app.subscribers.models import Subscriber, Subscription
from app.subscribers.suppression import reachable

log = logging.getLogger(__name__)

MAX_TRANSIENT_ATTEMPTS = 8
MAX_THREADS = 128
SKIP_REASON = "unsubscribed or suppressed since the send started"


@dataclass
class Outcome:
    row: RecipientRow
    send_id: int
    message_id: str | None = None
    error: BaseException | None = None


class Worker:
    def __init__(self, app: Flask, worker_id: str | None = None, threads: int | None = None) -> None:
        self.app = app
        self.id = worker_id or f"{socket.gethostname()[:60]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        # None: sized from the rate once the quota is known (see run()).
        self.threads = int(threads or app.config.get("SEND_THREADS") or 0)
        self.lease = timedelta(seconds=float(app.config.get("SEND_LEASE_SECONDS", 300)))
        self.poll = float(app.config.get("SEND_POLL_SECONDS", 1.0))
        self.stop_event = threading.Event()
        # Answers arrive on a queue (O(1) per message, whatever the number in flight).
        self.inflight = 0
        self.results: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self.answered: list[Outcome] = []   # answers not yet written (written within one cycle)
        self.composers: dict[int, Composer] = {}
        self.list_ids: dict[int, list[int]] = {}
        self._next_housekeeping = 0.0
        self._next_renewal = 0.0
        self.sent = 0

    def stop(self) -> None:
        """Graceful stop: no new claims; in-flight messages finish and are recorded."""
        self.stop_event.set()

    # --- main loop -------------------------------------------------------------

    def run(self, once: bool = False) -> int:
        """Deliver until stopped (or, with ``once``, until nothing is due). Returns messages sent."""
        with self.app.app_context():
            self.transport = get_transport(self.app)
            self.pacer = Pacer(self.transport)
            self.pacer.refresh_quota(force=True)
            if not self.threads:
                # Enough requests in flight for ~200 ms of sending at the ceiling
                # rate: API latency, plus GIL queueing under load, never caps it.
                self.threads = max(8, min(MAX_THREADS, math.ceil(self.pacer.ceiling * 0.2)))
            pool = ThreadPoolExecutor(self.threads, thread_name_prefix="send")
            try:
                self._loop(pool, once)
            finally:
                self._drain()
                self._release()
                pool.shutdown(wait=True)
                self._finish_sends()
                db.session.remove()
        return self.sent

    def _loop(self, pool: ThreadPoolExecutor, once: bool) -> None:
        send_id: int | None = None
        while not self.stop_event.is_set():
            self._housekeeping()
            if send_id is None:
                send_id = self._next_send()
            if send_id is None:
                if self.inflight or self.answered:
                    answered, self.answered = self.answered + self._gather(self.poll), []
                    self._record(answered)
                elif once and not self._work_pending():
                    return
                else:
                    self.stop_event.wait(min(self.poll, self._seconds_to_next_retry()))
                continue
            free, batch = self.threads - self.inflight, self._batch()
            if free < batch:
                # Let answers accumulate; the next cycle's transaction records them.
                self.answered += self._gather(self.poll, want=batch - free)
                continue
            try:
                self._composer(send_id)   # before claiming: a send that cannot be built claims nothing
            except Exception as exc:
                db.session.rollback()
                log.exception("send %s: cannot build messages", send_id)
                self._halt(send_id, f"Cannot build the messages: {exc}")
                send_id = None
                continue
            # One transaction per cycle: record what finished, take tokens, claim rows.
            answered, self.answered = self.answered + self._gather(0), []
            follow_up = self._record(answered, commit=False)
            grant = self.pacer.acquire(free, commit=False, minimum=batch)
            rows = self._claim(send_id, grant.tokens) if grant.tokens else []
            if len(rows) < grant.tokens:
                self.pacer.refund(grant.tokens - len(rows), commit=False)
            db.session.commit()
            follow_up()
            rows = [row for row in rows if row.name is not None]
            if rows:
                self._submit(pool, send_id, rows)
            elif grant.tokens:
                send_id = None  # paused, finished, all skipped or only future retries: look again
            elif self.inflight:
                # Wait for tokens while collecting answers; the next cycle records them.
                self.answered += self._gather(grant.wait, want=self.threads)
            elif grant.reason == "quota" and once:
                log.warning("the 24-hour sending quota is used up; the rest waits for the next run")
                return
            else:
                self.stop_event.wait(min(grant.wait, 1.0))

    def _batch(self) -> int:
        """Claim at least this many rows at a time (about 20 ms of sending),
        so database round trips do not grow with the rate."""
        return max(1, min(self.threads // 2, int(self.pacer.ceiling * 0.02)))

    def _seconds_to_next_retry(self) -> float:
        soonest = db.session.scalar(select(func.min(Delivery.next_attempt_at)).join(
            Send, Send.id == Delivery.send_id).where(Send.status == "running", Delivery.status == "queued"))
        db.session.commit()
        if soonest is None:
            return self.poll
        return max(0.01, (soonest - utcnow()).total_seconds())

    def _housekeeping(self) -> None:
        now = monotonic()
        if now >= self._next_renewal and (self.inflight or self.answered):
            # Keep the lease on rows still in flight, so only a dead worker's rows expire.
            self._next_renewal = now + self.lease.total_seconds() / 3
            db.session.execute(update(Delivery).where(Delivery.worker_id == self.id,
                                                      Delivery.status == "claimed")
                               .values(lease_expires_at=utcnow() + self.lease))
            db.session.commit()
        if now < self._next_housekeeping:
            return
        self._next_housekeeping = now + min(1.0, self.poll)
        expire_leases()
        skip_cancelled()
        db.session.commit()
        for due in service.due_sends():
            try:
                if service.start_send(due):
                    log.info("send %s started", due)
                db.session.commit()
            except Exception as exc:  # e.g. the issue no longer renders: stop this send, not the worker
                db.session.rollback()
                log.exception("send %s could not start", due)
                self._halt(due, f"Could not start: {exc}")
        self._finish_sends()
        self.pacer.refresh_quota()

    def _halt(self, send_id: int, reason: str) -> None:
        """Pause a send this worker cannot process, with the reason for the admin."""
        send = db.session.get(Send, send_id)
        if send is not None and send.status in ("running", "scheduled"):
            service.pause(send, reason[:1000])
        db.session.commit()

    def _finish_sends(self) -> None:
        for running in db.session.scalars(select(Send.id).where(Send.status == "running")).all():
            service.finish_if_done(running)
        db.session.commit()

    def _next_send(self) -> int | None:
        now = utcnow()
        claimable = exists().where(Delivery.send_id == Send.id, Delivery.status == "queued",
                                   or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
        send_id = db.session.scalar(select(Send.id).where(Send.status == "running", claimable)
                                    .order_by(Send.id).limit(1))
        db.session.commit()
        return send_id

    def _work_pending(self) -> bool:
        """For --once: anything due that this worker could still deliver?"""
        due = db.session.scalar(select(Send.id).where(Send.status == "scheduled",
                                                      Send.scheduled_at <= utcnow()).limit(1))
        queued = db.session.scalar(select(Delivery.id).join(Send, Send.id == Delivery.send_id).where(
            Send.status == "running", Delivery.status == "queued").limit(1))
        db.session.commit()
        return due is not None or queued is not None

    # --- claiming ----------------------------------------------------------------

    def _claim(self, send_id: int, limit: int) -> list[RecipientRow]:
        now = utcnow()
        running = exists().where(Send.id == send_id, Send.status == "running")
        candidates = (select(Delivery.id)
                      .where(Delivery.send_id == send_id, Delivery.status == "queued",
                             or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
                             running)
                      .order_by(Delivery.id).limit(limit)
                      .with_for_update(skip_locked=True))
        claimed = db.session.execute(
            update(Delivery).where(Delivery.id.in_(candidates.scalar_subquery()))
            .values(status="claimed", worker_id=self.id, lease_expires_at=now + self.lease,
                    attempts=Delivery.attempts + 1, updated_at=now)
            .returning(Delivery.id, Delivery.subscriber_id, Delivery.list_id, Delivery.email)
            .execution_options(synchronize_session=False)).all()
        if not claimed:
            return []
        return self._recheck(send_id, [RecipientRow(*row) for row in claimed])

    def _recheck(self, send_id: int, rows: list[RecipientRow]) -> list[RecipientRow]:
        """Skip recipients who unsubscribed or got suppressed after the send
        started: their rows become ``skipped`` and come back with name None."""
        if send_id not in self.list_ids:
            self.list_ids[send_id] = list(db.session.scalars(
                select(send_lists.c.list_id).where(send_lists.c.send_id == send_id)))
        active = exists().where(Subscription.subscriber_id == Subscriber.id,
                                Subscription.list_id.in_(self.list_ids[send_id]),
                                Subscription.status == "active")
        ids = [row.subscriber_id for row in rows if row.subscriber_id is not None]
        fine = {sid: (name, nonce) for sid, name, nonce in db.session.execute(
            select(Subscriber.id, Subscriber.name, Subscriber.token_nonce)
            .where(Subscriber.id.in_(ids), active, reachable()))}
        keep, skip = [], []
        for row in rows:
            found = fine.get(row.subscriber_id) if row.subscriber_id is not None else None
            name, nonce = found if found is not None else (None, None)
            keep.append(RecipientRow(row.delivery_id, row.subscriber_id, row.list_id, row.email, name, nonce))
            if found is None:
                skip.append(row.delivery_id)
        if skip:
            db.session.execute(update(Delivery).where(Delivery.id.in_(skip), Delivery.worker_id == self.id)
                               .values(status="skipped", error=SKIP_REASON,
                                       lease_expires_at=None, updated_at=utcnow())
                               .execution_options(synchronize_session=False))
        return keep

    # --- sending -------------------------------------------------------------------

    def _composer(self, send_id: int) -> Composer:
        if send_id not in self.composers:
            self.composers[send_id] = Composer(db.session.get(Send, send_id))
            db.session.commit()
        return self.composers[send_id]

    def _submit(self, pool: ThreadPoolExecutor, send_id: int, rows: list[RecipientRow]) -> None:
        composer = self._composer(send_id)
        transport, app = self.transport, self.app
        for row in rows:
            def task(row: RecipientRow = row) -> None:
                outcome = Outcome(row, send_id, error=UncertainError("the sending thread stopped"))
                try:
                    with app.app_context():
                        message = composer.compose(row)
                except Exception as exc:  # a rendering bug or a bad address: nothing was sent
                    outcome = Outcome(row, send_id, error=PermanentError(f"cannot build the message: {exc}"))
                else:
                    try:
                        outcome = Outcome(row, send_id, message_id=transport.send(message))
                    except Exception as exc:
                        outcome = Outcome(row, send_id, error=exc)
                finally:
                    self.results.put(outcome)   # always exactly one answer per task

            self.inflight += 1
            pool.submit(task)

    def _gather(self, timeout: float, want: int = 1) -> list[Outcome]:
        """Wait up to ``timeout`` for ``want`` answers (fewer if time runs out)
        and return every answer that has arrived."""
        done: list[Outcome] = []
        deadline = monotonic() + timeout
        while self.inflight:
            remaining = deadline - monotonic()
            try:
                if len(done) < want and remaining > 0:
                    done.append(self.results.get(timeout=remaining))
                else:
                    done.append(self.results.get_nowait())
            except queue.Empty:
                break
            self.inflight -= 1
        return done

    def _drain(self) -> None:
        answered, self.answered = self.answered, []
        self._record(answered)
        while self.inflight:
            self._record(self._gather(self.poll))

    def _release(self) -> None:
        """Rows still claimed by this worker after draining never went out."""
        db.session.execute(update(Delivery).where(Delivery.worker_id == self.id, Delivery.status == "claimed")
                           .values(status="queued", worker_id=None, lease_expires_at=None,
                                   attempts=Delivery.attempts - 1))
        skip_cancelled()
        db.session.commit()

    def _record(self, outcomes: list[Outcome], commit: bool = True) -> Callable[[], None]:
        """Write every outcome; returns what must happen after the commit
        (slow the account down, pause a send)."""
        now = utcnow()
        sent, final, retry = [], [], []
        throttled = paused = None
        for outcome in outcomes:
            error, row = outcome.error, outcome.row
            base = {"b_id": row.delivery_id, "b_worker": self.id}
            if error is None:
                sent.append({**base, "message_id": outcome.message_id})
            elif isinstance(error, ThrottledError):
                throttled = error
                retry.append({**base, "error": str(error)[:500], "undo": 1, "delay": 0.5})
            elif isinstance(error, AccountPausedError):
                paused = (outcome.send_id, error)
                retry.append({**base, "error": str(error)[:500], "undo": 1, "delay": 0.0})
            elif isinstance(error, TransientError):
                retry.append({**base, "error": str(error)[:500], "undo": 0, "delay": None})
            elif isinstance(error, UncertainError):
                final.append({**base, "status": "unknown", "error": str(error)[:500]})
            elif isinstance(error, PermanentError):
                final.append({**base, "status": "failed", "error": str(error)[:500]})
            else:  # unexpected: the request may have gone out
                log.exception("unexpected transport error", exc_info=error)
                final.append({**base, "status": "unknown", "error": f"unexpected error: {error}"[:500]})
        table = Delivery.__table__
        mine = (table.c.id == bindparam("b_id")) & (table.c.worker_id == bindparam("b_worker")) & (
            (table.c.status == "claimed") | (table.c.status == "unknown"))
        if sent:
            db.session.execute(table.update().where(mine).values(
                status="sent", message_id=bindparam("message_id"), sent_at=now, updated_at=now,
                lease_expires_at=None, error=None), sent)
            self.sent += len(sent)
        if final:
            db.session.execute(table.update().where(mine).values(
                status=bindparam("status"), error=bindparam("error"), updated_at=now, lease_expires_at=None),
                final)
        if retry:
            self._requeue(retry, now)

        def follow_up() -> None:
            if throttled is not None:
                self.pacer.throttled()
            if paused is not None:
                send = db.session.get(Send, paused[0])
                if send is not None and send.status == "running":
                    service.pause(send, f"SES stopped sending for the account: {paused[1]}")
                db.session.commit()

        if commit:
            db.session.commit()
            follow_up()
        return follow_up

    def _requeue(self, retry: list[dict], now: datetime) -> None:
        table = Delivery.__table__
        attempts = dict(db.session.execute(select(table.c.id, table.c.attempts).where(
            table.c.id.in_([r["b_id"] for r in retry]))).all())
        requeue, give_up = [], []
        for item in retry:
            tries = attempts.get(item["b_id"], 1) - item.pop("undo")
            delay = item.pop("delay")
            if delay is None:
                if tries >= MAX_TRANSIENT_ATTEMPTS:
                    reason = f"gave up after {tries} attempts: {item['error']}"
                    give_up.append({**item, "error": reason[:500]})
                    continue
                delay = min(60.0, 0.5 * 2 ** max(0, tries - 1))
            requeue.append({**item, "tries": tries, "next": now + timedelta(seconds=delay)})
        mine = (table.c.id == bindparam("b_id")) & (table.c.worker_id == bindparam("b_worker")) & (
            (table.c.status == "claimed") | (table.c.status == "unknown"))
        if requeue:
            db.session.execute(table.update().where(mine).values(
                status="queued", worker_id=None, lease_expires_at=None, attempts=bindparam("tries"),
                next_attempt_at=bindparam("next"), error=bindparam("error"), updated_at=now), requeue)
        if give_up:
            db.session.execute(table.update().where(mine).values(
                status="failed", error=bindparam("error"), lease_expires_at=None, updated_at=now), give_up)
        if requeue:
            skip_cancelled()


def run_worker(app: Flask, once: bool = False, threads: int | None = None) -> tuple[Worker, int]:
    """Run a worker in this process; SIGTERM and SIGINT stop it gracefully
    (no new claims, in-flight messages finish and are recorded)."""
    worker = Worker(app, threads=threads)

    def stop(signum: int, frame: object) -> None:  # noqa: ARG001
        log.info("worker %s: stopping after the current batch", worker.id)
        worker.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        sent = worker.run(once=once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return worker, sent


def expire_leases() -> int:
    """Claimed rows whose worker stopped renewing become unknown: the message
    may or may not have gone out, so they are not resent automatically."""
    now = utcnow()
    result = db.session.execute(update(Delivery).where(Delivery.status == "claimed",
                                                       Delivery.lease_expires_at < now)
                                .values(status="unknown", updated_at=now,
                                        error="worker stopped before recording the result")
                                .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


def skip_cancelled() -> int:
    """Queued rows of cancelled sends become skipped. cancel() skips the queued
    rows it sees, but rows in flight at that moment can come back to ``queued``
    afterwards (a transient answer, a stopping worker releasing its claims),
    and nothing claims from a cancelled send. The caller commits."""
    cancelled = select(Send.id).where(Send.status == "cancelled")
    result = db.session.execute(update(Delivery).where(Delivery.status == "queued",
                                                       Delivery.send_id.in_(cancelled))
                                .values(status="skipped", error="send cancelled", updated_at=utcnow())
                                .execution_options(synchronize_session=False))
    return result.rowcount
