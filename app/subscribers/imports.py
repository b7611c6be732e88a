"""Admin CSV imports as jobs: the upload is stored in the database before the
request returns, and ``pressroom worker`` imports it, recording progress and
outcome on a ``SubscriberImport`` row that the admin page polls. A web
process killed right after the upload loses nothing.

Imports are safe to run again (one transaction per batch; existing addresses
count as "already"), so a worker that dies mid-import leaves a job that the
next worker finishes."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from flask import current_app
from werkzeug.datastructures import FileStorage

from app.db import db, utcnow
from app.errors import NotFound
from app.jobs import JobContext, enqueue, read_upload, store_upload
from app.jobs.models import Upload
from app.subscribers.csv_batches import MAX_REPORTED_ERRORS, ImportResult
from app.subscribers.csv_columns import Mapping_, RowValues, propose
from app.subscribers.csv_import import CsvImportError, import_csv
from app.subscribers.lists import ListError, find_list, slugify
from app.subscribers.models import ImportState, SubscriberImport

MAX_UPLOAD_BYTES = 512 * 1024 * 1024


def _options(list_name: str, status: str) -> str:
    list_name = " ".join((list_name or "").split())
    if not list_name or not slugify(list_name):
        raise CsvImportError("Choose a list or type the name of a new one.")
    if status not in ("active", "pending"):
        raise CsvImportError("Status must be active or pending.")
    return list_name


def store_csv(upload: FileStorage | None, list_name: str, status: str, user_id: int | None) -> Upload:
    """Check the options and store the upload (flushed; the caller commits).
    The mapping step reads it, then :func:`queue_import` imports it."""
    _options(list_name, status)
    if upload is None or not upload.filename:
        raise CsvImportError("Choose a CSV file to upload.")
    limit = int(current_app.config.get("IMPORT_MAX_BYTES", MAX_UPLOAD_BYTES))
    try:
        return store_upload(upload.stream, upload.filename, "text/csv", user_id, max_bytes=limit)
    except ValueError as exc:
        raise CsvImportError(f"The file is too large ({exc}); import it with `pressroom subscribers import`.") from exc


def stored_csv(upload_id: int, user_id: int | None) -> Upload:
    """An upload waiting for its mapping, only for the user who uploaded it."""
    stored = db.session.get(Upload, upload_id)
    if stored is None or stored.created_by_id != user_id or stored.content_type != "text/csv":
        raise NotFound("This upload is gone (imported already, or expired); upload the file again.")
    return stored


def propose_columns(stored: Upload) -> Mapping_:
    """The mapping step's proposal, from the upload's first rows."""
    return propose(io.BufferedReader(_UploadStream(read_upload(stored.id)), 1 << 16))


def start_import(upload: FileStorage | None, list_name: str, status: str, user_id: int | None) -> SubscriberImport:
    """Store the upload and queue its import without attributes (flushed; the caller commits)."""
    return queue_import(store_csv(upload, list_name, status, user_id), list_name, status, user_id)


def queue_import(
    stored: Upload, list_name: str, status: str, user_id: int | None, mapping: Mapping_ | None = None
) -> SubscriberImport:
    """Queue the import of a stored upload with the mapped attribute columns."""
    list_name = _options(list_name, status)
    existing = find_list(list_name)
    job = SubscriberImport(
        filename=(stored.filename or "")[:300],
        subscription_status=status,
        total_bytes=stored.size,
        created_by_id=user_id,
        list_id=existing.id if existing else None,
        list_name=list_name[:200],
    )
    db.session.add(job)
    db.session.flush()
    payload: dict[str, Any] = {"import": job.id, "upload": stored.id}
    if mapping is not None and mapping.columns:
        payload["attributes"] = mapping.payload()
    queued = enqueue("subscribers.import", payload, created_by_id=user_id, max_attempts=3)
    assert queued is not None
    job.job_id = queued.id
    return job


class _UploadStream(io.RawIOBase):
    """An upload's chunks as a readable byte stream (one chunk in memory)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.buffer = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self.buffer:
            self.buffer = next(self.chunks, b"")
            if not self.buffer:
                return 0
        size = min(len(target), len(self.buffer))
        target[:size], self.buffer = self.buffer[:size], self.buffer[size:]
        return size


def run_import_job(context: JobContext) -> dict[str, Any]:
    """The job: import the stored upload into the list, then delete the upload."""
    import_id, upload_id = int(context.payload["import"]), int(context.payload["upload"])
    job = db.session.get(SubscriberImport, import_id)
    if job is None:
        return {"skipped": "the import record is gone"}
    job.state = ImportState.RUNNING
    db.session.commit()

    def progress(result: ImportResult) -> None:
        _record(import_id, result, ImportState.RUNNING)
        context.progress(result.bytes_read, job.total_bytes)

    try:
        stream = io.BufferedReader(_UploadStream(read_upload(upload_id)), 1 << 16)
        result = import_csv(
            stream,
            job.list_name,
            job.subscription_status,
            tag=f"import:{import_id}",
            progress=progress,
            user_id=job.created_by_id,
            attributes=RowValues(context.payload["attributes"]) if context.payload.get("attributes") else None,
        )
    except (CsvImportError, ListError) as exc:
        db.session.rollback()
        _finish(import_id, ImportState.FAILED, str(exc))
        _delete_upload(upload_id)
        return {"failed": str(exc)}
    _record(import_id, result, ImportState.DONE)
    _finish(import_id, ImportState.DONE, result.summary())
    _delete_upload(upload_id)
    return {"rows": result.rows, "imported": result.imported}


def _delete_upload(upload_id: int) -> None:
    upload = db.session.get(Upload, upload_id)
    if upload is not None:
        db.session.delete(upload)  # its chunks go with it (ON DELETE CASCADE)
        db.session.commit()


def _record(import_id: int, result: ImportResult, state: ImportState) -> None:
    job = db.session.get(SubscriberImport, import_id)
    if job is None:
        return
    job.state = state
    job.bytes_read, job.rows, job.imported = result.bytes_read, result.rows, result.imported
    job.already, job.suppressed = result.already, result.suppressed
    job.duplicates, job.invalid = result.duplicates, result.invalid
    job.errors = json.dumps(sorted(result.errors)[:MAX_REPORTED_ERRORS])
    db.session.commit()


def _finish(import_id: int, state: ImportState, message: str) -> None:
    job = db.session.get(SubscriberImport, import_id)
    if job is None:
        return
    mailing_list = find_list(job.list_name) if job.list_id is None else None
    if mailing_list is not None:
        job.list_id = mailing_list.id
    job.state, job.message, job.finished_at = state, message, utcnow()
    if state == ImportState.DONE:
        job.bytes_read = job.total_bytes
    db.session.commit()


def job_status(job: SubscriberImport) -> dict[str, Any]:
    """What the progress poller needs (JSON)."""
    return {
        "id": job.id,
        "state": job.state,
        "bytes_read": job.bytes_read,
        "total_bytes": job.total_bytes,
        "percent": min(100, job.bytes_read * 100 // job.total_bytes) if job.total_bytes else 100,
        "rows": job.rows,
        "imported": job.imported,
        "already": job.already,
        "suppressed": job.suppressed,
        "duplicates": job.duplicates,
        "invalid": job.invalid,
        "message": job.message if job.state in (ImportState.DONE, ImportState.FAILED) else "",
        "errors": json.loads(job.errors or "[]")[:200],
    }
