"""AST -> SQLAlchemy boolean expression, a WHERE clause on the subscriber.

Logic is two-valued, as an editor expects: a missing attribute is *not
equal* to every value (SQL would say "unknown" and drop the row). Each
``not`` (and so ``!=`` and ``is not set``, which are compiled as the
negation of ``=`` and ``is set``) wraps its operand in ``coalesce(x, false)``,
so ``attribs.plan != "pro"`` includes subscribers without a plan, and
``not (...)`` is always the complement of ``(...)``. Positive conditions stay
bare so PostgreSQL can use the GIN index for ``=``, ``in`` and ``contains``.

Values are always bound parameters. Text comparisons are exact and
case-sensitive, except ``email`` and ``domain``, whose values are lower-cased
because addresses are stored normalised. Ordering of text follows the
database's collation.

``signup_date`` compares calendar days in UTC: ``signup_date = date("2026-03-01")``
is ``2026-03-01 00:00 <= created_at < 2026-03-02 00:00``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Numeric, String, and_, false, func, literal, not_, or_
from sqlalchemy.sql.elements import ColumnElement

from app.segments import sqlfuncs
from app.segments.errors import SegmentError
from app.segments.fields import BUILTIN_FIELDS, as_date, check, spec_of
from app.segments.nodes import (
    And,
    Call,
    Comparison,
    Expr,
    Field,
    InList,
    IsSet,
    Not,
    Number,
    Or,
    Scalar,
    Text,
)
from app.segments.nodes import (
    Boolean as BooleanValue,
)
from app.segments.schema import SegmentSchema

Cond = ColumnElement[bool]
_ORDERING: dict[str, Callable[[Any, Any], Cond]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
    "=": operator.eq,
}


def compile_segment(expr: Expr, schema: SegmentSchema) -> Cond:
    """The condition selecting the subscribers that match ``expr``. Checks
    types against ``schema.attribute_types`` first (SegmentError)."""
    check(expr, schema.attribute_types)
    return _Compiler(schema).expr(expr)


def negate(condition: Cond) -> Cond:
    return not_(func.coalesce(condition, false()))


class _Compiler:
    def __init__(self, schema: SegmentSchema) -> None:
        self.schema = schema

    def expr(self, expr: Expr) -> Cond:
        if isinstance(expr, And):
            return and_(*(self.expr(operand) for operand in expr.operands))
        if isinstance(expr, Or):
            return or_(*(self.expr(operand) for operand in expr.operands))
        if isinstance(expr, Not):
            return negate(self.expr(expr.operand))
        if isinstance(expr, Call):
            builder = {
                "opened_in_last": self.schema.opened_in_last,
                "clicked_in_last": self.schema.clicked_in_last,
                "not_opened_in_last": self.schema.not_opened_in_last,
                "bounced_softly_in_last_days": self.schema.bounced_softly_in_last_days,
            }[expr.function]
            return builder(expr.argument)
        if isinstance(expr, IsSet) and expr.negated:
            return negate(self.expr(IsSet(expr.field, False, expr.column)))
        if isinstance(expr, Comparison) and expr.op == "!=":
            return negate(self.expr(Comparison(expr.field, "=", expr.value, expr.column)))
        if expr.field.key:
            return self.attribute(expr)
        return self.builtin(expr)

    # --- built-in fields -------------------------------------------------------

    def builtin(self, cond: Comparison | InList | IsSet) -> Cond:
        field = cond.field
        if field.name == "signup_date":
            return self.signup(cond)
        if field.name in ("source", "list"):
            return self.schema.subscription_exists(
                field.name,  # type: ignore[arg-type]
                lambda column: self.text(column, cond, field),
            )
        column = {
            "email": self.schema.email,
            "name": self.schema.name,
            "domain": sqlfuncs.email_domain(self.schema.email),
        }[field.name]
        return self.text(column, cond, field)

    def text(self, column: ColumnElement[str], cond: Comparison | InList | IsSet, field: Field) -> Cond:
        lower = not field.key and BUILTIN_FIELDS[field.name].lowercase

        def bind(value: Scalar) -> ColumnElement[str]:
            assert isinstance(value, Text)
            return literal(value.value.lower() if lower else value.value, String())

        if isinstance(cond, IsSet):
            return and_(column.is_not(None), column != literal("", String()))
        if isinstance(cond, InList):
            return column.in_([bind(value) for value in cond.values])
        if cond.op == "contains":
            return sqlfuncs.position(column, bind(cond.value)) > 0
        return _ORDERING[cond.op](column, bind(cond.value))

    def signup(self, cond: Comparison | InList | IsSet) -> Cond:
        column = self.schema.signup_at
        if isinstance(cond, IsSet):
            return column.is_not(None)
        if isinstance(cond, InList):
            return or_(*(self.day(column, "=", value) for value in cond.values))
        return self.day(column, cond.op, cond.value)

    @staticmethod
    def day(column: ColumnElement[datetime], op: str, value: Scalar) -> Cond:
        day = as_date(value)
        assert day is not None  # the checker let only dates through
        start = datetime.combine(day, time())
        end = datetime.combine(day + timedelta(days=1), time()) if day < date.max else None
        if op == "<":
            return column < start
        if op == ">=":
            return column >= start
        if op == "=":
            return and_(column >= start, column < end) if end else column >= start
        if op == "<=":
            return column < end if end else column.is_not(None)
        assert op == ">"
        return column >= end if end else false()

    # --- custom attributes -----------------------------------------------------------

    def attribute(self, cond: Comparison | InList | IsSet) -> Cond:
        doc = self.schema.attributes
        field = cond.field
        if doc is None:
            raise SegmentError("custom attributes are not available in this database", field.column)
        spec = spec_of(field, self.schema.attribute_types)
        assert spec is not None
        key = literal(field.key, String())
        if isinstance(cond, IsSet):
            return sqlfuncs.json_is_set(doc, key)
        values = cond.values if isinstance(cond, InList) else (cond.value,)
        op = "=" if isinstance(cond, InList) else cond.op
        if spec.type == "list":
            return or_(*(self._member(doc, field.key, value) for value in values))
        if spec.type == "number":
            number = sqlfuncs.json_number(doc, key)
            return or_(*(_ORDERING[op](number, literal(_decimal(value), Numeric())) for value in values))
        if spec.type == "boolean":
            flag = values[0]
            assert isinstance(flag, BooleanValue)
            return self._equals(doc, field.key, flag.value, Boolean())
        # text, and dates stored as ISO strings (which order like the dates).
        as_text = [_iso(value) if spec.type == "date" else _text(value) for value in values]
        if op == "=":
            return or_(*(self._equals(doc, field.key, text, String()) for text in as_text))
        if op == "contains":
            return sqlfuncs.position(sqlfuncs.json_text(doc, key), literal(as_text[0], String())) > 0
        return _ORDERING[op](sqlfuncs.json_text(doc, key), literal(as_text[0], String()))

    @staticmethod
    def _equals(doc: ColumnElement[Any], key: str, value: str | bool, type_: String | Boolean) -> Cond:
        return sqlfuncs.json_equals(doc, literal(key, String()), literal(value, type_), sqlfuncs.fragment(key, value))

    @staticmethod
    def _member(doc: ColumnElement[Any], key: str, value: Scalar) -> Cond:
        item = _text(value)
        return sqlfuncs.json_list_contains(
            doc, literal(key, String()), literal(item, String()), sqlfuncs.fragment(key, [item])
        )


def _text(value: Scalar) -> str:
    assert isinstance(value, Text)
    return value.value


def _iso(value: Scalar) -> str:
    day = as_date(value)
    assert day is not None
    return day.isoformat()


def _decimal(value: Scalar) -> Decimal:
    assert isinstance(value, Number)
    return value.value
