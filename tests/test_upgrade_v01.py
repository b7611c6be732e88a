"""Upgrading a v0.1 database (migration 0001_initial, release 9901559) to head.

A database is built at v0.1's schema by the real CLI (``pressroom db upgrade
0001_initial``), every one of its tables is filled with realistic v0.1 rows
(tests/support/v01_data.py, plain SQL against the 0001 schema), and the CLI
upgrades it to head. Then every row must still be there with its meaning:
the v0.1 columns unchanged row by row, and what 0002/0003 derive from them
right (send counts, delivery id ranges, claims of a dead v0.1 worker, token
nonces, auto events of archive issues, the schema's CHECK constraints and
indexes). The app then works on the upgraded data: v0.1 passwords log in,
v0.1 unsubscribe/click/open links still work, issues render with their
events, a send v0.1 started composes its frozen email, a send v0.1 scheduled
starts, the new engine claims v0.1's queued rows and expires the dead
worker's claims. Finally ``pressroom db downgrade 0001_initial`` must give the
v0.1 rows back, and the upgrade must run again on the downgraded database.

Uses its own database (a temp SQLite file, or a separate PostgreSQL database
on the server of PRESSROOM_TEST_DATABASE_URL), never the suite's shared one.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import Engine, MetaData, create_engine, func, inspect, select, text

from app import create_app
from app.config import _normalise_db_url
from app.db import db
from tests.support import v01_data as v01
from tests.support.own_db import cli_env, own_database, pressroom

HEAD_TABLES_NEW = {
    "jobs",
    "quota_counters",
    "uploads",
    "upload_chunks",
    "user_sessions",
    "renderings",
    "delivery_claims",
    "send_counts",
    "send_progress",
    "issue_templates",
    "audit_events",
}
# The newest revision in migrations/versions (what `db upgrade` reaches).
HEAD = "0012_feedback_email_index"


# --- the database of this test ------------------------------------------------------


@pytest.fixture
def upgrade_db(tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: never the suite's shared one."""
    with own_database(tmp_path, "upgrade_test") as url:
        yield url


def cli(url: str, *args: str) -> str:
    """The real ``pressroom`` CLI in its own process, as an operator runs it."""
    return pressroom(cli_env(url, v01.SECRET_KEY), "db", *args)


