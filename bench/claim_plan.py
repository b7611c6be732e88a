"""The worker's claim query on a big deliveries table: its plan and its time (issue 14).

Builds (once, kept between runs) a PostgreSQL database at head with one running
send of ``--rows`` deliveries (default 10,000,000): the first half sent, 1% of
those failed, the second half queued, 0.1% of it waiting as retries. Then the
real ``SqlDeliveryStore.claim`` (without the re-check of each recipient's
subscription, a primary-key join) takes batches at the start, the middle and
the end of the queued range, and due retries; each claim's statements are captured
as SQLAlchemy sends them, shown with ``EXPLAIN (ANALYZE, BUFFERS)`` (in a
transaction rolled back), and the claim is timed against a baseline of
``SELECT 1`` round trips in the same run. The send page's counts are timed too.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_claims \\
        .venv/bin/python bench/claim_plan.py [--rows 10000000] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from app.sending import tally  # noqa: E402
from app.sending.ports import SystemClock  # noqa: E402
from app.sending.sql_store import SqlDeliveryStore  # noqa: E402

BATCH = 32


def build(rows: int) -> int:
    """The bench send (made once); returns its id."""
    found = db.session.execute(text("SELECT id FROM sends WHERE subject = 'claim bench'")).scalar()
    if found is not None:
        return int(found)
    started = time.perf_counter()
    half = rows // 2
    db.session.execute(
        text(
            "INSERT INTO lists (name, slug, public, description, created_at) "
            "VALUES ('claims', 'claims', false, '', now())"
        )
    )
    db.session.execute(
        text(
            "INSERT INTO issues (slug, title, subject, preheader, body, status, version, excluded_event_ids, "
            "front_matter, auto_events, created_at, updated_at) VALUES ('claims', 'Claims', 'Claims', '', 'Hello.', "
            "'sending', 1, '[]', '{}', false, now(), now())"
        )
    )
    send_id = int(
        db.session.execute(
            text(
                "INSERT INTO sends (issue_id, status, scheduled_at, created_at, started_at, pause_reason, "
                "recipient_count, subject, html_body, text_body) SELECT id, 'running', now(), now(), now(), '', :n, "
                "'claim bench', '', '' FROM issues WHERE slug = 'claims' RETURNING id"
            ),
            {"n": rows},
        ).scalar_one()
    )
    db.session.execute(
        text("INSERT INTO send_lists (send_id, list_id) SELECT :s, id FROM lists WHERE slug = 'claims'"), {"s": send_id}
    )
    db.session.execute(
        text(
            "INSERT INTO deliveries (send_id, email, status, attempts, next_attempt_at, message_id, error, updated_at, "
            "sent_at) SELECT :s, 'r' || g || '@example.com', "
            "CASE WHEN g <= :half AND g % 100 = 0 THEN 'failed' WHEN g <= :half THEN 'sent' ELSE 'queued' END, "
            "CASE WHEN g <= :half THEN 1 ELSE 0 END, "
            "CASE WHEN g > :half AND g % 1000 = 0 THEN now() - interval '1 minute' END, "
            "CASE WHEN g <= :half AND g % 100 <> 0 THEN 'msg-' || g END, "
            "CASE WHEN g <= :half AND g % 100 = 0 THEN '550 mailbox unavailable' "
            "     WHEN g > :half AND g % 1000 = 0 THEN 'throttled' END, "
            "now(), CASE WHEN g <= :half AND g % 100 <> 0 THEN now() END FROM generate_series(1, :n) AS g"
        ),
        {"s": send_id, "half": half, "n": rows},
    )
    db.session.execute(
        text(
            "UPDATE sends SET first_delivery_id = r.lo, last_delivery_id = r.hi FROM "
            "(SELECT min(id) lo, max(id) hi FROM deliveries WHERE send_id = :s) r WHERE id = :s"
        ),
        {"s": send_id},
    )
    tally.recount(send_id)
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE deliveries"))
    size = db.session.execute(text("SELECT pg_size_pretty(pg_total_relation_size('deliveries'))")).scalar()
    print(f"built {rows:,} deliveries in {time.perf_counter() - started:.0f} s; deliveries with indexes: {size}")
    return send_id


class Capture:
    """The statements a claim sends, with their parameters."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        event.listen(db.engine, "before_cursor_execute", self.record)

    def record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:  # noqa: ARG002
        self.statements.append((statement, parameters))


