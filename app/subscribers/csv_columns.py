"""The CSV import's mapping step: which extra columns become which typed
attributes.

Every column other than the email and name columns is proposed as an
attribute: its header becomes the key (``Company Size`` -> ``company_size``),
its type is proposed from the first rows (:func:`app.attributes.infer_type`),
or is the declared type when the key exists already (a declared type never
changes: the values stored under it were typed for it). The admin (or the CLI)
may rename or skip each column, and choose whether values in the file
overwrite a subscriber's existing ones or only fill keys they do not have."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, BinaryIO

from app.attributes import ATTRIBUTE_TYPES, AttributeType, AttributeValueError, coerce, infer_type, valid_key
from app.subscribers.attributes import STANDARD, check_standard, define, definitions
from app.subscribers.csv_import import CsvImportError, delimiter_of, map_header

__all__ = ["Column", "Mapping_", "RESERVED", "apply_mapping", "propose", "to_key"]

SAMPLE_ROWS = 1000
# Keys that mean something else in a CSV or a segment: never attributes.
RESERVED = {"email", "name", "status", "source", "domain", "list", "signup_date", "subscribed_at", "confirmed_at"}
RESERVED |= {"unsubscribed_at", "first", "last", "first_name", "last_name"}
ALIASES = {
    "timezone": "time_zone",
    "tz": "time_zone",
    "time_zone": "time_zone",
    "zone": "time_zone",
    "language": "language",
    "lang": "language",
    "locale": "language",
}
MODES = ("overwrite", "keep")


@dataclass
class Column:
    position: int
    header: str
    key: str  # '' = skip this column
    type: AttributeType
    samples: list[str]
    declared: bool  # the key exists already: its type is fixed


@dataclass
class Mapping_:  # noqa: N801 (typing.Mapping is imported here too)
    columns: list[Column]
    mode: str = "overwrite"

    def payload(self) -> dict[str, Any]:
        """What the import job is given (JSON)."""
        return {
            "mode": self.mode,
            "columns": [[c.position, c.key, c.type] for c in self.columns if c.key],
        }


def to_key(header: str) -> str:
    """A header as an attribute key: lower case, words joined by ``_``."""
    key = re.sub(r"[^0-9a-z]+", "_", header.replace("\ufeff", "").strip().lower()).strip("_")
    if key and not key[0].isalpha():
        key = "col_" + key
    return ALIASES.get(key, key)[:64]


def propose(stream: BinaryIO) -> Mapping_:
    """Read the header and up to SAMPLE_ROWS rows; propose a column for every extra one."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    try:
        first = text.readline()
        reader = csv.reader(itertools.chain([first], text), delimiter=delimiter_of(first))
        header = next(reader, None)
        if not header:
            raise CsvImportError("The file is empty.")
        known = map_header(header)
        rows = list(itertools.islice(reader, SAMPLE_ROWS)) if known is not None else []
    except csv.Error as exc:
        raise CsvImportError(f"The file is not a CSV file ({exc}).") from exc
    finally:
        text.detach()  # the caller owns the stream
    if known is None:
        return Mapping_([])  # a bare list of addresses: nothing to map
    declared = definitions()
    used = set(known.values())
    columns = []
    for position, title in enumerate(header):
        if position in used or not title.strip():
            continue
        key = to_key(title)
        samples = [row[position] for row in rows if position < len(row) and row[position].strip()]
        if key in declared:
            columns.append(Column(position, title, key, declared[key], samples[:5], True))
        else:
            usable = valid_key(key) and key not in RESERVED
            columns.append(Column(position, title, key if usable else "", infer_type(samples), samples[:5], False))
    return Mapping_(columns)


def apply_mapping(proposal: Mapping_, form: Mapping[str, str]) -> Mapping_:
    """The admin's choices (``key-<pos>``, ``type-<pos>``, ``mode``) on top of
    the proposal; declares the new keys. Flushes; the caller commits."""
    mode = form.get("mode", "overwrite")
    if mode not in MODES:
        raise CsvImportError("Choose whether the file's values overwrite existing ones or keep them.")
    declared = definitions()
    chosen: list[Column] = []
    seen: dict[str, str] = {}
    for column in proposal.columns:
        # What the admin typed, only lower-cased with spaces as _ (then checked, never rewritten further).
        key = re.sub(r"[\s-]+", "_", form.get(f"key-{column.position}", "").strip().lower())
        if form.get(f"skip-{column.position}") or not key:
            continue
        type_ = declared.get(key) or form.get(f"type-{column.position}", column.type)
        _check(column.header, key, type_)
        if key in seen:
            raise CsvImportError(f"Columns “{seen[key]}” and “{column.header}” both map to attribs.{key}.")
        seen[key] = column.header
        chosen.append(Column(column.position, column.header, key, type_, column.samples, key in declared))  # type: ignore[arg-type]
    for column in chosen:
        define(column.key, column.type)
    return Mapping_(chosen, mode)


def mapping_from_options(proposal: Mapping_, renames: Mapping[str, str], skips: Iterable[str], mode: str) -> Mapping_:
    """The CLI's form of the choices: ``--attribute HEADER=key[:type]`` and ``--skip-column HEADER``."""
    form: dict[str, str] = {"mode": mode}
    skip = {s.strip().lower() for s in skips}
    for column in proposal.columns:
        form[f"key-{column.position}"] = column.key
        form[f"type-{column.position}"] = column.type
        if column.header.strip().lower() in skip:
            form[f"skip-{column.position}"] = "1"
        choice = renames.get(column.header.strip().lower())
        if choice:
            key, _, type_ = choice.partition(":")
            form[f"key-{column.position}"] = key
            if type_:
                form[f"type-{column.position}"] = type_
    return apply_mapping(proposal, form)


def _check(header: str, key: str, type_: str) -> None:
    if not valid_key(key):
        raise CsvImportError(f"“{header}”: '{key}' cannot be an attribute name (letters, digits and _).")
    if key in RESERVED:
        raise CsvImportError(f"“{header}”: '{key}' is reserved; choose another name or skip the column.")
    if type_ not in ATTRIBUTE_TYPES:
        raise CsvImportError(f"“{header}”: choose a type ({', '.join(ATTRIBUTE_TYPES)}).")
    if key in STANDARD and type_ != STANDARD[key]:
        raise CsvImportError(f"“{header}”: {key} is a standard attribute and is always {STANDARD[key]}.")


class RowValues:
    """Turns one row's cells into its attributes, or says which cell is wrong."""

    def __init__(self, payload: Mapping[str, Any] | None) -> None:
        payload = payload or {}
        self.columns: list[tuple[int, str, AttributeType]] = [tuple(c) for c in payload.get("columns", [])]
        self.mode = str(payload.get("mode", "overwrite"))

    def __bool__(self) -> bool:
        return bool(self.columns)

    def values(self, cells: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for position, key, type_ in self.columns:
            cell = cells[position] if position < len(cells) else ""
            try:
                value = check_standard(key, coerce(cell, type_))
            except AttributeValueError as exc:
                raise AttributeValueError(f"column {key}: {exc}") from exc
            if value is not None:
                found[key] = value
        return found


def describe(mapping: Mapping_) -> list[dict[str, Any]]:
    return [asdict(column) for column in mapping.columns]
