"""Bulk actions on subscribers: on a selection (ids ticked on a page, run in
the request) or on every match of a search (a ``subscribers.bulk`` job in the
worker, so a million matches never hold a web process).

A job walks the matches in keyset batches ordered by email; each batch and the
job's cursor are committed together, so a worker that dies mid-way leaves a job
that the next worker resumes after the last finished batch, never redoing or
skipping one. Only subscribers that existed when the admin confirmed are
touched (``max_id``): someone signing up meanwhile is not erased by a filter
they happen to match.

Erasing goes through the caller's ``erase`` (``app.sending.erasure``, which
this package may not import): deliveries and feedback lose the address too."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from app.audit import record
from app.db import db, utcnow
from app.errors import Forbidden, InvalidInput, NotFound
from app.jobs import JobContext, enqueue
from app.jobs.models import Job, Upload, UploadChunk
from app.subscribers.browse import Filters, forget_counts
from app.subscribers.bulk_export import export_lines, header, write_chunk
from app.subscribers.models import MailingList, Subscriber, Subscription, SubscriptionStatus, Suppression
from app.subscribers.suppression import email_hash

__all__ = [
    "ACTIONS",
    "ADMIN_ONLY",
    "BATCH",
    "KIND",
    "Actor",
    "Erase",
    "Plan",
    "filters_from",
    "job_view",
    "plan",
    "run_job",
    "run_now",
    "start_job",
    "summary",
]

ACTIONS = {
    "add": "Add to list",
    "remove": "Remove from list",
    "unsubscribe": "Unsubscribe from all lists",
    "suppress": "Suppress",
    "erase": "Erase",
    "export": "Export CSV",
}
# Personal data in bulk or irreversible: as for one subscriber, admins only.
ADMIN_ONLY = frozenset({"suppress", "erase", "export"})
NEEDS_LIST = frozenset({"add", "remove"})
BATCH = 500
KIND = "subscribers.bulk"

Erase = Callable[[Subscriber], None]


class Actor:
    """Who asked (a user, or a job's record of one)."""

    def __init__(self, user_id: int, email: str, is_admin: bool) -> None:
        self.id, self.email, self.is_admin = user_id, email, is_admin


@dataclass
class Plan:
    """A checked request: what to do, to which list, and on what."""

    action: str
    target: MailingList | None
    ids: list[int] | None  # None: every match of the filters

    @property
    def label(self) -> str:
        if self.target is not None:
            return f"{ACTIONS[self.action]} {self.target.name}"
        return ACTIONS[self.action]


def plan(action: str, target_list_id: int | None, ids: Iterable[int] | None, actor: Actor) -> Plan:
    """Check the request before anything is counted or changed."""
    if action not in ACTIONS:
        raise InvalidInput("Choose an action.")
    if action in ADMIN_ONLY and not actor.is_admin:
        raise Forbidden(f"Only admins may {ACTIONS[action].lower()} subscribers.")
    target = None
    if action in NEEDS_LIST:
        target = db.session.get(MailingList, target_list_id) if target_list_id else None
        if target is None:
            raise InvalidInput("Choose the list to add to or remove from.")
    chosen = None if ids is None else sorted(set(ids))
    if chosen is not None and not chosen:
        raise InvalidInput("Tick at least one subscriber, or choose all matches.")
    return Plan(action, target, chosen)


# --- one batch -----------------------------------------------------------------


def _insert_ignoring_duplicates(table: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(table).values(rows).on_conflict_do_nothing())


def _add(batch: list[Subscriber], target: MailingList, source: str) -> Counter[str]:
    """New subscriptions, active (the admin vouches for consent, as with "Add").
    Someone who unsubscribed from the list or whose address is suppressed is
    left as they are: a bulk action never overrides a reader's own choice."""
    ids = [s.id for s in batch]
    existing = dict(
        db.session.execute(
            select(Subscription.subscriber_id, Subscription.status).where(
                Subscription.list_id == target.id, Subscription.subscriber_id.in_(ids)
            )
        ).all()
    )
    blocked = set(db.session.scalars(select(Suppression.email).where(Suppression.email.in_([s.email for s in batch]))))
    now, counts, rows = utcnow(), Counter[str](), []
    for subscriber in batch:
        if subscriber.id in existing:
            counts["already" if existing[subscriber.id] != "unsubscribed" else "skipped_unsubscribed"] += 1
        elif subscriber.email in blocked or subscriber.status == "suppressed":
            counts["skipped_suppressed"] += 1
        else:
            rows.append(
                {
                    "subscriber_id": subscriber.id,
                    "list_id": target.id,
                    "status": SubscriptionStatus.ACTIVE.value,
                    "source": source[:100],
                    "created_at": now,
                    "confirmed_at": now,
                }
            )
    _insert_ignoring_duplicates(Subscription.__table__, rows)
    counts["added"] += len(rows)
    return counts


def _unsubscribe(ids: list[int], list_id: int | None) -> int:
    query = update(Subscription).where(Subscription.subscriber_id.in_(ids), Subscription.status != "unsubscribed")
    if list_id is not None:
        query = query.where(Subscription.list_id == list_id)
    result = db.session.execute(
        query.values(status=SubscriptionStatus.UNSUBSCRIBED, unsubscribed_at=utcnow()).execution_options(
            synchronize_session=False
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _suppress(batch: list[Subscriber], reason: str, source: str) -> Counter[str]:
    """Suppress every address (an existing suppression keeps its reason: a
    bounce says more than "manual") and end every subscription."""
    now = utcnow()
    rows = [
        {
            "email_hash": email_hash(s.email),
            "email": s.email,
            "reason": reason,
            "source": source[:200],
            "created_at": now,
        }
        for s in batch
    ]
    _insert_ignoring_duplicates(Suppression.__table__, rows)
    ids = [s.id for s in batch]
    db.session.execute(
        update(Subscriber)
        .where(Subscriber.id.in_(ids))
        .values(status="suppressed")
        .execution_options(synchronize_session=False)
    )
    return Counter({"subscriptions_ended": _unsubscribe(ids, None), "done": len(batch)})


def _apply(action: str, batch: list[Subscriber], target: MailingList | None, source: str, erase: Erase) -> Counter:
    if action == "add":
        assert target is not None
        return _add(batch, target, source)
    if action == "remove":
        assert target is not None
        return Counter({"removed": _unsubscribe([s.id for s in batch], target.id), "done": len(batch)})
    if action == "unsubscribe":
        return _suppress(batch, "unsubscribed-all", source)
    if action == "suppress":
        return _suppress(batch, "manual", source)
    if action == "erase":
        for subscriber in batch:
            erase(subscriber)  # commits each one (the erasure path owns its transaction)
        return Counter({"erased": len(batch)})
    raise InvalidInput(f"{action} is not a change")


# --- in the request ---------------------------------------------------------------


def run_now(chosen: Plan, actor: Actor, erase: Erase) -> Counter[str]:
    """A ticked selection (a page at most). Commits."""
    assert chosen.ids is not None and chosen.action != "export"
    batch = list(db.session.scalars(select(Subscriber).where(Subscriber.id.in_(chosen.ids)).order_by(Subscriber.email)))
    if not batch:
        raise NotFound("None of those subscribers exists any more.")
    counts = _apply(chosen.action, batch, chosen.target, f"admin:{actor.email}", erase)
    record(
        actor, f"bulk-{chosen.action}", "subscribers", 0, f"{chosen.label}: {len(batch)} selected; {summary(counts)}"
    )
    db.session.commit()
    forget_counts()
    return counts


def summary(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{key.replace('_', ' ')} {value:,}" for key, value in sorted(counts.items()) if value)


# --- as a job ------------------------------------------------------------------------


def start_job(chosen: Plan, filters: Mapping[str, Any], total: int, actor: Actor) -> Job:
    """Queue the job for every match (flushed; the caller commits). ``filters``
    is the search as JSON (``q``, ``list``, ``state``, ``segment``: its text and
    lists, frozen now as a send freezes its segment)."""
    payload = {
        "action": chosen.action,
        "target": chosen.target.id if chosen.target else None,
        "filters": dict(filters),
        "max_id": db.session.scalar(select(func.max(Subscriber.id))) or 0,
        "confirmed_count": total,
        "actor": {"id": actor.id, "email": actor.email},
        "after": None,
        "counts": {},
        "label": chosen.label,
    }
    job = enqueue(KIND, payload, created_by_id=actor.id, max_attempts=5)
    assert job is not None
    record(actor, f"bulk-{chosen.action}", "subscribers", 0, f"{chosen.label}: all {total} matches (job {job.id})")
    return job


def filters_from(payload: Mapping[str, Any], condition: ColumnElement[bool] | None) -> Filters:
    saved = payload.get("filters") or {}
    segment = saved.get("segment") or {}
    return Filters(
        q=str(saved.get("q") or ""),
        list_id=saved.get("list"),
        state=saved.get("state"),
        condition=condition,
        within_lists=tuple(segment.get("lists") or ()),
    )


def run_job(context: JobContext, condition: ColumnElement[bool] | None, erase: Erase) -> dict[str, Any]:
    """The job: batches of BATCH matches after the saved cursor, each committed
    with the cursor and counts; progress after each."""
    payload = dict(context.payload)
    action = str(payload["action"])
    target = db.session.get(MailingList, payload["target"]) if payload.get("target") else None
    if action in NEEDS_LIST and target is None:
        return {"skipped": "the list was deleted"}
    filters = filters_from(payload, condition)
    source = f"admin:{payload['actor']['email']}"
    counts: Counter[str] = Counter(payload.get("counts") or {})
    total = int(payload.get("confirmed_count") or 0)
    done = int(payload.get("processed") or 0)
    upload_id = payload.get("upload")
    if action == "export" and upload_id is None:
        upload = Upload(filename=f"subscribers-{context.job_id}.csv", content_type="text/csv", created_by_id=None)
        db.session.add(upload)
        db.session.flush()
        upload_id = payload["upload"] = upload.id
        write_chunk(upload_id, 0, header())
        _save(context.job_id, payload)
    while True:
        query = (
            select(Subscriber)
            .where(*filters.where(), Subscriber.id <= int(payload["max_id"]))
            .order_by(Subscriber.email)
            .limit(BATCH)
        )
        if payload.get("after") is not None:
            query = query.where(Subscriber.email > payload["after"])
        batch = list(db.session.scalars(query))
        if not batch:
            break
        if action == "erase":
            for subscriber in batch:
                # The cursor goes into the erasure's own commit: a crash between
                # two erasures resumes exactly after the last one.
                payload["after"], payload["processed"] = subscriber.email, done + 1
                counts["erased"] += 1
                payload["counts"] = dict(counts)
                _save(context.job_id, payload)
                erase(subscriber)
                done += 1
            context.progress(done, max(total, done))
            continue
        payload["after"] = batch[-1].email  # saved with the batch's changes, in one commit
        if action == "export":
            seq = db.session.scalar(select(func.count()).where(UploadChunk.upload_id == upload_id)) or 0
            write_chunk(int(payload["upload"]), seq, "".join(export_lines(batch, with_header=False)))
            counts["exported"] += len(batch)
        else:
            counts.update(_apply(action, batch, target, source, erase))
        done += len(batch)
        payload["counts"], payload["processed"] = dict(counts), done
        _save(context.job_id, payload)
        db.session.commit()
        context.progress(done, max(total, done))
    if action != "export":
        forget_counts()
    return {"counts": dict(counts), "upload": upload_id, "summary": summary(counts) or "nothing matched"}


def _save(job_id: int, payload: dict[str, Any]) -> None:
    db.session.execute(update(Job).where(Job.id == job_id).values(payload=dict(payload)))


def job_view(job: Job) -> dict[str, Any]:
    """What the status page and its poller show."""
    payload = job.payload or {}
    total = job.progress_total or int(payload.get("confirmed_count") or 0)
    result = job.result or {}
    return {
        "id": job.id,
        "state": str(job.state),
        "label": payload.get("label", job.kind),
        "action": payload.get("action"),
        "done": job.progress_done,
        "total": total,
        "percent": 100 if str(job.state) == "done" else (min(100, job.progress_done * 100 // total) if total else 0),
        "summary": result.get("summary") or summary(payload.get("counts") or {}),
        "error": job.error if str(job.state) == "failed" else "",
        "download": bool(result.get("upload")) and str(job.state) == "done",
        "expired": bool(result.get("expired")),
    }
