"""How long ``pressroom db upgrade`` (0001_initial -> head) takes on PostgreSQL at
the size of the 1M-subscriber benchmark, and how long it blocks writers on
``deliveries``.

The bench database (BENCH_DATABASE_URL) is dropped and recreated, built at the
v0.1 schema by the real CLI (``pressroom db upgrade 0001_initial``) and filled
with server-side SQL: users, lists, N subscribers with their subscriptions, a
few issues, a finished send (mostly sent), a running send (sent, claimed by two
dead workers, queued, retries) and delivery/open feedback for 10% of the sent
rows. Then the CLI upgrades it to head while a writer does what a live v0.1 app
does (single-row UPDATEs of deliveries and INSERTs into feedback_events, each
its own transaction, no lock_timeout), timing every statement, and a poller
samples pg_stat_activity/pg_locks every 50 ms for lock waits and for the
statement the upgrade is running.

    .venv/bin/python bench/upgrade.py [--subscribers 1000000] [--deliveries 1000000]

Env: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/bench_upgrade),
BENCH_SUBSCRIBERS, BENCH_DELIVERIES.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import threading
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
PRESSROOM = REPO / ".venv" / "bin" / "pressroom"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_upgrade"
FORBIDDEN = {"test", "bench", "postgres", "template0", "template1"}
WORKER_A, WORKER_B = "mail-1-4242-a1b2c3", "mail-2-777-d4e5f6"
ID_TABLES = ("users", "lists", "subscribers", "events", "issues", "revisions", "sends", "deliveries")  # explicit ids

SMALL_TABLES = """
INSERT INTO users (id, email, name, role, password_hash, session_token, is_enabled, created_at, last_login_at)
SELECT id, email, name, role, '$argon2id$v=19$m=65536,t=3,p=4$YmVuY2g$YmVuY2g', md5(email), enabled,
       localtimestamp - interval '90 days', localtimestamp
FROM (VALUES (1, 'ada@example.com', 'Ada Admin', 'admin', true), (2, 'eddie@example.com', 'Eddie', 'editor', true),
             (3, 'old@example.com', '', 'editor', false)) AS v(id, email, name, role, enabled);
INSERT INTO lists (id, name, slug, description, from_address, public, created_at)
VALUES (1, 'Weekly', 'weekly', 'Our weekly letter.', NULL, true, localtimestamp),
       (2, 'Staff', 'staff', '', 'Staff <staff@example.com>', false, localtimestamp),
       (3, 'Events only', 'events', 'Talks and meetups.', NULL, true, localtimestamp);
INSERT INTO events (id, title, url, starts_at, ends_at, timezone, all_day, location, speakers, description, source,
                    created_at)
VALUES (1, 'PyCon talk', 'https://example.org/talk', localtimestamp + interval '10 days', NULL, 'Europe/Berlin',
        false, 'Berlin', 'Ada', '', 'admin', localtimestamp);
INSERT INTO event_lists (event_id, list_id) VALUES (1, 1), (1, 3);
INSERT INTO issues (id, slug, title, subject, preheader, body, issue_date, status, version, events_heading,
                    excluded_event_ids, source_filename, front_matter, front_matter_text, created_at, updated_at,
                    updated_by_id, approved_by_id, approved_at, sent_at)
SELECT id, slug, 'Issue ' || slug, 'Subject of ' || slug, '', 'Body of ' || slug || E'.\n\n[[events]]\n',
       current_date, status, 1, NULL, '[]'::json, src, '{}'::json, NULL, localtimestamp - interval '30 days',
       localtimestamp - interval '20 days', 2, CASE WHEN status <> 'draft' THEN 1 END,
       CASE WHEN status <> 'draft' THEN localtimestamp - interval '8 days' END,
       CASE WHEN status = 'sent' THEN localtimestamp - interval '7 days' END
