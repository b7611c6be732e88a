"""CSV import: streamed, validated row by row, written in batches.

Memory stays bounded whatever the file size: rows are read one at a time and
at most one batch is held. Each batch is one transaction that writes the
subscriber and its subscription together, so a valid row is never half
imported (the writing is :mod:`app.subscribers.csv_batches`).

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
from typing import Any, BinaryIO, Protocol

from email_validator import EmailNotValidError, validate_email

from app.attributes import AttributeValueError
from app.errors import InvalidInput
from app.subscribers.csv_batches import MAX_REPORTED_ERRORS, BatchWriter, ImportResult
from app.subscribers.lists import get_or_create_list
from app.subscribers.suppression import normalise_email

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
    writer = BatchWriter(mailing_list, status, tag, user_id, attributes.mode if attributes else "overwrite")

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


def errors_json(result: ImportResult) -> str:
    return json.dumps(result.errors[:MAX_REPORTED_ERRORS])
