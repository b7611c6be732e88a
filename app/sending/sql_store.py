"""The delivery store on SQLAlchemy: every delivery-state change the engine makes.

Concurrency: on PostgreSQL the claim is ``UPDATE ... WHERE id IN (SELECT ...
FOR UPDATE SKIP LOCKED)``, so any number of workers on any number of machines
share one send without claiming a row twice. SQLite has no row locks: the
same statement runs (SQLite takes the database write lock for it) and is safe,
but run ONE worker there. Every outcome is written only if the row is still
this claim's, so a row another worker took over is never overwritten.

Write volume (see ``Delivery``): a claim is one HOT update per row plus one
``delivery_claims`` row per batch; an answer is one update per row; the
counts move in ``send_counts`` once per cycle. Queued rows are found by id
range, never by an index on ``status``: each worker keeps a cursor per send
and scans ids above it. Rows that come back to the queue below a cursor
(retries, released claims, resent unknowns) always carry ``next_attempt_at``,
so they are found through the small retry index."""

from __future__ import annotations

import logging
import secrets
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import delete, exists, func, insert, select, update

from app.db import db, rowcount
from app.mail import OutgoingMessage
from app.sending import sql_sends, tally
from app.sending.compose import Composer
from app.sending.models import Delivery, DeliveryClaim, DeliveryStatus, Send, SendStatus, send_lists
from app.sending.ports import Clock, Decision, RecipientRow
from app.sending.sql_outcomes import apply_outcomes
from app.subscribers.models import Subscriber, Subscription, SubscriptionStatus
from app.subscribers.suppression import reachable

__all__ = ["SKIP_REASON", "SqlDeliveryStore"]

log = logging.getLogger(__name__)
SKIP_REASON = "unsubscribed or suppressed since the send started"
EXPIRED = "worker stopped before recording the result"
D = DeliveryStatus
# A worker whose cursor ran out looks below it again (for rows a failed claim
# left behind) at most this often, and only while the counts say some are queued.
RESCAN_EVERY = 30.0


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


@dataclass
class _Range:
    first: int
    last: int
    cursor: int
    rescan_at: float = 0.0
    rescanning: bool = False
    growing: bool = True  # deliveries still being written: read the bounds again


@dataclass
class _Claim:
    send_id: int
    rows: set[int] = field(default_factory=set)