FROM (VALUES (1, 'draft-notes', 'draft', NULL), (2, 'approved-letter', 'approved', NULL),
             (3, 'scheduled-letter', 'scheduled', NULL), (4, 'sending-letter', 'sending', NULL),
             (5, 'sent-letter', 'sent', NULL), (6, '2018-09-05-archive', 'sent', '_posts/2018-09-05-archive.md'),
             (7, 'cancelled-letter', 'cancelled', NULL)) AS v(id, slug, status, src);
INSERT INTO issue_lists (issue_id, list_id) SELECT id, 1 FROM issues;
INSERT INTO revisions (id, issue_id, number, title, subject, preheader, body, author_id, created_at, note)
SELECT id, id, 1, title, subject, preheader, body, 2, created_at, 'approved' FROM issues;
INSERT INTO sends (id, issue_id, status, scheduled_at, created_by_id, created_at, started_at, finished_at,
                   pause_reason, recipient_count, subject, html_body, text_body)
SELECT id, issue, status, localtimestamp + start, 1, localtimestamp - interval '8 days',
       CASE WHEN status <> 'scheduled' THEN localtimestamp + start END,
       CASE WHEN status = 'finished' THEN localtimestamp + start + interval '20 minutes' END, '', n,
       'Subject of send ' || id, '<!doctype html><html><body><p>Hello</p></body></html>', 'Hello'
FROM (VALUES (1, 5, 'finished', interval '-7 days', %(finished)s), (2, 4, 'running', interval '-90 minutes',
             %(running)s), (3, 3, 'scheduled', interval '1 day', 0)) AS v(id, issue, status, start, n);
INSERT INTO send_lists (send_id, list_id) VALUES (1, 1), (2, 1), (3, 1);
INSERT INTO daily_stats (send_id, day, kind, url, count) VALUES (1, current_date, 'open', '', 120);
INSERT INTO rate_buckets (name, rate, tokens, updated_at, max_24h, sent_last_24h, quota_checked_at, throttled_until)
VALUES ('ses', 14.0, 3.5, localtimestamp, 50000, 1234, localtimestamp, NULL);
INSERT INTO settings (key, value) VALUES ('newsletter_name', '"Bench Weekly"'), ('track_opens', 'true');
"""
SUBSCRIBERS = """
INSERT INTO subscribers (id, email, name, status, source, created_at, confirmation_sent_at)
SELECT g, 'reader' || g || '@example.com', 'Reader ' || g,
       CASE WHEN mod(g, 200) = 0 THEN 'suppressed' ELSE 'enabled' END,
       CASE WHEN mod(g, 3) = 0 THEN 'import:2024.csv' ELSE 'signup' END,
       localtimestamp - mod(g, 1000) * interval '1 hour',
       CASE WHEN mod(g, 3) <> 0 THEN localtimestamp - mod(g, 1000) * interval '1 hour' END
FROM generate_series(1, %(n)s) g;
INSERT INTO subscriptions (subscriber_id, list_id, status, source, created_at, confirmed_at, unsubscribed_at,
                           requested_at)
SELECT g, l, CASE WHEN mod(g, 50) = 0 THEN 'unsubscribed' WHEN mod(g, 97) = 0 THEN 'pending' ELSE 'active' END,
       'signup',
       localtimestamp - interval '30 days', CASE WHEN mod(g, 97) <> 0 THEN localtimestamp - interval '30 days' END,
       CASE WHEN mod(g, 50) = 0 THEN localtimestamp - interval '1 day' END, localtimestamp - interval '30 days'
FROM generate_series(1, %(n)s) g CROSS JOIN (VALUES (1), (3)) AS v(l) WHERE l = 1 OR mod(g, 10) = 0;
INSERT INTO suppressions (email_hash, email, reason, source, created_at)
SELECT encode(sha256(convert_to(email, 'UTF8')), 'hex'), email, 'hard-bounce', 'ses bounce', localtimestamp
FROM subscribers WHERE status = 'suppressed';
"""
# One send's rows, ids first..last; st is the v0.1 state of position k, retry a queued row waiting for a retry.
DELIVERIES = """
INSERT INTO deliveries (id, send_id, subscriber_id, list_id, email, status, worker_id, lease_expires_at, attempts,
                        next_attempt_at, message_id, error, updated_at, sent_at, delivered_at)
