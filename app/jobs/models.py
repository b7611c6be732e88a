"""Durable background work: one row per job, claimed by ``pressroom worker``.

Nothing long runs in a web process: a request stores what the job needs (an
uploaded file goes into ``uploads`` first) and adds a row; a worker on any
machine claims it with ``FOR UPDATE SKIP LOCKED``, reports progress on the row,
retries failures with backoff, and records the outcome."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import NO_ID_REUSE, BigId, Model, state_type, utcnow


class JobState(StrEnum):
    QUEUED = "queued"  # waiting for run_after
    RUNNING = "running"  # claimed; locked_until is the lease
    DONE = "done"
    FAILED = "failed"  # gave up after max_attempts (error says why)
    CANCELLED = "cancelled"


class Job(Model):
    __tablename__ = "jobs"
    __table_args__ = (
        # The claim: queued jobs that are due, oldest first.
        Index(
            "ix_jobs_due", "run_after", postgresql_where=text("state = 'queued'"), sqlite_where=text("state = 'queued'")
        ),
        Index("ix_jobs_kind_state", "kind", "state"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(state_type(JobState, "state"), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None]
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0)
    progress_total: Mapped[int | None] = mapped_column(BigInteger)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")
    # At most one live job per key (e.g. one webhook delivery per event id).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Upload(Model):
    """A file a job will read, kept in the database (chunked) so any worker on
    any machine can read it and it never sits in a public bucket."""

    __tablename__ = "uploads"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(300), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UploadChunk(Model):
    __tablename__ = "upload_chunks"

    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
