"""Putting work on the queue and reading its state (any process may)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.db import db, utcnow
from app.jobs.models import Job, JobState, Upload, UploadChunk

__all__ = ["CHUNK_BYTES", "enqueue", "read_upload", "set_progress", "store_upload"]

CHUNK_BYTES = 1 << 20


def enqueue(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_after: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 8,
    created_by_id: int | None = None,
) -> Job | None:
    """Add a job (flushed; the caller commits, so the job exists exactly when
    what it works on does). With ``dedupe_key``, a second job of the same key is
    not added and None is returned."""
    job = Job(
        kind=kind,
        payload=payload or {},
        state=JobState.QUEUED,
        run_after=run_after or utcnow(),
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
        created_by_id=created_by_id,
    )
    if dedupe_key is None:
        db.session.add(job)
        db.session.flush()
        return job
    if db.session.scalar(select(Job.id).where(Job.dedupe_key == dedupe_key)) is not None:
        return None
    try:
        with db.session.begin_nested():
            db.session.add(job)
    except IntegrityError:  # another process added it first
        return None
    return job


def set_progress(job_id: int, done: int, total: int | None = None) -> None:
    """Progress for the admin's progress bar (the caller commits)."""
    values: dict[str, Any] = {"progress_done": done, "updated_at": utcnow()}
    if total is not None:
        values["progress_total"] = total
    db.session.execute(update(Job).where(Job.id == job_id).values(**values))


def store_upload(
    stream: Any, filename: str, content_type: str, user_id: int | None, max_bytes: int | None = None
) -> Upload:
    """Copy an uploaded file into the database in 1 MB chunks (bounded memory),
    so the worker that imports it needs no shared disk. Flushed."""
    upload = Upload(
        filename=filename[:300], content_type=content_type[:100] or "application/octet-stream", created_by_id=user_id
    )
    db.session.add(upload)
    db.session.flush()
    size = 0
    for seq in range(1 << 30):
        data = stream.read(CHUNK_BYTES)
        if not data:
            break
        size += len(data)
        if max_bytes is not None and size > max_bytes:
            raise ValueError(f"the file is larger than {max_bytes} bytes")
        db.session.add(UploadChunk(upload_id=upload.id, seq=seq, data=data))
        db.session.flush()
    upload.size = size
    return upload


def read_upload(upload_id: int) -> Iterator[bytes]:
    """The upload's bytes, chunk by chunk."""
    seq = 0
    while True:
        data = db.session.scalar(
            select(UploadChunk.data).where(UploadChunk.upload_id == upload_id, UploadChunk.seq == seq)
        )
        if data is None:
            return
        yield bytes(data)
        seq += 1