SELECT g, %(send)s, s, 1, 'reader' || s || '@example.com', st,
       CASE WHEN st IN ('sent', 'failed', 'unknown') THEN %(a)s WHEN st = 'claimed' THEN
            CASE WHEN mod(g, 2) = 0 THEN %(a)s ELSE %(b)s END END,
       CASE WHEN st = 'claimed' THEN localtimestamp + (mod(g, 5) - 2) * interval '1 minute' END,
       CASE WHEN st IN ('sent', 'failed', 'claimed', 'unknown') OR retry THEN 1 ELSE 0 END,
       CASE WHEN retry THEN localtimestamp + interval '1 minute' END,
       CASE WHEN st = 'sent' THEN '0100019' || lpad(g::text, 10, '0') || '-5e1f-4c6e-a6f3-000000000000-000000' END,
       CASE WHEN retry THEN 'throttled: Maximum sending rate exceeded' WHEN st = 'failed' THEN '550 mailbox unavailable'
            WHEN st = 'skipped' THEN 'unsubscribed or suppressed since the send started'
            WHEN st = 'unknown' THEN 'worker stopped before recording the result' END,
       ts, CASE WHEN st = 'sent' THEN ts END, CASE WHEN st = 'sent' AND mod(g, 2) = 0 THEN ts + interval '1 minute' END
FROM (SELECT g, mod(g - %(first)s, %(n)s) + 1 AS s, st, st = 'queued' AND mod(g, 500) = 0 AS retry,
             localtimestamp - interval '1 hour' + (g - %(first)s) * interval '1 millisecond' AS ts
      FROM generate_series(%(first)s, %(last)s) g,
           LATERAL (SELECT g - %(first)s AS k) pos,
           LATERAL (SELECT CASE WHEN k >= %(sent)s THEN
                                    CASE WHEN k < %(sent)s + %(claimed)s THEN 'claimed' ELSE 'queued' END
                                WHEN mod(k, 100) = 97 THEN 'failed' WHEN mod(k, 100) = 98 THEN 'skipped'
                                WHEN mod(k, 100) = 99 THEN 'unknown' ELSE 'sent' END AS st) z) x;
"""
FEEDBACK = """
INSERT INTO feedback_events (send_id, delivery_id, email, kind, detail, url, occurred_at, is_first)
SELECT send_id, id, email, CASE WHEN mod(id, 20) = 0 THEN 'delivery' ELSE 'open' END, '', NULL,
       sent_at + interval '5 minutes', true
FROM deliveries WHERE status = 'sent' AND mod(id, 10) = 0;
"""
WAITS = """
SELECT w.pid, w.query_start, extract(epoch FROM now() - w.query_start)::float8, left(w.query, 120),
       coalesce(l.relation::regclass::text, l.locktype), l.mode,
       (SELECT string_agg(left(b.query, 300), ' | ') FROM pg_stat_activity b
          WHERE b.pid = ANY(pg_blocking_pids(w.pid))),
       (SELECT string_agg(h.mode, ',') FROM pg_locks h WHERE h.pid = ANY(pg_blocking_pids(w.pid))
          AND h.relation = l.relation AND h.granted)
