"""What each field is and which operators apply to it, and the type checker
that holds a parsed expression against that catalog (and against the declared
custom attributes)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from app.attributes import AttributeType, parse_iso_date, valid_key
from app.segments.errors import SegmentError
from app.segments.nodes import (
    Boolean,
    Call,
    Comparison,
    DateValue,
    Expr,
    Field,
    InList,
    Number,
    Scalar,
    Text,
    conditions,
)

# "in" and "set" stand for `in [...]` and `is [not] set`.
_ORDER = frozenset({"<", ">", "<=", ">="})
_EQUALITY = frozenset({"=", "!=", "in", "set"})
OPS_BY_TYPE: dict[AttributeType, frozenset[str]] = {
    "text": _EQUALITY | _ORDER | {"contains"},
    "number": _EQUALITY | _ORDER,
    "date": _EQUALITY | _ORDER,
    "boolean": frozenset({"=", "!=", "set"}),
    "list": frozenset({"contains", "set"}),
}


@dataclass(frozen=True)
class FieldSpec:
    type: AttributeType
    ops: frozenset[str]
    # Stored lower-case (addresses are normalised), so literals are compared lower-cased.
    lowercase: bool = False


BUILTIN_FIELDS: dict[str, FieldSpec] = {
    "email": FieldSpec("text", OPS_BY_TYPE["text"], lowercase=True),
    "domain": FieldSpec("text", _EQUALITY | {"contains"}, lowercase=True),
    "name": FieldSpec("text", OPS_BY_TYPE["text"]),
    "signup_date": FieldSpec("date", OPS_BY_TYPE["date"]),
    # A subscriber has several subscriptions: these ask "is there one that ...".
    "source": FieldSpec("text", _EQUALITY | {"contains"}),
    "list": FieldSpec("text", _EQUALITY),
}
ATTRIBUTES = "attribs"
# Engagement look-backs. Sends: a sane window for "lately"; days: ten years,
# far beyond the retention of per-recipient events.
MAX_SENDS = 100
MAX_DAYS = 3650
FUNCTION_LIMITS: dict[str, tuple[int, str]] = {
    "opened_in_last": (MAX_SENDS, "sends"),
    "clicked_in_last": (MAX_SENDS, "sends"),
    "not_opened_in_last": (MAX_SENDS, "sends"),
    "bounced_softly_in_last_days": (MAX_DAYS, "days"),
}
FIELD_NAMES = (*BUILTIN_FIELDS, f"{ATTRIBUTES}.<key>")


def suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.7)
    return f"; did you mean {close[0]!r}?" if close else ""


def spec_of(field: Field, attribute_types: Mapping[str, AttributeType] | None) -> FieldSpec | None:
    """The field's spec; None for an attribute when no declarations are given."""
    if not field.key:
        if field.name not in BUILTIN_FIELDS:  # only a tree built in code can get here
            raise SegmentError(f"unknown field {field.name!r}", field.column)
        return BUILTIN_FIELDS[field.name]
    if field.name != ATTRIBUTES or not valid_key(field.key):
        raise SegmentError(f"invalid attribute {field.label!r}", field.column)
    if attribute_types is None:
        return None
    type_ = attribute_types.get(field.key)
    if type_ is None:
        known = sorted(attribute_types)
        listing = f" (declared: {', '.join(known[:20])})" if known else " (none are declared yet)"
        raise SegmentError(f"unknown attribute {field.label!r}{suggest(field.key, known)}{listing}", field.column)
    return FieldSpec(type_, OPS_BY_TYPE[type_])


def as_date(value: Scalar) -> date | None:
    """A date literal, or an ISO ``"YYYY-MM-DD"`` string standing for one."""
    if isinstance(value, DateValue):
        return value.value
    if isinstance(value, Text):
        return parse_iso_date(value.value)
    return None


def _literal_kind(value: Scalar) -> str:
    return {Text: "a string", Number: "a number", Boolean: "true/false", DateValue: "a date"}[type(value)]


_EXAMPLE = {"text": '"pro"', "number": "42", "date": 'date("2026-03-01")', "boolean": "true", "list": '"vip"'}


def _check_value(field: Field, spec: FieldSpec, value: Scalar) -> None:
    want: AttributeType = "text" if spec.type == "list" else spec.type  # list contains "item"
    ok = {
        "text": isinstance(value, Text),
        "number": isinstance(value, Number),
        "boolean": isinstance(value, Boolean),
        "date": as_date(value) is not None,
    }[want]
    if ok:
        return
    if want == "date" and isinstance(value, Text):
        raise SegmentError(
            f'{field.label} is a date: expected a date such as date("2026-03-01") or '
            f'"2026-03-01", not {value.value[:40]!r}',
            value.column,
        )
    article = "an" if want[0] in "aeiou" else "a"
    raise SegmentError(
        f"{field.label} is {article} {spec.type} field: compare it with {want} values such as "
        f"{_EXAMPLE[want]}, not {_literal_kind(value)}",
        value.column,
    )


_OP_ORDER = ("=", "!=", "<", ">", "<=", ">=", "contains", "in", "set")


def _op_label(op: str) -> str:
    return {"in": "in [...]", "set": "is set"}.get(op, op)


def check(expr: Expr, attribute_types: Mapping[str, AttributeType] | None = None) -> None:
    """Raise :class:`SegmentError` when a condition uses an operator or a
    value its field's type does not allow. Attributes are checked only when
    ``attribute_types`` (the declared attributes) is given."""
    for leaf in conditions(expr):
        if isinstance(leaf, Call):
            limit, unit = FUNCTION_LIMITS.get(leaf.function, (0, ""))
            if not limit or not 1 <= leaf.argument <= limit:
                raise SegmentError(f"invalid call {leaf.function}({leaf.argument})", leaf.column)
            continue
        spec = spec_of(leaf.field, attribute_types)
        if spec is None:
            continue
        op = leaf.op if isinstance(leaf, Comparison) else "in" if isinstance(leaf, InList) else "set"
        if op not in spec.ops:
            allowed = ", ".join(_op_label(o) for o in _OP_ORDER if o in spec.ops)
            raise SegmentError(
                f"{_op_label(op)!r} does not apply to {leaf.field.label}, a {spec.type} field; use {allowed}",
                leaf.column,
            )
        values = leaf.values if isinstance(leaf, InList) else (leaf.value,) if isinstance(leaf, Comparison) else ()
        for value in values:
            _check_value(leaf.field, spec, value)
