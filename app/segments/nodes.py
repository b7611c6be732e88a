"""The typed AST of a segment expression: frozen dataclasses.

Every node remembers the 1-based column it started at, so later stages (the
type checker, the compiler) can point at the offending part of the input. The
column takes no part in equality: ``parse(to_text(tree)) == tree`` compares
meaning, not layout."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, TypeAlias

# 0 = "no position" (a node built in code).
_column = dataclasses.field(default=0, compare=False, repr=False)

CompareOp: TypeAlias = Literal["=", "!=", "<", ">", "<=", ">=", "contains"]
COMPARE_OPS: tuple[CompareOp, ...] = ("=", "!=", "<", ">", "<=", ">=", "contains")
FunctionName: TypeAlias = Literal[
    "opened_in_last", "clicked_in_last", "not_opened_in_last", "bounced_softly_in_last_days"
]
FUNCTIONS: tuple[FunctionName, ...] = (
    "opened_in_last",
    "clicked_in_last",
    "not_opened_in_last",
    "bounced_softly_in_last_days",
)


# --- values ------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    value: str
    column: int = _column


@dataclass(frozen=True)
class Number:
    # Decimal, not float: "0.1" means exactly 0.1 and prints back as written.
    value: Decimal
    column: int = _column


@dataclass(frozen=True)
class Boolean:
    value: bool
    column: int = _column


@dataclass(frozen=True)
class DateValue:
    """``date("2026-03-01")``. An ISO string compared with a date field stays a
    :class:`Text` in the tree (it is written as one); the checker reads it."""

    value: date
    column: int = _column


Scalar: TypeAlias = Text | Number | Boolean | DateValue


# --- fields --------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A built-in field (``key`` empty) or ``attribs.<key>`` (``name`` is "attribs")."""

    name: str
    key: str = ""
    column: int = _column

    @property
    def label(self) -> str:
        return f"{self.name}.{self.key}" if self.key else self.name


# --- conditions ----------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    field: Field
    op: CompareOp
    value: Scalar
    column: int = _column  # the operator's column


@dataclass(frozen=True)
class InList:
    field: Field
    values: tuple[Scalar, ...]
    column: int = _column  # the column of "in"


@dataclass(frozen=True)
class IsSet:
    field: Field
    negated: bool = False  # "is not set"
    column: int = _column  # the column of "is"


@dataclass(frozen=True)
class Call:
    function: FunctionName
    argument: int
    column: int = _column


@dataclass(frozen=True)
class Not:
    operand: Expr
    column: int = _column


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]  # two or more; a parenthesised "and" inside stays nested
    column: int = _column


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]
    column: int = _column


Condition: TypeAlias = Comparison | InList | IsSet | Call
Expr: TypeAlias = Condition | Not | And | Or


def conditions(expr: Expr) -> list[Condition]:
    """The leaves of ``expr``, left to right."""
    if isinstance(expr, Not):
        return conditions(expr.operand)
    if isinstance(expr, And | Or):
        return [leaf for operand in expr.operands for leaf in conditions(operand)]
    return [expr]
