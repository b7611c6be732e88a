"""CSV import: streamed, validated row by row, written in batches.

Memory stays bounded whatever the file size: rows are read one at a time and
at most one batch is held. Each batch is one transaction that writes the
subscriber and its subscription together, so a valid row is never half
imported. PostgreSQL batches go through COPY into a temporary table and
``INSERT ... SELECT ... ON CONFLICT``; SQLite uses executemany.

Duplicates across batches are recognised without remembering every address:
a subscription already carrying this import's tag was written by an earlier
row of the same file."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, DateTime, bindparam, text

from app.attributes import AttributeValueError
from app.db import db, utcnow
from app.errors import InvalidInput
from app.subscribers.confirmations import request_confirmations
from app.subscribers.lists import get_or_create_list
from app.subscribers.models import MailingList
from app.subscribers.suppression import email_hash, normalise_email

MAX_REPORTED_ERRORS = 1000
BATCH_ROWS = 10_000
csv.field_size_limit(1024 * 1024)  # a hostile 10 MB cell becomes a row error, not a crash

EMAIL_HEADERS = {
    "email",
    "e mail",
    "email address",
    "e mail address",
    "emailaddress",
    "mail",
    "address",
    "email addr",
    "courriel",
    "correo",
    "e mail adresse",
    "e mailadresse",
}
NAME_HEADERS = {"name", "full name", "fullname", "display name", "subscriber name", "naam", "nom"}
FIRST_HEADERS = {"first name", "firstname", "given name", "first", "fname", "vorname", "prenom"}
LAST_HEADERS = {"last name", "lastname", "surname", "family name", "last", "lname", "nachname"}


class CsvImportError(InvalidInput):
    """The file as a whole cannot be imported (no email column, unreadable)."""


class RowAttributes(Protocol):
    """The mapping step's result (app.subscribers.csv_columns.RowValues)."""

    mode: str  # "overwrite": the file's values win; "keep": existing values win

    def values(self, cells: list[str]) -> dict[str, Any]:
        """The row's typed attributes; raises AttributeValueError naming the column."""


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