FROM pg_stat_activity w JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted
WHERE w.wait_event_type = 'Lock' AND w.datname = current_database()
"""
ACTIVE = """
SELECT pid, query_start, extract(epoch FROM now() - query_start)::float8, left(query, 300) FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend' AND state = 'active' AND pid <> ALL(%s)
"""


def conninfo(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return (parsed.set(database=database) if database else parsed).render_as_string(hide_password=False)


def recreate(url: str) -> None:
    name = make_url(url).database
    if not name or name in FORBIDDEN:
        raise SystemExit(f"refusing to drop database {name!r}: use a database of its own")
    with psycopg.connect(conninfo(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def cli(url: str, *args: str) -> float:
    """The real ``pressroom db ...`` in its own process; returns its wall time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESSROOM_")}
    env.update(PRESSROOM_DATABASE_URL=url, PRESSROOM_SECRET_KEY="bench")
    started = time.perf_counter()
    done = subprocess.run([str(PRESSROOM), "db", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pressroom db {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def fill(url: str, subscribers: int, deliveries: int) -> float:
    finished = deliveries * 6 // 10
    running = deliveries - finished
    if max(finished, running) > subscribers:
        raise SystemExit("each send has at most one delivery per subscriber: --deliveries <= 1.6 * --subscribers")
    started = time.perf_counter()
    with psycopg.connect(conninfo(url), cursor_factory=psycopg.ClientCursor) as conn:  # several statements
        conn.execute(SMALL_TABLES, {"finished": finished, "running": running})
        conn.execute(SUBSCRIBERS, {"n": subscribers})
        rows = {"n": subscribers, "a": WORKER_A, "b": WORKER_B}
        conn.execute(DELIVERIES, {**rows, "send": 1, "first": 1, "last": finished, "sent": finished, "claimed": 0})
        claimed = {"sent": running * 3 // 10, "claimed": running // 200}  # then queued (and retries)
        conn.execute(DELIVERIES, {**rows, "send": 2, "first": finished + 1, "last": deliveries, **claimed})
        conn.execute(FEEDBACK)
        for table in ID_TABLES:  # explicit ids: the sequences continue after them
            seq = f"pg_get_serial_sequence('{table}', 'id')"
            conn.execute(f"SELECT setval({seq}, (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


class Writer(threading.Thread):
    """A live v0.1 app on deliveries: one-statement transactions, timed, no lock_timeout."""

    def __init__(self, url: str, deliveries: int, finished: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.deliveries, self.finished, self.interval = deliveries, finished, interval
        self.halt = threading.Event()
        self.samples: list[tuple[float, float, str]] = []  # (start, latency, kind)
        self.errors: list[str] = []
        self.conn = psycopg.connect(conninfo(url), autocommit=True)
        self.pid = self.conn.info.backend_pid

    def run(self) -> None:
        rng = random.Random(1)
        while not self.halt.is_set():
            row = rng.randint(1, self.deliveries)
            kind = "update" if rng.random() < 0.5 else "insert"
            started = time.perf_counter()
            try:
                if kind == "update":
                    self.conn.execute("UPDATE deliveries SET updated_at = localtimestamp WHERE id = %s", (row,))
                else:
                    self.conn.execute(
                        "INSERT INTO feedback_events (send_id, delivery_id, email, kind, detail, url, occurred_at,"
                        " is_first) VALUES (%s, %s, NULL, 'open', '', NULL, localtimestamp, false)",
                        (1 if row <= self.finished else 2, row),
                    )
            except psycopg.Error as exc:
                self.errors.append(f"{kind}: {str(exc).splitlines()[0]}")
            self.samples.append((started, time.perf_counter() - started, kind))
            time.sleep(self.interval)
        self.conn.close()


class Poller(threading.Thread):
    """Every 50 ms: who waits on a lock (and on whom), and what the upgrade is running."""

    def __init__(self, url: str, skip: list[int]) -> None:
        super().__init__(daemon=True)
        self.url, self.skip = url, skip
        self.halt = threading.Event()
        self.waits: dict[tuple[int, object], tuple[float, str, str, str, str, str]] = {}
        self.statements: dict[tuple[int, object, str], float] = {}

    def run(self) -> None:
        with psycopg.connect(conninfo(self.url), autocommit=True) as conn:
            skip = [*self.skip, conn.info.backend_pid]
            while not self.halt.is_set():
                for pid, start, waited, query, rel, mode, blocker, held in conn.execute(WAITS):
                    if waited > self.waits.get((pid, start), (-1.0,))[0]:
                        self.waits[(pid, start)] = (waited, query, rel, mode, blocker or "?", held or "?")
                for pid, start, elapsed, query in conn.execute(ACTIVE, (skip,)):
                    key = (pid, start, query)
                    self.statements[key] = max(elapsed, self.statements.get(key, 0.0))
                time.sleep(0.05)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description="Time pressroom db upgrade 0001 -> head.")
    parser.add_argument("--subscribers", type=int, default=int(os.environ.get("BENCH_SUBSCRIBERS", 1_000_000)))
    parser.add_argument("--deliveries", type=int, default=int(os.environ.get("BENCH_DELIVERIES", 1_000_000)))
    parser.add_argument("--writer-interval", type=float, default=0.002, help="pause between writer statements (s)")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)

    recreate(url)
    print(f"schema v0.1 (pressroom db upgrade 0001_initial): {cli(url, 'upgrade', '0001_initial'):.1f} s")
    fill_s = fill(url, args.subscribers, args.deliveries)
    print(f"fill {args.subscribers:,} subscribers / {args.deliveries:,} deliveries + VACUUM ANALYZE: {fill_s:.1f} s")

    writer = Writer(url, args.deliveries, args.deliveries * 6 // 10, args.writer_interval)
    poller = Poller(url, [writer.pid])
    writer.start()
    time.sleep(1.0)  # a baseline of writer latencies before the upgrade
    poller.start()
    t0 = time.perf_counter()
    upgrade_s = cli(url, "upgrade")
    t1 = time.perf_counter()
    time.sleep(0.5)
    writer.halt.set()
    poller.halt.set()
    writer.join()
    poller.join()
    noop_s = cli(url, "upgrade")

    during = [(s, lat, k) for s, lat, k in writer.samples if s + lat >= t0 and s <= t1]
    latencies = [lat for _s, lat, _k in during]
    baseline = [lat for s, lat, _k in writer.samples if s + lat < t0]
    ends = sorted([t0, t1, *(s + lat for s, lat, _k in during if s + lat <= t1)])
    gap = max(b - a for a, b in zip(ends, ends[1:], strict=False))
    by_kind = {k: max((lat for _s, lat, kk in during if kk == k), default=0.0) for k in ("update", "insert")}
    print(f"\npressroom db upgrade (0001 -> head): {upgrade_s:.1f} s wall (CLI no-op at head: {noop_s:.1f} s)")
    print(
        f"writer during the upgrade: {len(during):,} statements, {len(writer.errors)} errors; latency max "
        f"{max(latencies, default=0):.3f} s (UPDATE deliveries {by_kind['update']:.3f} s, INSERT feedback_events "
        f"{by_kind['insert']:.3f} s), p99 {pct(latencies, 0.99):.4f} s, p50 {pct(latencies, 0.5):.4f} s; "
        f"longest gap {gap:.3f} s; baseline p99 before the upgrade {pct(baseline, 0.99):.4f} s"
    )
    for error in sorted(set(writer.errors)):
        print(f"  writer error ({writer.errors.count(error)}x): {error}")
    waits = sorted(poller.waits.values(), reverse=True)
    on_deliveries = [w for w in waits if w[2] == "deliveries"]
    for label, rows in (("lock wait on deliveries", on_deliveries[:1]), ("longest lock waits (any)", waits[:4])):
        for waited, query, rel, mode, blocker, held in rows:
            print(
                f"{label}: {waited:.2f} s, {query!r} waiting for {mode} on {rel}; blocker holds {held} on it, "
                f"running: {blocker!r}"
            )
    if not on_deliveries:
        print("lock wait on deliveries: none seen (polled every 50 ms)")
    print("longest statements of the upgrade (sampled every 50 ms):")
    for (_pid, _start, query), elapsed in sorted(poller.statements.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {elapsed:7.2f} s  {' '.join(query.split())[:160]}")
    stall = max(latencies, default=0.0)
    print(
        f"\n--- summary ---\ndb upgrade 0001 -> head on {args.subscribers:,} subscribers / {args.deliveries:,} "
        f"deliveries: {upgrade_s:.1f} s; longest writer stall on deliveries: {stall:.2f} s "
        f"(p99 {pct(latencies, 0.99):.2f} s); longest lock wait on deliveries: "
        f"{on_deliveries[0][0] if on_deliveries else 0:.2f} s; fill {fill_s:.0f} s"
    )


if __name__ == "__main__":
    main()