def explain(statement: str, parameters: Any) -> str:
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) {statement}", parameters)
            plan = "\n".join("      " + row[0] for row in cur.fetchall())
        raw.rollback()
    return plan


def claim_once(store: SqlDeliveryStore, send_id: int, capture: Capture | None) -> float:
    """One claim of BATCH rows, rolled back so the next one finds the same rows."""
    started = time.perf_counter()
    n, _rows = store.claim(send_id, BATCH, "bench-worker", timedelta(minutes=5))
    elapsed = time.perf_counter() - started
    db.session.rollback()
    store.deltas.clear()
    store.claims.clear()
    store.claim_of.clear()
    if capture is not None:
        capture.statements = [s for s in capture.statements if s[0].lstrip().upper().startswith("UPDATE")]
    assert n == BATCH, n
    return elapsed


def without_recheck(store: SqlDeliveryStore) -> SqlDeliveryStore:
    """The bench's rows have no subscribers, so the re-check (a primary-key join to
    subscribers for the claimed rows) would skip them all; it is left out here."""
    store._recheck = lambda send_id, claimed: []  # type: ignore[method-assign]  # noqa: ARG005
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_claims"),
    )
    args = parser.parse_args()
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade()
        send_id = build(args.rows)
        first, last = db.session.execute(
            text("SELECT first_delivery_id, last_delivery_id FROM sends WHERE id = :s"), {"s": send_id}
        ).one()
        db.session.commit()
        baseline = []
        for _ in range(50):
            started = time.perf_counter()
            db.session.execute(text("SELECT 1"))
            db.session.commit()
            baseline.append(time.perf_counter() - started)
        base = statistics.median(baseline)
        print(f"baseline round trip (SELECT 1 + commit): {base * 1000:.2f} ms")
        queued_from = first + (last - first + 1) // 2
        for label, cursor in (
            ("start of the queued half", queued_from - 1),
            ("middle", queued_from + (last - queued_from) // 2),
            ("end", last - 5000),
        ):
            store = without_recheck(SqlDeliveryStore(app, SystemClock(), shard=1))
            store.refresh_retries()
            store.retry_at.clear()  # the id-range path alone
            span = store._range(send_id)
            assert span is not None
            times = []
            for _ in range(20):
                span.cursor = cursor
                times.append(claim_once(store, send_id, None))
            capture = Capture()
            span.cursor = cursor
            claim_once(store, send_id, capture)
            event.remove(db.engine, "before_cursor_execute", capture.record)
            median = statistics.median(times)
            print(
                f"\nclaim of {BATCH} at the {label} (cursor {cursor:,}): median {median * 1000:.2f} ms "
                f"= {median / base:.1f}x a round trip"
            )
            statement, parameters = capture.statements[0]
            print("   " + " ".join(statement.split())[:300])
            print(explain(statement, parameters))
        store = without_recheck(SqlDeliveryStore(app, SystemClock(), shard=1))
        store.refresh_retries()
        capture = Capture()
        retry_time = claim_once(store, send_id, capture)
        event.remove(db.engine, "before_cursor_execute", capture.record)
        print(f"\nclaim of {BATCH} due retries: {retry_time * 1000:.2f} ms = {retry_time / base:.1f}x a round trip")
        statement, parameters = capture.statements[0]
        print(explain(statement, parameters))
        started = time.perf_counter()
        counts = tally.counts_for([send_id])[send_id]
        print(f"\nsend page counts {counts}: {(time.perf_counter() - started) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
