"""Typing custom attributes from CSV cells: infer_type proposes, coerce converts
or says why not."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.segments import ATTRIBUTE_TYPES, AttributeValueError, coerce, infer_type


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["true", "FALSE", "", "Yes", "no", "1"], "boolean"),
        (["0", "1", "1"], "number"),  # could be a count: not proposed as boolean
        (["12", "-3.5", "0", " 7 "], "number"),
        (["1,5", "2"], "text"),  # 1.5 in Germany, 15 in the US
        (["1,500"], "text"),
        (["007", "12"], "text"),  # a leading zero would be lost
        (["4915112345678901"], "text"),  # 16 digits: more than a JSON number keeps exactly
        (["2026-03-01", "1999-12-31"], "date"),
        (["2026-03-01", "03/04/2026"], "text"),  # day/month order is ambiguous
        (["2026-02-30"], "text"),
        (["beta; press", "beta", ""], "list"),
        (["a|b", "c"], "list"),
        (["a;b", "c|d"], "text"),  # two separators: not one list
        (["a;b|c"], "text"),
        (["pro", "free"], "text"),
        (["", "  "], "text"),
        ([], "text"),
    ],
)
def test_infer_type_proposes_conservatively(values, expected):
    assert infer_type(values) == expected


def test_infer_type_reads_a_generator_once():
    assert infer_type(str(n) for n in range(10_000)) == "number"


@pytest.mark.parametrize(
    ("value", "type_", "expected"),
    [
        (" pro ", "text", "pro"),
        ("-12", "number", -12),
        ("3.50", "number", 3.5),
        ("2026-03-01", "date", "2026-03-01"),
        ("YES", "boolean", True),
        ("0", "boolean", False),
        ("beta; press ;beta;", "list", ["beta", "press"]),
        ("a | b", "list", ["a", "b"]),
        ("single", "list", ["single"]),
        ("   ", "number", None),
        ("", "date", None),
    ],
)
def test_coerce_gives_the_json_value(value, type_, expected):
    result = coerce(value, type_)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "type_", "message"),
    [
        ("1,5", "number", "use '.' as the decimal point"),
        ("12abc", "number", "is not a number"),
        ("1234567890123456", "number", "more than 15 significant digits"),
        ("03/04/2026", "date", "YYYY-MM-DD"),
        ("2026-02-30", "date", "is not a date"),
        ("maybe", "boolean", "is not a boolean"),
        ("a;b|c", "list", "mixes ';' and '|'"),
        ("x" * 1001, "text", "at most 1000"),
        ("a\x00b", "text", "control character"),
        ("x", "colour", "unknown attribute type"),
    ],
)
def test_coerce_refuses_with_a_reason(value, type_, message):
    with pytest.raises(AttributeValueError, match=message):
        coerce(value, type_)  # type: ignore[arg-type]


@given(st.lists(st.text(max_size=30), max_size=20))
def test_every_value_of_a_column_coerces_to_the_inferred_type(values):
    """What infer_type proposes, coerce accepts for every cell of the sample,
    and the result is valid JSON of that type."""
    type_ = infer_type(values)
    for value in values:
        if any(ord(c) < 32 and c not in "\t\n\r" or c == "\x7f" for c in value.strip()) or len(value.strip()) > 1000:
            continue
        result = coerce(value, type_)
        if result is None:
            assert not value.strip()
            continue
        assert json.loads(json.dumps(result)) == result
        expected = {"text": str, "number": (int, float), "date": str, "boolean": bool, "list": list}[type_]
        assert isinstance(result, expected)


@given(st.integers(-(10**15) + 1, 10**15 - 1))
def test_integers_round_trip(n):
    assert infer_type([str(n)]) == "number" and coerce(str(n), "number") == n


@given(st.dates())
def test_iso_dates_round_trip(d):
    assert infer_type([d.isoformat()]) == "date"
    assert date.fromisoformat(coerce(d.isoformat(), "date")) == d  # type: ignore[arg-type]


@given(st.sampled_from(ATTRIBUTE_TYPES), st.text(max_size=50))
def test_coerce_raises_only_attribute_value_error(type_, value):
    try:
        coerce(value, type_)
    except AttributeValueError as error:
        assert str(error)
