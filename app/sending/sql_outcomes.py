"""Writing the transport's answers: one UPDATE per kind of answer per cycle.

The answers of a cycle (usually all ``sent``) are joined to the rows through
arrays (PostgreSQL), so fifty answers are one statement and one round trip, and
RETURNING says exactly which rows moved (a row is written only while it is
still this claim's: ``claimed``, or ``unknown`` when its lease ran out before
the answer came, and the answer settles it)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text, update

from app.db import db
from app.sending.models import Delivery, DeliveryStatus
from app.sending.ports import Decision, Verdict

__all__ = ["Applied", "apply_outcomes"]

D = DeliveryStatus
TARGET = {Verdict.SENT: D.SENT, Verdict.FAILED: D.FAILED, Verdict.UNKNOWN: D.UNKNOWN, Verdict.RETRY: D.QUEUED}
# The fields of one answer, in the order apply_outcomes builds them.
COLUMNS = ("b_id", "b_claim", "b_message", "b_error", "b_next", "b_tries", "b_status")


@dataclass
class Applied:
    moves: defaultdict[tuple[int, str, str], int] = field(default_factory=lambda: defaultdict(int))
    sent: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    retries: dict[int, datetime] = field(default_factory=dict)  # send id -> soonest retry written


def _sets(verdict: Verdict, field: Callable[[str], Any], now: datetime) -> dict[str, Any]:
    """The columns an answer writes; ``field`` gives the answer's own values."""
    if verdict == Verdict.SENT:
        return {
            "status": D.SENT,
            "message_id": field("b_message"),
            "sent_at": now,
            "updated_at": now,
            "error": None,
            "lease_expires_at": None,
        }
    if verdict == Verdict.RETRY:
        return {
            "status": D.QUEUED,
            "worker_id": None,
            "claim_id": None,
            "attempts": field("b_tries"),
            "next_attempt_at": field("b_next"),
            "error": field("b_error"),
            "updated_at": now,
            "lease_expires_at": None,
        }
    return {"status": field("b_status"), "error": field("b_error"), "updated_at": now, "lease_expires_at": None}


# PostgreSQL: one constant statement per kind of answer, the answers passed as
# arrays. A VALUES list built per cycle was compiled anew for every batch size
# (a third of the worker's time went there); these strings compile once and
# PostgreSQL prepares them.
_ANSWERS = (
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:claims AS bigint[]), CAST(:messages AS text[]), "
    "CAST(:errors AS text[]), CAST(:nexts AS timestamp[]), CAST(:tries AS int[]), CAST(:statuses AS text[])) "
    "AS v(id, claim_id, message_id, error, next_attempt_at, attempts, status) "
    "WHERE d.id = v.id AND d.claim_id = v.claim_id AND d.status = :source RETURNING d.id, d.send_id"
)
_PG_SETS = {
    Verdict.SENT: "status = 'sent', message_id = v.message_id, sent_at = :now, updated_at = :now, error = NULL, "
    "lease_expires_at = NULL",
    Verdict.RETRY: "status = 'queued', worker_id = NULL, claim_id = NULL, attempts = v.attempts, "
    "next_attempt_at = v.next_attempt_at, error = v.error, updated_at = :now, lease_expires_at = NULL",
}
_PG_OTHER = "status = v.status, error = v.error, updated_at = :now, lease_expires_at = NULL"


def _write(verdict: Verdict, rows: list[tuple[Any, ...]], source: D, now: datetime) -> list[tuple[int, int]]:
    if db.session.get_bind().dialect.name != "postgresql":
        return _write_each(verdict, rows, source, now)
    ids, claims, messages, errors, nexts, tries, statuses = (list(c) for c in zip(*rows, strict=True))
    sql = f"UPDATE deliveries AS d SET {_PG_SETS.get(verdict, _PG_OTHER)} {_ANSWERS}"
    found = db.session.execute(
        text(sql),
        {
            "ids": ids,
            "claims": claims,
            "messages": messages,
            "errors": errors,
            "nexts": nexts,
            "tries": tries,
            "statuses": statuses,
            "source": source.value,
            "now": now,
        },
    )
    return [(int(delivery_id), int(send_id)) for delivery_id, send_id in found]


def _write_each(verdict: Verdict, rows: list[tuple[Any, ...]], source: D, now: datetime) -> list[tuple[int, int]]:
    """SQLite (one worker): a statement per row. Python's sqlite3 opens its
    implicit transaction only before a statement that starts with UPDATE, so
    a WITH ... UPDATE would commit on its own there, apart from the counts
    that must move in the same transaction."""
    written = []
    for row in rows:
        fields = dict(zip(COLUMNS, row, strict=True))
        found = db.session.execute(
            update(Delivery)
            .where(Delivery.id == fields["b_id"], Delivery.claim_id == fields["b_claim"], Delivery.status == source)
            .values(**_sets(verdict, fields.__getitem__, now))
            .returning(Delivery.id, Delivery.send_id)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if found is not None:
            written.append((int(found[0]), int(found[1])))
    return written


def apply_outcomes(decisions: list[Decision], claims: dict[int, int], now: datetime) -> Applied:
    """Write ``decisions`` (``claims``: delivery id -> the claim it was taken under)."""
    applied = Applied()
    groups: dict[Verdict, list[Decision]] = defaultdict(list)
    for decision in decisions:
        groups[decision.verdict].append(decision)
    for verdict, group in groups.items():
        target = TARGET[verdict]
        rows = {
            d.delivery_id: (
                d.delivery_id,
                claims.get(d.delivery_id, 0),
                d.message_id,
                d.error or None,
                d.retry_at,
                d.attempts,
                target.value,
            )
            for d in group
        }
        sources = [D.CLAIMED] if target == D.UNKNOWN else [D.CLAIMED, D.UNKNOWN]
        for source in sources:
            if not rows:
                break
            for delivery_id, send_id in _write(verdict, list(rows.values()), source, now):
                retry_at = rows.pop(delivery_id)[4]
                applied.moves[(send_id, source.value, target.value)] += 1
                if target == D.SENT:
                    applied.sent[send_id] += 1
                if verdict == Verdict.RETRY and retry_at is not None:
                    applied.retries[send_id] = min(retry_at, applied.retries.get(send_id, retry_at))
    return applied
