"""Admin CSV imports as job rows: the upload is saved to the instance folder,
imported in a background thread (small files inline), and its progress and
outcome recorded on a ``SubscriberImport`` row that the admin page polls.

A job interrupted by a restart stays ``running`` with its last progress; the
rows already written are complete (one transaction per batch), so importing
the same file again finishes it (existing addresses count as "already")."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

from flask import Flask, current_app
from werkzeug.datastructures import FileStorage

from app.db import db, utcnow
from app.subscribers.csv_import import MAX_REPORTED_ERRORS, CsvImportError, ImportResult, import_csv
from app.subscribers.lists import ListError, find_list, slugify
from app.subscribers.models import SubscriberImport

INLINE_MAX_BYTES = 256 * 1024  # below this the request waits for the result
_threads: dict[int, threading.Thread] = {}


def _upload_dir() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_import(upload: FileStorage, list_name: str, status: str, user_id: int | None) -> SubscriberImport:
    """Save the upload and run the import (inline when small, else in a thread)."""
    list_name = " ".join((list_name or "").split())
    if not list_name or not slugify(list_name):
        raise CsvImportError("Choose a list or type the name of a new one.")
    if status not in ("active", "pending"):
        raise CsvImportError("Status must be active or pending.")
    if upload is None or not upload.filename:
        raise CsvImportError("Choose a CSV file to upload.")
    path = _upload_dir() / f"{uuid.uuid4().hex}.csv"
    upload.save(path)
    existing = find_list(list_name)
    job = SubscriberImport(filename=(upload.filename or "")[:300], subscription_status=status,
                           total_bytes=path.stat().st_size, created_by_id=user_id,
                           list_id=existing.id if existing else None, list_name=list_name[:200])
    db.session.add(job)
    db.session.commit()
    limit = int(current_app.config.get("IMPORT_INLINE_MAX_BYTES", INLINE_MAX_BYTES))
    if job.total_bytes <= limit:
        run_import(job.id, path, list_name)
        db.session.refresh(job)
    else:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        thread = threading.Thread(target=_run_in_app, args=(app, job.id, path, list_name),
                                  name=f"subscriber-import-{job.id}", daemon=True)
        _threads[job.id] = thread
        thread.start()
    return job


def _run_in_app(app: Flask, job_id: int, path: Path, list_name: str) -> None:
    with app.app_context():
        try:
            run_import(job_id, path, list_name)
        finally:
            db.session.remove()


def wait(job_id: int, timeout: float = 60) -> None:
    """For tests and the CLI: block until a background import finished."""
    thread = _threads.pop(job_id, None)
    if thread is not None:
        thread.join(timeout)


def run_import(job_id: int, path: Path, list_name: str) -> None:
    job = db.session.get(SubscriberImport, job_id)
    if job is None:
        return
    job.state = "running"
    db.session.commit()

    def progress(result: ImportResult) -> None:
        _record(job_id, result, "running")

    try:
        with path.open("rb") as stream:
            result = import_csv(stream, list_name, job.subscription_status, tag=f"import:{job_id}",
                                progress=progress)
    except (CsvImportError, ListError) as exc:
        db.session.rollback()
        _finish(job_id, "failed", str(exc))
    except Exception:
        db.session.rollback()
        current_app.logger.exception("subscriber import %s failed", job_id)
        _finish(job_id, "failed", "The import stopped on an unexpected error (logged). Rows written "
                                  "before it are complete; importing the file again finishes the job.")
    else:
        _record(job_id, result, "done")
        _finish(job_id, "done", result.summary())
    finally:
        path.unlink(missing_ok=True)


def _record(job_id: int, result: ImportResult, state: str) -> None:
    job = db.session.get(SubscriberImport, job_id)
    if job is None:
        return
    job.state = state
    job.bytes_read, job.rows, job.imported = result.bytes_read, result.rows, result.imported
    job.already, job.suppressed = result.already, result.suppressed
    job.duplicates, job.invalid = result.duplicates, result.invalid
    job.errors = json.dumps(sorted(result.errors)[:MAX_REPORTED_ERRORS])
    db.session.commit()


def _finish(job_id: int, state: str, message: str) -> None:
    job = db.session.get(SubscriberImport, job_id)
    if job is None:
        return
    mailing_list = find_list(job.list_name) if job.list_id is None else None
    if mailing_list is not None:
        job.list_id = mailing_list.id
    job.state, job.message, job.finished_at = state, message, utcnow()
    if state == "done":
        job.bytes_read = job.total_bytes
    db.session.commit()


def job_status(job: SubscriberImport) -> dict:
    """What the progress poller needs (JSON)."""
    return {"id": job.id, "state": job.state, "bytes_read": job.bytes_read, "total_bytes": job.total_bytes,
            "percent": min(100, job.bytes_read * 100 // job.total_bytes) if job.total_bytes else 100,
            "rows": job.rows, "imported": job.imported, "already": job.already,
            "suppressed": job.suppressed, "duplicates": job.duplicates, "invalid": job.invalid,
            "message": job.message if job.state in ("done", "failed") else "",
            "errors": json.loads(job.errors or "[]")[:200]}
