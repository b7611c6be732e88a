"""The delivery store on SQLAlchemy: every delivery-state change the engine makes.

Concurrency: on PostgreSQL the claim is ``UPDATE ... WHERE id IN (SELECT ...
FOR UPDATE SKIP LOCKED)``, so any number of workers on any number of machines
share one send without claiming a row twice. SQLite has no row locks: the
same statement runs (SQLite takes the database write lock for it) and is safe,
but run ONE worker there. Every outcome is written only if the row is still
this worker's claim, so a row another worker took over is never overwritten."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, exists, func, or_, select, update

from app.db import db
from app.mail import OutgoingMessage
from app.sending import service
from app.sending.compose import Composer
from app.sending.models import Delivery, DeliveryStatus, Send, SendStatus, send_lists
from app.sending.ports import Clock, Decision, RecipientRow, Verdict
from app.subscribers.models import Subscriber, Subscription, SubscriptionStatus
from app.subscribers.suppression import reachable

__all__ = ["SKIP_REASON", "SqlDeliveryStore"]

log = logging.getLogger(__name__)
SKIP_REASON = "unsubscribed or suppressed since the send started"
D = DeliveryStatus


class _AppComposer:
    """Composes in the engine's threads inside an app context (one per thread)."""

    def __init__(self, app: Flask, composer: Composer) -> None:
        self.app, self.composer = app, composer
        self.local = threading.local()

    def compose(self, row: RecipientRow) -> OutgoingMessage:
        if getattr(self.local, "context", None) is None:
            self.local.context = self.app.app_context()
            self.local.context.push()
        return self.composer.compose(row)


