"""The canonical text of an AST: ``parse(to_text(tree)) == tree``.

Canonical means: keywords in lower case, one space around operators, ``, ``
between list values, parentheses only where precedence needs them (a nested
``and`` inside ``and``, or ``or`` inside ``or``, keeps its parentheses because
it is a distinct tree), numbers without exponent, strings in double quotes
with ``\\"``, ``\\\\``, ``\\n``, ``\\t``, ``\\r`` escaped and other invisible
characters of the Basic Multilingual Plane as ``\\uXXXX``."""

from __future__ import annotations

from app.segments.nodes import (
    And,
    Boolean,
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

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def quote(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif not ch.isprintable() and ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def value_text(value: Scalar) -> str:
    if isinstance(value, Text):
        return quote(value.value)
    if isinstance(value, Number):
        return format(value.value, "f")
    if isinstance(value, Boolean):
        return "true" if value.value else "false"
    return f'date("{value.value.isoformat()}")'


def field_text(field: Field) -> str:
    return field.label


def to_text(expr: Expr) -> str:
    if isinstance(expr, Comparison):
        return f"{field_text(expr.field)} {expr.op} {value_text(expr.value)}"
    if isinstance(expr, InList):
        return f"{field_text(expr.field)} in [{', '.join(value_text(v) for v in expr.values)}]"
    if isinstance(expr, IsSet):
        return f"{field_text(expr.field)} is {'not ' if expr.negated else ''}set"
    if isinstance(expr, Call):
        return f"{expr.function}({expr.argument})"
    if isinstance(expr, Not):
        inner = to_text(expr.operand)
        return f"not ({inner})" if isinstance(expr.operand, And | Or) else f"not {inner}"
    if isinstance(expr, And):
        return " and ".join(f"({to_text(o)})" if isinstance(o, And | Or) else to_text(o) for o in expr.operands)
    assert isinstance(expr, Or)
    return " or ".join(f"({to_text(o)})" if isinstance(o, Or) else to_text(o) for o in expr.operands)
