"""The CSV import's writing side: one batch of validated rows per
transaction, on its own connection, subscriber and subscription together (a
valid row is never half imported), and the counts the import reports.
PostgreSQL batches go through COPY into a temporary table and
``INSERT ... SELECT ... ON CONFLICT``; SQLite uses executemany."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, DateTime, bindparam, text

from app.db import db, utcnow
from app.subscribers.confirmations import request_confirmations
from app.subscribers.models import MailingList
from app.subscribers.suppression import email_hash

__all__ = ["MAX_REPORTED_ERRORS", "BatchWriter", "ImportResult"]

MAX_REPORTED_ERRORS = 1000


@dataclass
class ImportResult:
    rows: int = 0  # data rows read (blank lines excluded)
    imported: int = 0  # new subscriptions written
    already: int = 0  # address already on the list: left as it was
    suppressed: int = 0  # on the suppression list: skipped
    duplicates: int = 0  # repeated inside the file
    invalid: int = 0  # rows with an error
    errors: list[tuple[int, str]] = field(default_factory=list)
    bytes_read: int = 0

    def error(self, row: int, message: str) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((row, message))

    def summary(self) -> str:
        return (
            f"{self.rows} rows: {self.imported} imported, {self.already} already on the list, "
            f"{self.suppressed} suppressed (skipped), {self.duplicates} duplicates, "
            f"{self.invalid} invalid"
        )


class BatchWriter:
    """Writes one batch per transaction on its own connection."""

    def __init__(self, mailing_list: MailingList, status: str, tag: str, user_id: int | None, mode: str) -> None:
        self.list_id, self.status, self.tag, self.user_id = mailing_list.id, status, tag, user_id
        self.keep = mode == "keep"  # existing attribute values win over the file's
        self.postgres = db.engine.dialect.name == "postgresql"
        # Typed parameters: the same datetime encoding as the ORM on both databases.
        self.times = [bindparam(n, type_=DateTime()) for n in ("now", "confirmed", "requested")]

    def write(self, rows: list[tuple[int, str, str, str]], result: ImportResult) -> None:
        now = utcnow()
        with db.engine.begin() as conn:
            write = self._write_postgres if self.postgres else self._write_sqlite
            suppressed, on_list, new_pending = write(conn, rows, now)
        result.suppressed += suppressed
        for rownum, address, source in on_list:
            if source == self.tag:
                result.duplicates += 1
                if len(result.errors) < MAX_REPORTED_ERRORS:
                    result.errors.append((rownum, f"duplicate of an earlier row ({address}): skipped"))
            else:
                result.already += 1
        result.imported += len(rows) - suppressed - len(on_list)
        if new_pending:
            self._send_confirmations(new_pending)

    def _params(self, now):
        active = self.status == "active"
        return {
            "list": self.list_id,
            "status": self.status,
            "tag": self.tag,
            "now": now,
            "confirmed": now if active else None,
            "requested": None if active else now,
        }

    def _write_postgres(self, conn: Connection, rows: list[tuple[int, str, str, str]], now):
        """No join against the big tables (their statistics may be stale mid-import
        and a hash join would scan a million rows per batch): suppressed hashes
        and existing addresses are looked up by index with ``= ANY(array)``, new
        ids come back from ``RETURNING``."""
        by_email = {address: (rownum, name, values) for rownum, address, name, values in rows}
        hashes = {email_hash(address): address for address in by_email}
        blocked = (
            conn.execute(text("SELECT email_hash FROM suppressions WHERE email_hash = ANY(:h)"), {"h": list(hashes)})
            .scalars()
            .all()
        )
        for digest in blocked:
            del by_email[hashes[digest]]
        conn.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS import_attr_batch "
                '(email text COLLATE "C", name text, attributes jsonb) ON COMMIT DELETE ROWS'
            )
        )
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy("COPY import_attr_batch (email, name, attributes) FROM STDIN") as copy:
            for address, (_rownum, name, values) in by_email.items():
                copy.write_row((address, name, values))
        params = self._params(now)
        ids = {
            address: subscriber_id
            for subscriber_id, address in conn.execute(
                text(
                    "INSERT INTO subscribers (email, name, status, source, created_at, token_nonce, attributes) "
                    "SELECT email, name, 'enabled', :tag, :now, substr(md5(random()::text || email), 1, 16), "
                    "attributes FROM import_attr_batch ON CONFLICT (email) DO NOTHING RETURNING id, email"
                ).bindparams(self.times[0]),
                params,
            )
        }
        missing = [address for address in by_email if address not in ids]
        if missing:
            ids.update(
                (address, subscriber_id)
                for subscriber_id, address in conn.execute(
                    text("SELECT id, email FROM subscribers WHERE email = ANY(:e)"), {"e": missing}
                )
            )
        if missing and any(values != "{}" for _row, _name, values in by_email.values()):
            # Re-import: merge the file's attributes into the existing subscribers'.
            merged = "b.attributes || s.attributes" if self.keep else "s.attributes || b.attributes"
            conn.execute(
                text(
                    f"UPDATE subscribers s SET attributes = {merged} FROM import_attr_batch b "  # noqa: S608 (constant)
                    "WHERE s.email = b.email AND s.email = ANY(:e) AND b.attributes <> '{}'::jsonb"
                ),
                {"e": missing},
            )
        inserted = set(
            conn.execute(
                text(
                    "INSERT INTO subscriptions (subscriber_id, list_id, status, source, created_at, confirmed_at, "
                    "requested_at) SELECT unnest(CAST(:ids AS integer[])), :list, :status, :tag, :now, :confirmed, "
                    ":requested ON CONFLICT (subscriber_id, list_id) DO NOTHING RETURNING subscriber_id"
                ).bindparams(*self.times),
                {**params, "ids": list(ids.values())},
            ).scalars()
        )
        address_of = {subscriber_id: address for address, subscriber_id in ids.items()}
        on_list: list[tuple[int, str, str]] = []
        kept = [subscriber_id for subscriber_id in ids.values() if subscriber_id not in inserted]
        if kept:
            sources: dict[int, str] = dict(
                conn.execute(
                    text(
                        "SELECT subscriber_id, source FROM subscriptions WHERE list_id = :list "
                        "AND subscriber_id = ANY(:ids)"
                    ),
                    {"list": self.list_id, "ids": kept},
                ).all()
            )
            on_list = [(by_email[address_of[i]][0], address_of[i], sources.get(i, "")) for i in kept]
        new_pending = [] if self.status == "active" else [(i, address_of[i]) for i in inserted]
        return len(blocked), on_list, new_pending

    def _write_sqlite(self, conn: Connection, rows: list[tuple[int, str, str, str]], now):
        """SQLite's planner probes the unique indexes from the small temp table."""
        conn.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS import_batch "
                "(rownum integer, email text, name text, email_hash text, attributes text)"
            )
        )
        conn.execute(text("DELETE FROM import_batch"))
        conn.exec_driver_sql(
            "INSERT INTO import_batch (rownum, email, name, email_hash, attributes) VALUES (?, ?, ?, ?, ?)",
            [(rownum, address, name, email_hash(address), values) for rownum, address, name, values in rows],
        )
        suppressed = conn.execute(
            text("SELECT count(*) FROM import_batch b JOIN suppressions s ON s.email_hash = b.email_hash")
        ).scalar()
        conn.execute(
            text(
                "DELETE FROM import_batch WHERE EXISTS "
                "(SELECT 1 FROM suppressions s WHERE s.email_hash = import_batch.email_hash)"
            )
        )
        # CROSS JOIN fixes SQLite's loop order: batch rows outside, index probes
        # inside. Left to itself it walks every subscription of the list and scans
        # the batch for each, which makes big imports quadratic.
        on_list = [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT b.rownum, b.email, sub.source FROM import_batch b "
                    "CROSS JOIN subscribers s CROSS JOIN subscriptions sub "
                    "WHERE s.email = b.email AND sub.subscriber_id = s.id AND sub.list_id = :list"
                ),
                {"list": self.list_id},
            )
        ]
        params = self._params(now)
        # Existing subscribers first (a new one's values are already its own):
        # json_patch merges objects key by key (RFC 7396; the file has no nulls).
        if any(values != "{}" for *_, values in rows):
            merged = "json_patch(b.attributes, s.attributes)" if self.keep else "json_patch(s.attributes, b.attributes)"
            conn.execute(
                text(
                    f"UPDATE subscribers AS s SET attributes = {merged} FROM import_batch b "  # noqa: S608 (constant)
                    "WHERE s.email = b.email AND b.attributes != '{}'"
                )
            )
        conn.execute(
            text(
                "INSERT INTO subscribers (email, name, status, source, created_at, token_nonce, attributes) "
                "SELECT email, name, 'enabled', :tag, :now, lower(hex(randomblob(8))), json(attributes) "
                "FROM import_batch WHERE true ON CONFLICT (email) DO NOTHING"
            ).bindparams(self.times[0]),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO subscriptions (subscriber_id, list_id, status, source, created_at, "
                "confirmed_at, requested_at) "
                "SELECT s.id, :list, :status, :tag, :now, :confirmed, :requested "
                "FROM import_batch b CROSS JOIN subscribers s WHERE s.email = b.email "
                "ON CONFLICT (subscriber_id, list_id) DO NOTHING"
            ).bindparams(*self.times),
            params,
        )
        new_pending: list[tuple[int, str]] = []
        if self.status != "active":
            new_pending = [
                tuple(r)
                for r in conn.execute(
                    text(
                        "SELECT s.id, s.email FROM import_batch b "
                        "CROSS JOIN subscribers s CROSS JOIN subscriptions sub "
                        "WHERE s.email = b.email AND sub.subscriber_id = s.id AND sub.list_id = :list "
                        "AND sub.source = :tag AND sub.created_at = :now"
                    ).bindparams(self.times[0]),
                    params,
                )
            ]
        conn.execute(text("DELETE FROM import_batch"))
        return suppressed, on_list, new_pending

    def _send_confirmations(self, rows: list[tuple[int, str]]) -> None:
        """New pending subscriptions get their confirmation from the worker, within
        the importing user's hourly cap (this batch's rows are committed already)."""
        request_confirmations([subscriber_id for subscriber_id, _ in rows], self.list_id, self.user_id)
        db.session.commit()
