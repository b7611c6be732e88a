"""The bulk export: CSV of subscribers with their state per list and every
declared attribute written as the importer reads it back, each cell
formula-safe (:mod:`csv_export`).
A job writes it batch by batch into the ``uploads`` table, where the admin
downloads it; the hourly worker deletes it a day later (personal data in bulk)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.db import db, utcnow
from app.jobs.models import Job, Upload, UploadChunk
from app.subscribers.attributes import definitions
from app.subscribers.browse import states_per_list
from app.subscribers.csv_export import attribute_cell, neutralise
from app.subscribers.models import Subscriber

__all__ = ["EXPORT_KEPT", "drop_old_exports", "export_lines", "export_selection", "header", "write_chunk"]


def write_chunk(upload_id: int, seq: int, content: str) -> None:
    data = content.encode("utf-8")
    db.session.add(UploadChunk(upload_id=upload_id, seq=seq, data=data))
    db.session.execute(update(Upload).where(Upload.id == upload_id).values(size=Upload.size + len(data)))


_FIXED = ["email", "name", "lists", "source", "created_at"]


def header() -> str:
    return _csv([_FIXED + [f"attribs.{key}" for key in sorted(definitions())]])


def _csv(rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue()


def export_lines(batch: list[Subscriber], *, with_header: bool = True) -> Iterator[str]:
    """CSV of these subscribers: their state per list and every declared
    attribute, each cell formula-safe (csv_export.neutralise)."""
    keys = sorted(definitions())
    if with_header:
        yield header()
    states = states_per_list(batch)
    yield _csv(
        [
            s.email,
            s.name,
            "; ".join(f"{name}: {state}" for name, state in states.get(s.id, [])),
            s.source,
            s.created_at,
            *(attribute_cell((s.attributes or {}).get(key)) for key in keys),
        ]
        for s in batch
    )


def export_selection(ids: list[int]) -> Iterator[str]:
    """A ticked selection as CSV (small: one query)."""
    batch = list(db.session.scalars(select(Subscriber).where(Subscriber.id.in_(ids)).order_by(Subscriber.email)))
    return export_lines(batch)


EXPORT_KEPT = timedelta(days=1)


def drop_old_exports(kind: str, now: datetime | None = None) -> int:
    """Delete the files of exports finished more than EXPORT_KEPT ago (they
    hold personal data in bulk; the job page then says the file expired).
    Run hourly by the worker. Commits."""
    cutoff = (now or utcnow()) - EXPORT_KEPT
    dropped = 0
    for job in db.session.scalars(select(Job).where(Job.kind == kind, Job.finished_at < cutoff)):
        upload_id = (job.result or {}).get("upload")
        if upload_id is None:
            continue
        upload = db.session.get(Upload, upload_id)
        if upload is not None:
            db.session.delete(upload)  # its chunks go with it (ON DELETE CASCADE)
        job.result = {**(job.result or {}), "upload": None, "expired": True}
        dropped += 1
    db.session.commit()
    return dropped
