"""Delivery counts per send and state, kept in ``send_counts``.

Counting rows by state on every page view (and on every bounce, for the
auto-pause check) reads the whole send; at a million recipients that is a
second of work each time, and an index on ``status`` would make every
claim and answer an index write. Instead each state change adds its delta
here, in the transaction that makes the change, so the counts are exactly
the rows' states at every commit. :func:`recount` rebuilds them from the
rows (``pressroom sends recount``), and the test suite checks after every
test that they agree.

Writers pick a shard: worker processes their own, web requests shard 0, so
two workers never wait for the same counter row."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from app.db import db, utcnow
from app.sending.models import DELIVERY_STATES, Delivery, SendCount, SendProgress

__all__ = [
    "SHARDS",
    "Deltas",
    "add",
    "add_progress",
    "counts_for",
    "moved",
    "pending",
    "recount",
    "sent_rate",
    "worker_shard",
]

SHARDS = 16
Deltas = Mapping[tuple[int, str], int]  # (send id, state) -> change


def worker_shard() -> int:
    return random.randrange(1, SHARDS)


def _upsert(model: type, values: list[dict[str, object]], key: list[str], column: str) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(values)
    target = model.__table__.c[column]  # type: ignore[attr-defined]
    db.session.execute(stmt.on_conflict_do_update(index_elements=key, set_={column: target + stmt.excluded[column]}))


# PostgreSQL: constant statements with the rows as arrays (compiled once, prepared
# by the server), since the worker writes them in every cycle.
_PG_COUNTS = text(
    "INSERT INTO send_counts (send_id, status, shard, n) "
    "SELECT s, st, CAST(:shard AS smallint), n FROM unnest(CAST(:sends AS int[]), CAST(:states AS text[]), "
    "CAST(:ns AS bigint[])) AS v(s, st, n) "
    "ON CONFLICT (send_id, status, shard) DO UPDATE SET n = send_counts.n + EXCLUDED.n"
)
_PG_PROGRESS = text(
    "INSERT INTO send_progress (send_id, minute, shard, sent) "
    "SELECT s, CAST(:minute AS timestamp), CAST(:shard AS smallint), n FROM unnest(CAST(:sends AS int[]), "
    "CAST(:ns AS int[])) AS v(s, n) "
    "ON CONFLICT (send_id, minute, shard) DO UPDATE SET sent = send_progress.sent + EXCLUDED.sent"
)


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def add(deltas: Deltas, shard: int = 0) -> None:
    """Apply state changes (flushes with the caller's transaction). Rows are
    written in key order, so concurrent writers of one shard cannot deadlock."""
    rows = [
        {"send_id": send_id, "status": status, "shard": shard, "n": n}
        for (send_id, status), n in sorted(deltas.items())
        if n
    ]
    if rows and _postgresql():
        db.session.execute(
            _PG_COUNTS,
            {
                "shard": shard,
                "sends": [r["send_id"] for r in rows],
                "states": [r["status"] for r in rows],
                "ns": [r["n"] for r in rows],
            },
        )
    elif rows:
        _upsert(SendCount, rows, ["send_id", "status", "shard"], "n")


def moved(rows: Iterable[tuple[int, str]], source: str) -> dict[tuple[int, str], int]:
    """Deltas for rows (send id, new state) that all left ``source``."""
    deltas: dict[tuple[int, str], int] = defaultdict(int)
    for send_id, target in rows:
        if target != source:
            deltas[(send_id, source)] -= 1
            deltas[(send_id, str(target))] += 1
    return deltas


def add_progress(sent: Mapping[int, int], at: datetime, shard: int = 0) -> None:
    minute = at.replace(second=0, microsecond=0)
    rows = [{"send_id": s, "minute": minute, "shard": shard, "sent": n} for s, n in sorted(sent.items()) if n]
    if rows and _postgresql():
        db.session.execute(
            _PG_PROGRESS,
            {
                "minute": minute,
                "shard": shard,
                "sends": [r["send_id"] for r in rows],
                "ns": [r["sent"] for r in rows],
            },
        )
    elif rows:
        _upsert(SendProgress, rows, ["send_id", "minute", "shard"], "sent")


def counts_for(send_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    ids = sorted(set(send_ids))
    result = {send_id: dict.fromkeys(DELIVERY_STATES, 0) for send_id in ids}
    if ids:
        for send_id, status, n in db.session.execute(
            select(SendCount.send_id, SendCount.status, func.sum(SendCount.n))
            .where(SendCount.send_id.in_(ids))
            .group_by(SendCount.send_id, SendCount.status)
        ):
            result[send_id][str(status)] = int(n)
    return result


def pending(send_id: int) -> int:
    """Rows still queued or claimed."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(SendCount.n), 0)).where(
                SendCount.send_id == send_id, SendCount.status.in_(("queued", "claimed"))
            )
        )
        or 0
    )


def sent_rate(send_id: int, window: timedelta = timedelta(minutes=1)) -> float:
    """Messages per second over the last ``window`` of whole minutes plus the current one."""
    now = utcnow()
    start = now.replace(second=0, microsecond=0) - window
    total = db.session.scalar(
        select(func.coalesce(func.sum(SendProgress.sent), 0)).where(
            SendProgress.send_id == send_id, SendProgress.minute >= start
        )
    )
    return float(total or 0) / max(1.0, (now - start).total_seconds())


def recount(send_id: int) -> dict[str, int]:
    """Rebuild a send's counts from its rows (a repair tool; reads the whole send)."""
    actual = dict(
        db.session.execute(
            select(Delivery.status, func.count()).where(Delivery.send_id == send_id).group_by(Delivery.status)
        ).all()
    )
    db.session.execute(delete(SendCount).where(SendCount.send_id == send_id))
    add({(send_id, str(status)): int(n) for status, n in actual.items()})
    return {str(status): int(n) for status, n in actual.items()}