def _header_key(value: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", value.replace("\ufeff", "").strip().lower()).split())


def map_header(header: list[str]) -> dict[str, int] | None:
    """Column positions for email/name/first/last, or None if the first row is
    not a header (a bare list of addresses)."""
    found: dict[str, int] = {}
    for position, cell in enumerate(header):
        key = _header_key(cell)
        for role, names in (
            ("email", EMAIL_HEADERS),
            ("name", NAME_HEADERS),
            ("first", FIRST_HEADERS),
            ("last", LAST_HEADERS),
        ):
            if key in names and role not in found:
                found[role] = position
    if "email" in found:
        return found
    if header and "@" in header[0]:
        return None
    raise CsvImportError("The file has no email column. Name the column 'email' (or 'E-mail', 'Email Address').")


class _CountingReader(io.RawIOBase):
    """Counts bytes for the progress bar while the text layer reads ahead."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def delimiter_of(header_line: str) -> str:
    """Comma, unless the header is clearly split by semicolons (European Excel) or tabs."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _has_undecodable(cells: list[str]) -> bool:
    # surrogateescape maps every byte that is not UTF-8 to U+DC80..U+DCFF.
    return any(re.search("[\udc80-\udcff]", cell) for cell in cells)


def _validate(address: str) -> str:
    if len(address) > 254:
        raise EmailNotValidError("the address is longer than 254 characters")
    return normalise_email(validate_email(address, check_deliverability=False).normalized)


def _show(value: str) -> str:
    value = value.encode("utf-8", "replace").decode("utf-8")
    return repr(value if len(value) <= 60 else value[:57] + "...")


def import_csv(
    stream: BinaryIO,
    list_name: str,
    status: str = "active",
    *,
    tag: str | None = None,
    progress: Callable[[ImportResult], None] | None = None,
    user_id: int | None = None,
    attributes: RowAttributes | None = None,
) -> ImportResult:
    """Import subscribers from a CSV byte stream into the list (created when
    missing). ``active``: consent recorded elsewhere; ``pending``: each new
    subscription gets a confirmation email. ``attributes``: the mapped extra
    columns, written to new subscribers and merged into existing ones (a row
    with a value its column's type refuses is reported and not imported)."""
    if status not in ("active", "pending"):
        raise CsvImportError("Status must be active or pending.")
    mailing_list = get_or_create_list(list_name)
    tag = tag or f"import:{uuid.uuid4().hex[:12]}"
    counter = _CountingReader(stream)
    reader_stream = io.TextIOWrapper(
        io.BufferedReader(counter, 1 << 16), encoding="utf-8", errors="surrogateescape", newline=""
    )
    first_line = reader_stream.readline()
    reader = csv.reader(itertools.chain([first_line], reader_stream), delimiter=delimiter_of(first_line))
    result = ImportResult()
    header = _next_row(reader, result)
    if header is None:
        raise CsvImportError("The file is empty.")
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]  # UTF-8 byte order mark (Excel)
    if _has_undecodable(header):
        raise CsvImportError("The file is not UTF-8. Save it as 'CSV UTF-8' and upload it again.")
    columns = map_header(header)
    first_data: list[str] | None = None
    batch: dict[str, tuple[int, str, str, str]] = {}
    if columns is None:  # no header: the first row is already an address
        columns, first_data = {"email": 0, "name": 1}, header
    writer = _BatchWriter(mailing_list, status, tag, user_id, attributes.mode if attributes else "overwrite")

    def handle(line: int, cells: list[str]) -> None:
        if not any(cell.strip() for cell in cells):
            return
        result.rows += 1
        if _has_undecodable(cells):
            result.error(line, "not valid UTF-8 text (save the file as 'CSV UTF-8')")
            return
        if any("\x00" in cell for cell in cells):  # PostgreSQL cannot store NUL
            result.error(line, "contains a NUL character; not imported")
            return
        raw = cells[columns["email"]].strip() if columns["email"] < len(cells) else ""
        if not raw:
            result.error(line, "no email address")
            return
        try:
            address = _validate(raw)
        except EmailNotValidError as exc:
            result.error(line, f"{_show(raw)} is not a valid email address: {exc}")
            return
        name = _name(cells, columns)
        if len(name) > 200:
            result.error(line, f"name is {len(name)} characters long (at most 200)")
            return
        try:
            values = attributes.values(cells) if attributes else {}
        except AttributeValueError as exc:
            result.error(line, str(exc))
            return
        if address in batch:
            result.duplicates += 1
            if len(result.errors) < MAX_REPORTED_ERRORS:
                result.errors.append((line, f"duplicate of row {batch[address][0]} ({address}): skipped"))
            return
        batch[address] = (line, address, name, json.dumps(values, ensure_ascii=False) if values else "{}")
        if len(batch) >= BATCH_ROWS:
            flush()

    def flush() -> None:
        if batch:
            writer.write(list(batch.values()), result)
            batch.clear()
        result.bytes_read = counter.count
        if progress:
            progress(result)

    if first_data is not None:
        handle(1, first_data)
    while (cells := _next_row(reader, result)) is not None:
        handle(reader.line_num, cells)
    flush()
    result.errors.sort()
    return result


def _next_row(reader, result: ImportResult) -> list[str] | None:
    """The next record; a record the csv module rejects is reported and skipped."""
    for _ in range(1000):
        try:
            return next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            result.rows += 1
            result.error(reader.line_num, f"unreadable CSV ({exc})")
    raise CsvImportError("The file is not a CSV file (too many unreadable rows in a row).")


def _name(cells: list[str], columns: dict[str, int]) -> str:
    def cell(role: str) -> str:
        position = columns.get(role)
        return cells[position] if position is not None and position < len(cells) else ""

    name = cell("name") or f"{cell('first')} {cell('last')}"
    return " ".join(name.split())


class _BatchWriter:
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


def errors_json(result: ImportResult) -> str:
    return json.dumps(result.errors[:MAX_REPORTED_ERRORS])