class SqlDeliveryStore:
    def __init__(self, app: Flask, clock: Clock) -> None:
        self.app, self.clock = app, clock
        self.list_ids: dict[int, list[int]] = {}
        self.composers: dict[int, _AppComposer] = {}

    @contextmanager
    def cycle(self) -> Iterator[None]:
        try:
            yield
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise

    # --- sends ---------------------------------------------------------------------

    def start_due_sends(self) -> Iterator[tuple[int, str | None]]:
        for due in service.due_sends(self.clock.now()):
            try:
                started = service.start_send(due)
                db.session.commit()
                if started:
                    yield due, None
            except Exception as exc:  # e.g. the issue no longer renders: stop this send, not the worker
                db.session.rollback()
                log.exception("send %s could not start", due)
                self.pause(due, f"Could not start: {exc}")
                yield due, str(exc)

    def finish_done_sends(self) -> None:
        for running in db.session.scalars(select(Send.id).where(Send.status == SendStatus.RUNNING)).all():
            service.finish_if_done(running)
        db.session.commit()

    def pause(self, send_id: int, reason: str) -> None:
        send = db.session.get(Send, send_id)
        if send is not None and send.status in (SendStatus.RUNNING, SendStatus.SCHEDULED):
            service.pause(send, reason[:1000])
        db.session.commit()

    def next_send(self) -> int | None:
        now = self.clock.now()
        claimable = exists().where(
            Delivery.send_id == Send.id,
            Delivery.status == D.QUEUED,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        )
        send_id = db.session.scalar(
            select(Send.id).where(Send.status == SendStatus.RUNNING, claimable).order_by(Send.id).limit(1)
        )
        db.session.commit()
        return send_id

    def work_pending(self) -> bool:
        due = db.session.scalar(
            select(Send.id).where(Send.status == SendStatus.SCHEDULED, Send.scheduled_at <= self.clock.now()).limit(1)
        )
        queued = db.session.scalar(
            select(Delivery.id)
            .join(Send, Send.id == Delivery.send_id)
            .where(Send.status == SendStatus.RUNNING, Delivery.status == D.QUEUED)
            .limit(1)
        )
        db.session.commit()
        return due is not None or queued is not None

    def seconds_to_next_retry(self) -> float | None:
        soonest = db.session.scalar(
            select(func.min(Delivery.next_attempt_at))
            .join(Send, Send.id == Delivery.send_id)
            .where(Send.status == SendStatus.RUNNING, Delivery.status == D.QUEUED)
        )
        db.session.commit()
        return None if soonest is None else max(0.01, (soonest - self.clock.now()).total_seconds())

    def composer(self, send_id: int) -> _AppComposer:
        if send_id not in self.composers:
            send = db.session.get(Send, send_id)
            if send is None:
                raise LookupError(f"send {send_id} is gone")
            self.composers[send_id] = _AppComposer(self.app, Composer(send))
            db.session.commit()
        return self.composers[send_id]

    # --- deliveries --------------------------------------------------------------------

    def claim(self, send_id: int, limit: int, worker_id: str, lease: timedelta) -> tuple[int, list[RecipientRow]]:
        now = self.clock.now()
        running = exists().where(Send.id == send_id, Send.status == SendStatus.RUNNING)
        candidates = (
            select(Delivery.id)
            .where(
                Delivery.send_id == send_id,
                Delivery.status == D.QUEUED,
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
                running,
            )
            .order_by(Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = db.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(candidates.scalar_subquery()))
            .values(
                status=D.CLAIMED,
                worker_id=worker_id,
                lease_expires_at=now + lease,
                attempts=Delivery.attempts + 1,
                updated_at=now,
            )
            .returning(Delivery.id, Delivery.subscriber_id, Delivery.list_id, Delivery.email, Delivery.attempts)
            .execution_options(synchronize_session=False)
        ).all()
        if not claimed:
            return 0, []
        return len(claimed), self._recheck(send_id, claimed, worker_id)

    def _recheck(self, send_id: int, claimed: list[Any], worker_id: str) -> list[RecipientRow]:
        """Recipients who unsubscribed or got suppressed after the send started
        are ``skipped``; the others come back with their name, nonce and
        subscription date (for the message)."""
        if send_id not in self.list_ids:
            self.list_ids[send_id] = list(
                db.session.scalars(select(send_lists.c.list_id).where(send_lists.c.send_id == send_id))
            )
        active = exists().where(
            Subscription.subscriber_id == Subscriber.id,
            Subscription.list_id.in_(self.list_ids[send_id]),
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
        ids = [row.subscriber_id for row in claimed if row.subscriber_id is not None]
        fine = {
            sid: (name, nonce)
            for sid, name, nonce in db.session.execute(
                select(Subscriber.id, Subscriber.name, Subscriber.token_nonce).where(
                    Subscriber.id.in_(ids), active, reachable()
                )
            )
        }
        keep, skip = [], []
        for delivery_id, subscriber_id, list_id, email, attempts in claimed:
            found = fine.get(subscriber_id) if subscriber_id is not None else None
            if found is None:
                skip.append(delivery_id)
                continue
            keep.append(RecipientRow(delivery_id, subscriber_id, list_id, email, found[0], found[1], attempts))
        if skip:
            db.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(skip), Delivery.worker_id == worker_id)
                .values(status=D.SKIPPED, error=SKIP_REASON, lease_expires_at=None, updated_at=self.clock.now())
                .execution_options(synchronize_session=False)
            )
        return keep

    def record(self, decisions: list[Decision], worker_id: str) -> None:
        if not decisions:
            return
        now = self.clock.now()
        table = Delivery.__table__
        mine = (
            (table.c.id == bindparam("b_id"))
            & (table.c.worker_id == bindparam("b_worker"))
            & ((table.c.status == D.CLAIMED.value) | (table.c.status == D.UNKNOWN.value))
        )
        groups: dict[Verdict, list[dict[str, Any]]] = {}
        for decision in decisions:
            # Parameter names must not be column names: in an executemany those
            # would become SET values of their own.
            groups.setdefault(decision.verdict, []).append(
                {
                    "b_id": decision.delivery_id,
                    "b_worker": worker_id,
                    "b_message": decision.message_id,
                    "b_error": decision.error or None,
                    "b_next": decision.retry_at,
                    "b_tries": decision.attempts,
                    "b_status": decision.verdict.value,
                }
            )
        if Verdict.SENT in groups:
            db.session.execute(
                update(table)
                .where(mine)
                .values(
                    status=D.SENT,
                    message_id=bindparam("b_message"),
                    sent_at=now,
                    updated_at=now,
                    lease_expires_at=None,
                    error=None,
                ),
                groups[Verdict.SENT],
            )
        final = groups.get(Verdict.FAILED, []) + groups.get(Verdict.UNKNOWN, [])
        if final:
            db.session.execute(
                update(table)
                .where(mine)
                .values(
                    status=bindparam("b_status"), error=bindparam("b_error"), updated_at=now, lease_expires_at=None
                ),
                final,
            )
        if Verdict.RETRY in groups:
            db.session.execute(
                update(table)
                .where(mine)
                .values(
                    status=D.QUEUED,
                    worker_id=None,
                    lease_expires_at=None,
                    attempts=bindparam("b_tries"),
                    next_attempt_at=bindparam("b_next"),
                    error=bindparam("b_error"),
                    updated_at=now,
                ),
                groups[Verdict.RETRY],
            )
            self.skip_cancelled()

    def renew(self, worker_id: str, lease: timedelta) -> None:
        """Keep the lease on rows still in flight, so only a dead worker's rows expire."""
        db.session.execute(
            update(Delivery)
            .where(Delivery.worker_id == worker_id, Delivery.status == D.CLAIMED)
            .values(lease_expires_at=self.clock.now() + lease)
        )
        db.session.commit()

    def release(self, worker_id: str, keep: frozenset[int] = frozenset()) -> None:
        mine = [Delivery.worker_id == worker_id, Delivery.status == D.CLAIMED]
        if keep:
            mine.append(Delivery.id.notin_(sorted(keep)))
        db.session.execute(
            update(Delivery)
            .where(*mine)
            .values(status=D.QUEUED, worker_id=None, lease_expires_at=None, attempts=Delivery.attempts - 1)
        )
        self.skip_cancelled()
        db.session.commit()

    def expire_leases(self) -> int:
        """Claimed rows whose worker stopped renewing become unknown: the message
        may or may not have gone out, so they are not resent automatically."""
        now = self.clock.now()
        result = db.session.execute(
            update(Delivery)
            .where(Delivery.status == D.CLAIMED, Delivery.lease_expires_at < now)
            .values(status=D.UNKNOWN, updated_at=now, error="worker stopped before recording the result")
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]

    def skip_cancelled(self) -> int:
        """Queued rows of cancelled sends become skipped. cancel() skips the queued
        rows it sees, but rows in flight at that moment can come back to ``queued``
        afterwards (a transient answer, a stopping worker releasing its claims),
        and nothing claims from a cancelled send. The caller commits."""
        cancelled = select(Send.id).where(Send.status == SendStatus.CANCELLED)
        result = db.session.execute(
            update(Delivery)
            .where(Delivery.status == D.QUEUED, Delivery.send_id.in_(cancelled))
            .values(status=D.SKIPPED, error="send cancelled", updated_at=self.clock.now())
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
