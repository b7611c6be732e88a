"""Claiming and running jobs: what ``pressroom worker`` does between deliveries.

A job is claimed with ``FOR UPDATE SKIP LOCKED`` (any number of workers on
any number of machines; SQLite serialises writers), marked ``running`` with a
lease, and run by the handler registered for its kind. Outcomes:

- the handler returns: ``done`` (its return value is the job's ``result``);
- it raises :class:`RetryLater`: queued again after the delay it asks for, the
  attempt not counted (a quota window, a rate limit);
- it raises anything else: queued again with exponential backoff (30 s, 1 min,
  2 min, ... at most an hour) until ``max_attempts``, then ``failed`` with the error;
- its worker dies: the lease expires and the job is queued again (handlers are
  written to be safe to run twice: imports skip what is there, mails check
  when they last went out).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from app.db import db, rowcount, utcnow
from app.jobs.models import Job, JobState
from app.jobs.queue import enqueue, set_progress

__all__ = ["Handler", "JobContext", "JobRunner", "RetryLater", "backoff"]

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
MAX_BACKOFF = 3600.0


class RetryLater(Exception):  # noqa: N818 - an instruction, not an error
    """Run this job again after ``delay`` seconds without counting an attempt."""

    def __init__(self, delay: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {delay:.0f} s")
        self.delay = delay


@dataclass
class JobContext:
    job_id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    runner: JobRunner

    def progress(self, done: int, total: int | None = None) -> None:
        """Record progress and renew the lease (commits the session)."""
        set_progress(self.job_id, done, total)
        db.session.execute(
            update(Job)
            .where(Job.id == self.job_id, Job.locked_by == self.runner.worker_id)
            .values(locked_until=self.runner.clock() + self.runner.lease)
        )
        db.session.commit()


Handler = Callable[[JobContext], dict[str, Any] | None]


def backoff(attempt: int) -> float:
    return min(MAX_BACKOFF, 30.0 * 2 ** max(0, attempt - 1))


class JobRunner:
    def __init__(
        self,
        handlers: Mapping[str, Handler],
        worker_id: str,
        *,
        periodic: Mapping[str, timedelta] | None = None,
        lease: timedelta = LEASE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.handlers = dict(handlers)
        self.worker_id = worker_id
        self.periodic = dict(periodic or {})
        self.lease = lease
        self.clock = clock

    # --- the loop's steps ---------------------------------------------------------

    def tick(self) -> int:
        """Queue the periodic jobs that are due, expire dead workers' leases and
        run every job that is due; returns how many ran."""
        self.schedule_periodic()
        self.expire_leases()
        return self.run_due()

    def schedule_periodic(self) -> None:
        now = self.clock()
        for kind, every in self.periodic.items():
            window = int(now.timestamp() // every.total_seconds())
            enqueue(kind, dedupe_key=f"periodic:{kind}:{window}", max_attempts=3)
        db.session.commit()

    def expire_leases(self) -> int:
        now = self.clock()
        stale = select(Job.id).where(Job.state == JobState.RUNNING, Job.locked_until < now)
        requeued = db.session.execute(
            update(Job)
            .where(Job.id.in_(stale.scalar_subquery()), Job.attempts < Job.max_attempts)
            .values(
                state=JobState.QUEUED,
                locked_by=None,
                locked_until=None,
                run_after=now,
                updated_at=now,
                error="its worker stopped; running it again",
            )
            .execution_options(synchronize_session=False)
        )
        failed = db.session.execute(
            update(Job)
            .where(Job.state == JobState.RUNNING, Job.locked_until < now)
            .values(
                state=JobState.FAILED,
                locked_by=None,
                finished_at=now,
                updated_at=now,
                error="its worker stopped every time; gave up",
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return rowcount(requeued) + rowcount(failed)

    def run_due(self, limit: int | None = None) -> int:
        ran = 0
        while limit is None or ran < limit:
            claimed = self.claim()
            if claimed is None:
                break
            self.run(claimed)
            ran += 1
        return ran

    # --- one job ------------------------------------------------------------------

    def claim(self) -> JobContext | None:
        now = self.clock()
        candidate = (
            select(Job.id)
            .where(Job.state == JobState.QUEUED, Job.run_after <= now)
            .order_by(Job.run_after, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = db.session.execute(
            update(Job)
            .where(Job.id == candidate.scalar_subquery(), Job.state == JobState.QUEUED)
            .values(
                state=JobState.RUNNING,
                locked_by=self.worker_id,
                locked_until=now + self.lease,
                attempts=Job.attempts + 1,
                updated_at=now,
            )
            .returning(Job.id, Job.kind, Job.payload, Job.attempts)
            .execution_options(synchronize_session=False)
        ).first()
        db.session.commit()
        if row is None:
            return None
        return JobContext(
            job_id=row.id, kind=row.kind, payload=dict(row.payload or {}), attempt=row.attempts, runner=self
        )

    def run(self, context: JobContext) -> None:
        handler = self.handlers.get(context.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for jobs of kind {context.kind!r}")
            result = handler(context)
        except RetryLater as retry:
            db.session.rollback()
            self._finish(context, JobState.QUEUED, error=str(retry), delay=retry.delay, counted=False)
        except Exception as exc:
            db.session.rollback()
            log.exception("job %s (%s) failed on attempt %s", context.job_id, context.kind, context.attempt)
            job = db.session.get(Job, context.job_id)
            final = handler is None or job is None or context.attempt >= job.max_attempts
            self._finish(
                context,
                JobState.FAILED if final else JobState.QUEUED,
                error=f"{type(exc).__name__}: {exc}",
                delay=None if final else backoff(context.attempt),
            )
        else:
            db.session.commit()
            self._finish(context, JobState.DONE, result=result)

    def _finish(
        self,
        context: JobContext,
        state: JobState,
        *,
        error: str = "",
        result: dict | None = None,
        delay: float | None = None,
        counted: bool = True,
    ) -> None:
        now = self.clock()
        values: dict[str, Any] = {
            "state": state,
            "locked_by": None,
            "locked_until": None,
            "updated_at": now,
            "error": error[:2000],
        }
        if state in (JobState.DONE, JobState.FAILED):
            values["finished_at"] = now
        if result is not None:
            values["result"] = result
        if delay is not None:
            values["run_after"] = now + timedelta(seconds=delay)
        if not counted:
            values["attempts"] = Job.attempts - 1
        db.session.execute(
            update(Job).where(Job.id == context.job_id, Job.locked_by == self.worker_id).values(**values)
        )
        db.session.commit()
