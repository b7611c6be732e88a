"""Custom subscriber attributes: their types, and turning CSV cells into typed
JSON values (pure functions; the CSV importer and the API call them).

A value is stored in the subscriber's ``attributes`` JSON object as:

========= ========================= ==========================================
type      JSON value                accepted CSV text
========= ========================= ==========================================
text      string                    anything (surrounding spaces stripped)
number    number (int or float)     ``-12``, ``3.5``: digits, optional minus,
                                    ``.`` as the decimal point, at most 15
                                    significant digits
date      string ``YYYY-MM-DD``     ISO 8601 dates only
boolean   true / false              true/false, yes/no, 1/0 (any case)
list      array of strings          items separated by ``;`` or ``|``
========= ========================= ==========================================

An empty cell is "no value": :func:`coerce` returns None and the importer
leaves the key out, so ``attribs.x is not set`` finds it.

Decisions, all on the conservative side (a wrong guess silently corrupts data,
a cautious one only makes the editor pick the type):

- ``1,5`` is not a number: it is 1.5 in Germany and 15 (a thousands
  separator) in the US. Thousands separators are refused for the same reason.
- Numbers with a leading zero (``007``, ``01234``) are identifiers or postal
  codes; the leading zero would be lost, so :func:`infer_type` proposes text.
  More than 15 significant digits (phone numbers, account ids) would lose
  precision as a JSON number: text as well.
- ``03/04/2026`` is 3 April in Europe and 4 March in the US: only ISO dates are
  dates. Convert the column before importing.
- A column of only ``0`` and ``1`` is proposed as a number (it may be a count);
  ``coerce(..., "boolean")`` still accepts 1/0 when the editor chooses boolean.
- A list column needs one separator: values that mix ``;`` and ``|`` are text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any, Literal, TypeAlias, get_args

from app.timezones import is_zone

AttributeType: TypeAlias = Literal["text", "number", "date", "boolean", "list"]
ATTRIBUTE_TYPES: tuple[AttributeType, ...] = get_args(AttributeType)
JsonValue: TypeAlias = str | int | float | bool | list[str]

KEY_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
MAX_KEY_LENGTH = 64
MAX_TEXT_LENGTH = 1000
MAX_LIST_ITEMS = 100

TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})
_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?\Z")
_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
SEPARATORS = (";", "|")


class AttributeValueError(ValueError):
    """One value that does not fit its attribute's type; the message says why."""


def valid_key(key: str) -> bool:
    return len(key) <= MAX_KEY_LENGTH and KEY_RE.match(key) is not None


def _significant_digits(text: str) -> int:
    return len(text.lstrip("-").replace(".", "").lstrip("0")) or 1


def parse_number(text: str) -> int | float | None:
    """``text`` as a JSON number, or None when it is not one in our notation."""
    if not _NUMBER_RE.match(text) or _significant_digits(text) > 15:
        return None
    return float(text) if "." in text else int(text)


def parse_iso_date(text: str) -> date | None:
    if not _ISO_DATE_RE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None


def split_list(text: str) -> list[str] | None:
    """Items of a ``;``- or ``|``-separated list, or None when both are used."""
    used = [sep for sep in SEPARATORS if sep in text]
    if len(used) > 1:
        return None
    items = text.split(used[0]) if used else [text]
    return list(dict.fromkeys(item.strip() for item in items if item.strip()))