def revision(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def reflect(engine: Engine) -> MetaData:
    meta = MetaData()
    meta.reflect(engine)
    return meta


def fill_v01(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert the v0.1 rows with Core against the reflected 0001 schema."""
    meta = reflect(engine)
    with engine.begin() as conn:
        for name, table_rows in rows.items():
            conn.execute(meta.tables[name].insert(), table_rows)
        if conn.dialect.name == "postgresql":
            # Explicit ids leave the sequences behind; v0.1 had handed these ids out itself.
            for name in rows:
                if "id" in meta.tables[name].c:
                    seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": name}).scalar()
                    if seq:
                        conn.execute(text(f"SELECT setval('{seq}', (SELECT max(id) FROM {name}))"))


def order_key(name: str) -> tuple[str, ...]:
    return v01.KEYS.get(name, ("id",))


def snapshot(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Each v0.1 table's rows, v0.1 columns only, in key order."""
    meta = reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table_rows in rows.items():
            table = meta.tables[name]
            columns = [table.c[c] for c in table_rows[0]]
            query = select(*columns).order_by(*(table.c[k] for k in order_key(name)))
            out[name] = [dict(r._mapping) for r in conn.execute(query)]
    return out


def expected(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {
        name: sorted(table_rows, key=lambda r: tuple(r[k] for k in order_key(name)))
        for name, table_rows in rows.items()
    }


def assert_rows_equal(got: dict[str, list[dict[str, Any]]], want: dict[str, list[dict[str, Any]]]) -> None:
    for name in want:
        assert len(got[name]) == len(want[name]), f"{name}: {len(got[name])} rows, v0.1 had {len(want[name])}"
        for before, after in zip(want[name], got[name], strict=True):
            changed = {c: (before[c], after[c]) for c in before if before[c] != after[c]}
            assert not changed, f"{name} {tuple(before[k] for k in order_key(name))}: changed {changed}"


def as_datetime(value: Any) -> datetime:
    """Raw SQL on SQLite reads a DATETIME back as its ISO text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def all_rows(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(text(sql))]


# --- what the new revisions derive ------------------------------------------------------


def check_derived(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    deliveries = rows["deliveries"]
    by_send: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for d in deliveries:
        by_send[d["send_id"]].append(d)
    group_by: dict[tuple[int, str], int] = defaultdict(int)
    for d in deliveries:
        group_by[(d["send_id"], d["status"])] += 1
    names = set(inspect(engine).get_table_names())
    assert names >= HEAD_TABLES_NEW, HEAD_TABLES_NEW - names
    with engine.connect() as conn:
        # send_counts: exactly the GROUP BY of the rows (v0.1 counted rows; the engine reads this)
        counts = all_rows(conn, "SELECT send_id, status, shard, n FROM send_counts ORDER BY send_id, status")
        assert {(s, st): n for s, st, _shard, n in counts} == dict(group_by)
        assert all(n > 0 for *_rest, n in counts) and {shard for _s, _st, shard, _n in counts} == {0}
        in_db = {
            (s, st): n
            for s, st, n in all_rows(conn, "SELECT send_id, status, count(*) FROM deliveries GROUP BY send_id, status")
        }
        assert {(s, st): n for s, st, _shard, n in counts} == in_db
        # sends: the id range of their rows (the workers scan it); none without rows
        ranges = {
            s: (f, last) for s, f, last in all_rows(conn, "SELECT id, first_delivery_id, last_delivery_id FROM sends")
        }
        for send in rows["sends"]:
            mine = [d["id"] for d in by_send.get(send["id"], [])]
            assert ranges[send["id"]] == ((min(mine), max(mine)) if mine else (None, None)), send["id"]
        assert all_rows(conn, "SELECT count(*) FROM sends WHERE rendering_id IS NOT NULL") == [(0,)]
        # claims: every row a dead v0.1 worker left claimed is covered by a claim of that worker,
        # whose lease is the latest of theirs; no other row belongs to a claim
        claims = {
            c[0]: c
            for c in all_rows(
                conn, "SELECT id, send_id, worker_id, first_id, last_id, lease_expires_at FROM delivery_claims"
            )
        }
        claimed = [d for d in deliveries if d["status"] == "claimed"]
        assert claimed, "the v0.1 data must have claimed rows"
        assert len(claims) == len({(d["send_id"], d["worker_id"]) for d in claimed})
        claim_of = dict(all_rows(conn, "SELECT id, claim_id FROM deliveries"))
        for d in deliveries:
            if d["status"] != "claimed":
                assert claim_of[d["id"]] is None, d["id"]
                continue
            claim = claims[claim_of[d["id"]]]
            _cid, send_id, worker, first_id, last_id, lease = claim
            assert (send_id, worker) == (d["send_id"], d["worker_id"])
            assert first_id <= d["id"] <= last_id
            theirs = [x["lease_expires_at"] for x in claimed if (x["send_id"], x["worker_id"]) == (send_id, worker)]
            assert as_datetime(lease) == max(theirs) >= d["lease_expires_at"]
        # new columns: nothing invented for v0.1 rows
        assert all_rows(conn, "SELECT count(*) FROM subscribers WHERE token_nonce IS NOT NULL") == [(0,)]
        assert all_rows(conn, "SELECT count(*) FROM users WHERE must_change_password") == [(0,)]
        assert all_rows(conn, "SELECT count(*) FROM subscriber_imports WHERE job_id IS NOT NULL") == [(0,)]
        assert all_rows(conn, "SELECT count(*) FROM issues WHERE approved_rendering_id IS NOT NULL") == [(0,)]
        # each issue's creator is the author of its first revision (0010); none without one
        creators = dict(all_rows(conn, "SELECT id, created_by_id FROM issues"))
        for issue in rows["issues"]:
            first = min(
                (r for r in rows["revisions"] if r["issue_id"] == issue["id"]), key=lambda r: r["number"], default=None
            )
            assert creators[issue["id"]] == (first["author_id"] if first else None), issue["slug"]
        assert any(creators.values()), "the v0.1 data must have issues with a revision author"
        # every user has a handle: the address's local part, unique (0010)
        handles = dict(all_rows(conn, "SELECT email, handle FROM users"))
        assert len(set(handles.values())) == len(handles) == len(rows["users"])
        for email, handle in handles.items():
            assert handle.split("-")[0] in email.split("@")[0].lower().replace("+", "-"), (email, handle)
        # archive issues imported as sent keep exactly their content (no events section added)
        auto = dict(all_rows(conn, "SELECT id, auto_events FROM issues"))
        for issue in rows["issues"]:
            archive_sent = issue["source_filename"] is not None and issue["status"] == "sent"
            assert bool(auto[issue["id"]]) is (not archive_sent), issue["slug"]
        # new tables v0.1's data leaves empty (all but the claims and the counts)
        for name in sorted(HEAD_TABLES_NEW - {"delivery_claims", "send_counts"}):
            assert all_rows(conn, f"SELECT count(*) FROM {name}") == [(0,)], name
    # the schema: state CHECKs, deliveries' indexes
    schema = inspect(engine)
    for name, constraint in (
        ("issues", "ck_issues_status"),
        ("sends", "ck_sends_status"),
        ("deliveries", "ck_deliveries_status"),
        ("subscriptions", "ck_subscriptions_status"),
        ("subscribers", "ck_subscribers_status"),
        ("users", "ck_users_role"),
        ("subscriber_imports", "ck_subscriber_imports_state"),
        ("send_counts", "ck_send_counts_status"),
    ):
        assert constraint in {c["name"] for c in schema.get_check_constraints(name)}, (name, constraint)
    indexes = {i["name"] for i in schema.get_indexes("deliveries")}
    assert {
        "ix_deliveries_retry",
        "ix_deliveries_problems",
        "ix_deliveries_message_id",
        "ix_deliveries_subscriber_id",
    } <= indexes
    assert "ix_deliveries_send_status" not in indexes
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # NOT VALID constraints validated, CONCURRENTLY built indexes valid, fillfactor set
            assert (
                all_rows(
                    conn,
                    "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                    "WHERE n.nspname = 'public' AND NOT c.convalidated",
                )
                == []
            )
            assert all_rows(conn, "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid") == []
            options = conn.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'deliveries'")).scalar()
            assert "fillfactor=50" in (options or [])
        else:
            # ids are never handed out twice: AUTOINCREMENT, its sequence past every v0.1 id
            seqs = dict(all_rows(conn, "SELECT name, seq FROM sqlite_sequence"))
            for name in (
                "users",
                "lists",
                "subscribers",
                "issues",
                "revisions",
                "sends",
                "deliveries",
                "suppressions",
                "feedback_events",
                "daily_stats",
                "events",
                "media",
                "subscriber_imports",
            ):
                top = max(r["id"] for r in rows[name])
                assert seqs.get(name, 0) >= top, (name, seqs.get(name), top)
            assert all_rows(conn, "PRAGMA foreign_key_check") == []
            assert all_rows(conn, "PRAGMA integrity_check") == [("ok",)]


# --- the app on the upgraded data ---------------------------------------------------------


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return 1_000_000.0

    def wait(self, seconds: float, stop: Any) -> bool:  # noqa: ARG002
        return False


def check_counts_agree() -> None:
    rows = db.session.execute(text("SELECT send_id, status, count(*) FROM deliveries GROUP BY send_id, status"))
    kept = db.session.execute(
        text("SELECT send_id, status, sum(n) FROM send_counts GROUP BY send_id, status HAVING sum(n) <> 0")
    )
    assert {(s, st): int(n) for s, st, n in kept} == {(s, st): int(n) for s, st, n in rows}


def use_the_app(url: str, tmp_path: Path, rows: dict[str, list[dict[str, Any]]]) -> None:
    from app.auth.models import User
    from app.auth.service import authenticate
    from app.issues.models import Issue
    from app.issues.rendering import readers_view, render, web_html
    from app.sending import service, tally
    from app.sending.compose import Composer
    from app.sending.models import Delivery, Send
    from app.sending.ports import RecipientRow
    from app.sending.sql_store import SqlDeliveryStore
    from app.subscribers.service import read_target
    from app.subscribers.suppression import is_suppressed

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": v01.SECRET_KEY,
            "WTF_CSRF_ENABLED": False,
            "BASE_URL": "http://127.0.0.1:5000",
            "MEDIA_URL": f"file://{tmp_path / 'media'}",
            "TRANSPORT": f"outbox:{tmp_path / 'outbox'}",
            "RATELIMIT_STORAGE_URI": "memory://",
            "SERVER_NAME": None,
        }
    )
    with app.app_context():
        try:
            # v0.1 argon2 hashes log in; a wrong password and a disabled account do not
            for address, password in v01.PASSWORDS.items():
                user = authenticate(address, password)
                if address == "old@example.com":
                    assert user is None
                else:
                    assert user is not None and user.email == address
                    assert authenticate(address, password + "x") is None
            db.session.commit()
            assert db.session.get(User, 1).is_admin and not db.session.get(User, 2).is_admin

            # v0.1 suppressions still hold, the erased address (hash only) too
            for address in ("frank@example.com", "mallory@example.com", "eve@example.com", v01.ERASED):
                assert is_suppressed(address), address
            assert not is_suppressed("alice@example.com")

            # links in emails v0.1 sent keep working: unsubscribe, click redirect, open pixel
            client = app.test_client()
            unsub = URLSafeSerializer(v01.SECRET_KEY, salt="pressroom.unsubscribe.v1").dumps([2, 1])
            target = read_target(unsub)
            assert target.subscriber is not None and target.subscriber.email == "bob@example.com"
            assert target.mailing_list is not None and target.mailing_list.slug == "weekly"
            page = client.get(f"/unsubscribe/{unsub}")
            assert page.status_code == 200 and "Weekly" in page.get_data(as_text=True)
            click = URLSafeSerializer(v01.SECRET_KEY, salt="pressroom.click.v1").dumps([1, "https://example.org/now"])
            hit = client.get(f"/r/{click}")
            assert hit.status_code == 302 and hit.headers["Location"] == "https://example.org/now"
            pixel = URLSafeSerializer(v01.SECRET_KEY, salt="pressroom.open.v1").dumps(1)
            assert client.get(f"/o/{pixel}.gif").status_code == 200
            db.session.expire_all()

            # issues render from their v0.1 content
            draft = db.session.get(Issue, 1)
            shown = render(draft, track_opens=False)
            assert "Still writing" in shown.web_html and "Meet us" in shown.email_html
            assert "PyCon talk" in shown.email_html  # its list's event, in the window
            assert "Community day" not in shown.email_html  # excluded in v0.1
            sent = db.session.get(Issue, 6)
            view = readers_view(sent)
            assert view.subject == "Subject of sent-letter" and "Read" in view.email_html
            # the email holds link slots filled per reader; the web version the plain link
            assert "https://example.org/more" in view.links and "https://example.org/more" in view.web_html
            archive = db.session.get(Issue, 7)
            assert "An archive issue." in web_html(archive) and "Where to find us" not in web_html(archive)

            # counts, read the way the app reads them, equal the rows
            want = {
                s["id"]: dict.fromkeys(("queued", "claimed", "sent", "failed", "skipped", "unknown"), 0)
                for s in rows["sends"]
            }
            for d in rows["deliveries"]:
                want[d["send_id"]][d["status"]] += 1
            assert tally.counts_for(want) == want
            assert service.counts(db.session.get(Send, 4)) == want[4]
            assert tally.pending(2) == want[2]["queued"] + want[2]["claimed"]

            # a send v0.1 started composes its frozen email, with this reader's links
            composer = Composer(db.session.get(Send, 2))
            message = composer.compose(RecipientRow(18, 9, 1, "ivan@example.com", "Ivan", None, 1))
            parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
            html = parsed.get_body(("html",)).get_content()
            text_part = parsed.get_body(("plain",)).get_content()
            assert parsed["To"] and "ivan@example.com" in parsed["To"]
            assert "unsubscribe.invalid" not in html + text_part and v01.V01_PIXEL not in html
            token = re.search(r"http://127\.0\.0\.1:5000/unsubscribe/([A-Za-z0-9_.-]+)", html).group(1)
            assert read_target(token).subscriber.id == 9
            assert "/r/" in html and "/o/" in html  # v0.1 settings: clicks and opens tracked

            # a send v0.1 scheduled starts on the new engine (its rendering frozen now)
            assert service.start_send(1)
            db.session.commit()
            started = db.session.get(Send, 1)
            reachable_active = {1, 2, 3, 7, 8, 9, 10, 13, 14}  # list 1 active, minus the suppressed
            assert {
                d.subscriber_id for d in db.session.scalars(select(Delivery).where(Delivery.send_id == 1))
            } == reachable_active
            assert started.rendering is not None and started.recipient_count == len(reachable_active)
            assert started.first_delivery_id > max(d["id"] for d in rows["deliveries"])
            check_counts_agree()

            # the new engine takes v0.1's queued rows (by id range, and the due retry) ...
            clock = FixedClock(v01.t(5))
            store = SqlDeliveryStore(app, clock, shard=3)
            store.refresh_retries()
            with store.cycle():
                n, taken = store.claim(2, 10, "new-worker", timedelta(minutes=5))
            queued = {d["id"] for d in rows["deliveries"] if d["send_id"] == 2 and d["status"] == "queued"}
            assert n == len(queued) and {r.delivery_id for r in taken} == queued
            assert all(r.nonce is None for r in taken)
            check_counts_agree()
            # ... and expires the dead v0.1 workers' claims: those rows become unknown
            old_claimed = {d["id"] for d in rows["deliveries"] if d["status"] == "claimed"}
            assert store.expire_leases() == len(old_claimed)
            db.session.expire_all()
            states = dict(db.session.execute(select(Delivery.id, Delivery.status).where(Delivery.send_id == 2)).all())
            assert {i for i, s in states.items() if s == "unknown"} >= old_claimed
            assert {i for i, s in states.items() if s == "claimed"} == queued
            check_counts_agree()
            store.release("new-worker")
            check_counts_agree()
        finally:
            db.session.remove()
            db.engine.dispose()


# --- the test -------------------------------------------------------------------------


def test_v01_database_upgrades_with_every_row_and_its_meaning(upgrade_db: str, tmp_path: Path) -> None:
    url = upgrade_db
    engine = create_engine(_normalise_db_url(url))
    try:
        cli(url, "upgrade", "0001_initial")
        assert revision(engine) == "0001_initial"
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set(v01.V01_TABLES), "0001 has tables this test does not fill (or lost some)"
        v01_columns = {name: {c["name"] for c in inspect(engine).get_columns(name)} for name in tables}

        rows = v01.v01_rows()
        assert set(rows) == tables
        for name, table_rows in rows.items():
            assert table_rows, f"{name} has no v0.1 rows"
            assert set(table_rows[0]) == v01_columns[name], f"{name}: give every 0001 column a value"
        fill_v01(engine, rows)
        want = expected(rows)
        assert_rows_equal(snapshot(engine, rows), want)  # what v0.1 holds, read back

        # v0.1 -> head
        cli(url, "upgrade")
        assert revision(engine) == HEAD
        assert_rows_equal(snapshot(engine, rows), want)
        check_derived(engine, rows)

        # head -> v0.1: the v0.1 rows come back, the v0.1 schema exactly
        cli(url, "downgrade", "0001_initial")
        engine.dispose()
        assert revision(engine) == "0001_initial"
        assert set(inspect(engine).get_table_names()) - {"alembic_version"} == tables
        assert {name: {c["name"] for c in inspect(engine).get_columns(name)} for name in tables} == v01_columns
        assert "ix_deliveries_send_status" in {i["name"] for i in inspect(engine).get_indexes("deliveries")}
        # 0003's downgrade gives claimed rows their claim's lease: the latest of that
        # worker's rows (the upgrade merged them into one claim), never an earlier one.
        latest: dict[tuple[int, str], datetime] = {}
        for d in rows["deliveries"]:
            if d["status"] == "claimed":
                key = (d["send_id"], d["worker_id"])
                latest[key] = max(latest.get(key, d["lease_expires_at"]), d["lease_expires_at"])
        back = expected(
            {
                **rows,
                "deliveries": [
                    {**d, "lease_expires_at": latest[(d["send_id"], d["worker_id"])]} if d["status"] == "claimed" else d
                    for d in rows["deliveries"]
                ],
            }
        )
        assert_rows_equal(snapshot(engine, rows), back)

        # and up again (an operator retrying after a downgrade), then the app on it
        cli(url, "upgrade")
        engine.dispose()
        assert revision(engine) == HEAD
        assert_rows_equal(snapshot(engine, rows), back)
        check_derived(engine, {**rows, "deliveries": back["deliveries"]})
        use_the_app(url, tmp_path, rows)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(reflect(engine).tables["users"])).scalar() == 3
    finally:
        engine.dispose()