class SqlDeliveryStore:
    def __init__(self, app: Flask, clock: Clock, shard: int | None = None) -> None:
        self.app, self.clock = app, clock
        self.shard = tally.worker_shard() if shard is None else shard
        self.list_ids: dict[int, list[int]] = {}
        self.composers: dict[int, _AppComposer] = {}
        self.ranges: dict[int, _Range] = {}
        self.claims: dict[int, _Claim] = {}  # this worker's open claims
        self.claim_of: dict[int, int] = {}  # delivery id -> claim id
        self.retry_at: dict[int, datetime] = {}  # send id -> when its soonest retry is due
        self.deltas: defaultdict[tuple[int, str], int] = defaultdict(int)
        self.progress: defaultdict[int, int] = defaultdict(int)

    # --- transactions ----------------------------------------------------------------

    @contextmanager
    def cycle(self) -> Iterator[None]:
        try:
            yield
            self._commit()
        except BaseException:
            self._rollback()
            raise

    def _commit(self) -> None:
        """Counts move in the transaction that moved the rows."""
        if self.deltas:
            tally.add(self.deltas, self.shard)
        if self.progress:
            tally.add_progress(self.progress, self.clock.now(), self.shard)
        db.session.commit()
        self.deltas.clear()
        self.progress.clear()

    def _rollback(self) -> None:
        db.session.rollback()
        self.deltas.clear()
        self.progress.clear()

    def _move(self, send_id: int, source: str, target: str, n: int) -> None:
        if n and source != target:
            self.deltas[(send_id, source)] -= n
            self.deltas[(send_id, target)] += n

    # --- sends ---------------------------------------------------------------------

    def start_due_sends(self) -> Iterator[tuple[int, str | None]]:
        return sql_sends.start_due(self.clock.now(), self.pause)

    def finish_done_sends(self) -> None:
        sql_sends.finish_done()

    def pause(self, send_id: int, reason: str) -> None:
        sql_sends.pause(send_id, reason)

    def next_send(self) -> int | None:
        """The oldest running send with a row that can go now (not only retries that wait)."""
        return sql_sends.next_with_work(self.clock.now())

    def work_pending(self) -> bool:
        return sql_sends.work_pending(self.clock.now())

    def seconds_to_next_retry(self) -> float | None:
        return sql_sends.seconds_to_next_retry(self.clock.now())

    def composer(self, send_id: int) -> _AppComposer:
        if send_id not in self.composers:
            send = db.session.get(Send, send_id)
            if send is None:
                raise LookupError(f"send {send_id} is gone")
            self.composers[send_id] = _AppComposer(self.app, Composer(send))
            db.session.commit()
        return self.composers[send_id]

    # --- claiming ----------------------------------------------------------------------

    def _range(self, send_id: int) -> _Range | None:
        span = self.ranges.get(send_id)
        if span is None or span.growing:
            # While its deliveries are still being written (app.sending.preparation)
            # the range grows: read it again at every claim (a primary-key lookup).
            bounds = db.session.execute(
                select(Send.first_delivery_id, Send.last_delivery_id, Send.prepared_through).where(Send.id == send_id)
            ).one_or_none()
            if bounds is None or bounds[0] is None or bounds[1] is None:
                return None
            if span is None:
                span = self.ranges[send_id] = _Range(bounds[0], bounds[1], bounds[0] - 1)
            span.first, span.last, span.growing = min(span.first, bounds[0]), bounds[1], bounds[2] is not None
        return span

    def claim(self, send_id: int, limit: int, worker_id: str, lease: timedelta) -> tuple[int, list[RecipientRow]]:
        now = self.clock.now()
        running = exists().where(Send.id == send_id, Send.status == SendStatus.RUNNING)
        queued = [Delivery.send_id == send_id, Delivery.status == D.QUEUED, running]
        taken: list[tuple[int, int | None, int | None, str, int]] = []
        if self.retry_at.get(send_id, datetime.max) <= now:
            retries = (
                select(Delivery.id)
                .where(Delivery.next_attempt_at <= now, *queued)
                .order_by(Delivery.next_attempt_at)
                .limit(limit)
            )
            taken += self._take(send_id, retries, worker_id, now + lease, now, from_retry=True)
            if len(taken) < limit:
                self.retry_at.pop(send_id, None)  # none left due; housekeeping looks again
        span = self._range(send_id)
        if span is not None and len(taken) < limit:
            if span.cursor >= span.last and self._should_rescan(send_id, span, now):
                span.cursor = span.first - 1
            if span.cursor < span.last:
                fresh = (
                    select(Delivery.id)
                    .where(
                        Delivery.id > span.cursor,
                        Delivery.id <= span.last,
                        Delivery.next_attempt_at.is_(None),
                        *queued,
                    )
                    .order_by(Delivery.id)
                    .limit(limit - len(taken))
                )
                got = self._take(send_id, fresh, worker_id, now + lease, now, from_retry=False)
                span.cursor = max(row[0] for row in got) if got else span.last
                if not got and span.rescanning:
                    self._repair(send_id)
                span.rescanning = span.rescanning and not got and span.cursor < span.last
                taken += got
        if not taken:
            return 0, []
        return len(taken), self._recheck(send_id, taken)

    def _should_rescan(self, send_id: int, span: _Range, now: datetime) -> bool:
        """Rows a rolled-back claim skipped can sit below every cursor; the counts
        tell whether any queued row is unaccounted for by waiting retries."""
        moment = self.clock.monotonic()
        if moment < span.rescan_at:
            return False
        span.rescan_at = moment + RESCAN_EVERY
        queued = tally.counts_for([send_id])[send_id]["queued"]
        span.rescanning = queued > sql_sends.waiting_retries(send_id, now)
        return span.rescanning

    def _repair(self, send_id: int) -> None:
        """The counts said rows were queued and a scan of the whole send found
        none: the counts are wrong (a manual UPDATE, say). Rebuild them from the
        rows rather than look again forever."""
        log.error("send %s: the delivery counts disagreed with the rows; recounted", send_id)
        tally.add(self.deltas, self.shard)
        self.deltas.clear()
        tally.recount(send_id)

    def _take(
        self, send_id: int, candidates: object, worker_id: str, lease_until: datetime, now: datetime, from_retry: bool
    ) -> list[tuple[int, int | None, int | None, str, int]]:
        claim_id = secrets.randbits(63) or 1
        values: dict[str, object] = {
            "status": D.CLAIMED,
            "worker_id": worker_id,
            "claim_id": claim_id,
            "attempts": Delivery.attempts + 1,
            "updated_at": now,
        }
        if from_retry:
            values["next_attempt_at"] = None
        rows = db.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(candidates.with_for_update(skip_locked=True).scalar_subquery()))  # type: ignore[attr-defined]
            .values(**values)
            .returning(Delivery.id, Delivery.subscriber_id, Delivery.list_id, Delivery.email, Delivery.attempts)
            .execution_options(synchronize_session=False)
        ).all()
        if not rows:
            return []
        ids = [row[0] for row in rows]
        db.session.execute(
            insert(DeliveryClaim).values(
                id=claim_id,
                send_id=send_id,
                worker_id=worker_id,
                first_id=min(ids),
                last_id=max(ids),
                lease_expires_at=lease_until,
                created_at=now,
            )
        )
        self.claims[claim_id] = _Claim(send_id, set(ids))
        self.claim_of.update(dict.fromkeys(ids, claim_id))
        self._move(send_id, D.QUEUED, D.CLAIMED, len(ids))
        return [tuple(row) for row in rows]  # type: ignore[misc]

    def _recheck(self, send_id: int, claimed: list[tuple[int, int | None, int | None, str, int]]) -> list[RecipientRow]:
        """Recipients who unsubscribed or got suppressed after the send started
        are ``skipped``; the others come back with their name and nonce."""
        if send_id not in self.list_ids:
            self.list_ids[send_id] = list(
                db.session.scalars(select(send_lists.c.list_id).where(send_lists.c.send_id == send_id))
            )
        active = exists().where(
            Subscription.subscriber_id == Subscriber.id,
            Subscription.list_id.in_(self.list_ids[send_id]),
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
        ids = [row[1] for row in claimed if row[1] is not None]
        # Since when the reader has been on one of the send's lists: the email's
        # footer says why they get it ("you subscribed ... on 4 March 2026").
        since = (
            select(func.min(func.coalesce(Subscription.confirmed_at, Subscription.created_at)))
            .where(
                Subscription.subscriber_id == Subscriber.id,
                Subscription.list_id.in_(self.list_ids[send_id]),
                Subscription.status == SubscriptionStatus.ACTIVE,
            )
            .scalar_subquery()
        )
        fine = {
            sid: (name, nonce, subscribed)
            for sid, name, nonce, subscribed in db.session.execute(
                select(Subscriber.id, Subscriber.name, Subscriber.token_nonce, since).where(
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
            keep.append(
                RecipientRow(delivery_id, subscriber_id, list_id, email, found[0], found[1], attempts, found[2])
            )
        if skip:
            result = db.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(skip), Delivery.status == D.CLAIMED)
                .values(status=D.SKIPPED, error=SKIP_REASON, updated_at=self.clock.now())
                .execution_options(synchronize_session=False)
            )
            self._move(send_id, D.CLAIMED, D.SKIPPED, rowcount(result))
            self._settled(skip)
        return keep

    # --- answers -----------------------------------------------------------------------

    def record(self, decisions: list[Decision], worker_id: str) -> None:  # noqa: ARG002 (the claim says whose)
        if not decisions:
            return
        now = self.clock.now()
        claims = {d.delivery_id: self.claim_of.get(d.delivery_id, 0) for d in decisions}
        outcome = apply_outcomes(decisions, claims, now)
        for (send_id, source, target), n in outcome.moves.items():
            self._move(send_id, source, target, n)
        for send_id, n in outcome.sent.items():
            self.progress[send_id] += n
        for send_id, at in outcome.retries.items():
            self.retry_at[send_id] = min(at, self.retry_at.get(send_id, datetime.max))
        self._settled([d.delivery_id for d in decisions])
        if outcome.retries:
            self.skip_cancelled()

    def _settled(self, delivery_ids: list[int]) -> None:
        """Rows answered: a claim with no row left in flight is deleted."""
        done = []
        for delivery_id in delivery_ids:
            claim_id = self.claim_of.pop(delivery_id, None)
            claim = self.claims.get(claim_id) if claim_id is not None else None
            if claim is not None:
                claim.rows.discard(delivery_id)
                if not claim.rows:
                    done.append(claim_id)
                    del self.claims[claim_id]  # type: ignore[arg-type]
        if done:
            db.session.execute(delete(DeliveryClaim).where(DeliveryClaim.id.in_(done)))

    def renew(self, worker_id: str, lease: timedelta) -> None:
        """Keep the lease on claims still in flight, so only a dead worker's rows expire."""
        db.session.execute(
            update(DeliveryClaim)
            .where(DeliveryClaim.worker_id == worker_id)
            .values(lease_expires_at=self.clock.now() + lease)
        )
        self._commit()

    def release(self, worker_id: str, keep: frozenset[int] = frozenset()) -> None:
        """A stopping worker gives back the rows it claimed and did not send
        (``keep``: sent, no answer yet; they stay claimed until their lease ends)."""
        now = self.clock.now()
        claims = db.session.execute(
            select(DeliveryClaim.id, DeliveryClaim.send_id, DeliveryClaim.first_id, DeliveryClaim.last_id).where(
                DeliveryClaim.worker_id == worker_id
            )
        ).all()
        for claim_id, send_id, first_id, last_id in claims:
            mine = [Delivery.id.between(first_id, last_id), Delivery.claim_id == claim_id, Delivery.status == D.CLAIMED]
            held = [delivery_id for delivery_id in keep if self.claim_of.get(delivery_id) == claim_id]
            if held:
                mine.append(Delivery.id.notin_(sorted(held)))
            result = db.session.execute(
                update(Delivery)
                .where(*mine)
                .values(
                    status=D.QUEUED,
                    worker_id=None,
                    claim_id=None,
                    attempts=Delivery.attempts - 1,
                    next_attempt_at=now,  # below the cursors: found as a retry
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            self._move(send_id, D.CLAIMED, D.QUEUED, rowcount(result))
            if not held:
                db.session.execute(delete(DeliveryClaim).where(DeliveryClaim.id == claim_id))
        self.skip_cancelled()
        self._commit()

    def expire_leases(self) -> int:
        """Rows of claims whose worker stopped renewing become unknown: the message
        may or may not have gone out, so they are not resent automatically."""
        now = self.clock.now()
        expired = db.session.execute(
            select(DeliveryClaim.id, DeliveryClaim.send_id, DeliveryClaim.first_id, DeliveryClaim.last_id)
            .where(DeliveryClaim.lease_expires_at < now)
            .order_by(DeliveryClaim.lease_expires_at)
            .limit(100)
            .with_for_update(skip_locked=True)
        ).all()
        total = 0
        for claim_id, send_id, first_id, last_id in expired:
            result = db.session.execute(
                update(Delivery)
                .where(
                    Delivery.id.between(first_id, last_id), Delivery.claim_id == claim_id, Delivery.status == D.CLAIMED
                )
                .values(status=D.UNKNOWN, updated_at=now, error=EXPIRED)
                .execution_options(synchronize_session=False)
            )
            count = rowcount(result)
            self._move(send_id, D.CLAIMED, D.UNKNOWN, count)
            total += count
            db.session.execute(delete(DeliveryClaim).where(DeliveryClaim.id == claim_id))
            self.claims.pop(claim_id, None)
        self._commit()
        return total

    def skip_cancelled(self) -> int:
        """Rows back in the queue of a cancelled send become skipped. cancel() skips
        the queued rows it sees, but rows in flight then can come back afterwards
        (a transient answer, a stopping worker's release); they always carry
        ``next_attempt_at``, so the retry index finds them. The caller commits."""
        cancelled = select(Send.id).where(Send.status == SendStatus.CANCELLED)
        rows = db.session.execute(
            update(Delivery)
            .where(*sql_sends.REQUEUED, Delivery.send_id.in_(cancelled))
            .values(status=D.SKIPPED, error="send cancelled", next_attempt_at=None, updated_at=self.clock.now())
            .returning(Delivery.send_id)
            .execution_options(synchronize_session=False)
        ).all()
        for (send_id,) in rows:
            self._move(send_id, D.QUEUED, D.SKIPPED, 1)
        return len(rows)

    def refresh_retries(self) -> None:
        """When each running send's next retry is due (housekeeping, once a second)."""
        self.retry_at = sql_sends.retry_due_times()