def infer_type(values: Iterable[str]) -> AttributeType:
    """Propose a type for a CSV column from sample values (empty cells ignored).

    boolean if every value is a boolean word and at least one is a word
    (true/false/yes/no) rather than 1/0; else number if every value is a
    number; else date if every value is an ISO date; else list if some value
    contains a separator and all use the same one; else text. All-empty: text.
    """
    seen = bool_ok = number_ok = date_ok = list_ok = False
    bool_word = False
    separator: str | None = None
    first = True
    for raw in values:
        value = raw.strip()
        if not value:
            continue
        if first:
            bool_ok = number_ok = date_ok = list_ok = True
            first = False
        seen = True
        lowered = value.lower()
        if bool_ok:
            if lowered in TRUE_WORDS or lowered in FALSE_WORDS:
                bool_word = bool_word or lowered not in ("1", "0")
            else:
                bool_ok = False
        if number_ok and parse_number(value) is None:
            number_ok = False
        if date_ok and parse_iso_date(value) is None:
            date_ok = False
        if list_ok:
            used = [sep for sep in SEPARATORS if sep in value]
            if len(used) > 1 or (used and separator not in (None, used[0])):
                list_ok = False
            elif used:
                separator = used[0]
    if not seen:
        return "text"
    if bool_ok and bool_word:
        return "boolean"
    if number_ok:
        return "number"
    if date_ok:
        return "date"
    if list_ok and separator is not None:
        return "list"
    return "text"


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def coerce(value: str, type_: AttributeType) -> JsonValue | None:
    """The JSON value of one CSV cell for an attribute of ``type_``; None for
    an empty cell. Raises :class:`AttributeValueError` saying what is wrong."""
    if type_ not in ATTRIBUTE_TYPES:
        raise AttributeValueError(f"unknown attribute type {type_!r} (one of {', '.join(ATTRIBUTE_TYPES)})")
    text = value.strip()
    if not text:
        return None
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text) or "\x7f" in text:
        raise AttributeValueError(f"{_show(text)} contains a control character")
    if type_ == "text":
        if len(text) > MAX_TEXT_LENGTH:
            raise AttributeValueError(f"text is {len(text)} characters long (at most {MAX_TEXT_LENGTH})")
        return text
    if type_ == "number":
        number = parse_number(text)
        if number is None:
            hint = (
                "use '.' as the decimal point, without thousands separators"
                if "," in text
                else "digits with an optional minus and '.' decimal point, e.g. -12.5"
            )
            if _NUMBER_RE.match(text):
                hint = "more than 15 significant digits cannot be stored exactly; import it as text"
            raise AttributeValueError(f"{_show(text)} is not a number ({hint})")
        return number
    if type_ == "date":
        parsed = parse_iso_date(text)
        if parsed is None:
            raise AttributeValueError(
                f"{_show(text)} is not a date in the form YYYY-MM-DD, e.g. 2026-03-01 "
                "(day/month orders like 03/04/2026 are ambiguous)"
            )
        return parsed.isoformat()
    if type_ == "boolean":
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise AttributeValueError(f"{_show(text)} is not a boolean (true/false, yes/no or 1/0)")
    items = split_list(text)
    if items is None:
        raise AttributeValueError(f"{_show(text)} mixes ';' and '|'; separate list items with one of them")
    if len(items) > MAX_LIST_ITEMS:
        raise AttributeValueError(f"the list has {len(items)} items (at most {MAX_LIST_ITEMS})")
    too_long = next((item for item in items if len(item) > MAX_TEXT_LENGTH), None)
    if too_long is not None:
        raise AttributeValueError(f"a list item is {len(too_long)} characters long (at most {MAX_TEXT_LENGTH})")
    return items


# --- standard attributes ---------------------------------------------------------------

# Always declared: later features read them (local-time delivery, the reader's language).
STANDARD: dict[str, AttributeType] = {"time_zone": "text", "language": "text"}
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def check_standard(key: str, value: Any) -> Any:
    """Normalise and check a standard attribute's value (others pass as they are)."""
    if key == "time_zone" and value is not None and not is_zone(str(value)):
        raise AttributeValueError(f"'{value}' is not a time zone name such as Europe/Berlin")
    if key == "language" and value is not None:
        parts = str(value).strip().replace("_", "-").split("-")
        parts[0] = parts[0].lower()
        if len(parts) > 1 and len(parts[1]) == 2:
            parts[1] = parts[1].upper()  # pt-br -> pt-BR, as BCP 47 writes regions
        value = "-".join(parts)
        if not _LANGUAGE.match(value):
            raise AttributeValueError(f"'{value}' is not a language tag such as de or pt-BR")
    return value
