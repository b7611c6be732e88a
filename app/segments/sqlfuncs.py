"""The few SQL functions whose spelling differs between SQLite and PostgreSQL,
as SQLAlchemy constructs compiled per dialect (``@compiles``), so a compiled
segment is one expression that runs on either database.

Every argument is a SQL element: values reach the database as bound
parameters, never as text in the statement. Attribute accessors return NULL
when the key is missing *or holds another JSON type*, so a number stored where
text was declared never matches by accident."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Integer, Numeric, String, literal
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class _Function(FunctionElement[Any]):
    inherit_cache = True

    def args(self, compiler: SQLCompiler, **kw: Any) -> list[str]:
        return [compiler.process(clause, **kw) for clause in self.clauses]


class email_domain(_Function):  # noqa: N801 (SQL function style)
    """The part of an address after the '@' (addresses are validated: one '@')."""

    inherit_cache = True
    type = String()
    name = "email_domain"


class position(_Function):  # noqa: N801
    """1-based position of ``needle`` in ``haystack``, 0 when absent: an exact,
    case-sensitive substring test without LIKE's wildcards to escape."""

    inherit_cache = True
    type = Integer()
    name = "position"


class json_text(_Function):  # noqa: N801
    """``doc[key]`` when it is a JSON string, else NULL."""

    inherit_cache = True
    type = String()
    name = "json_text"


class json_number(_Function):  # noqa: N801
    inherit_cache = True
    type = Numeric()
    name = "json_number"


class json_boolean(_Function):  # noqa: N801
    inherit_cache = True
    type = Boolean()
    name = "json_boolean"


class json_is_set(_Function):  # noqa: N801
    """The key is present with a non-null value."""

    inherit_cache = True
    type = Boolean()
    name = "json_is_set"


class json_equals(_Function):  # noqa: N801
    """``doc[key] = value`` for a string or boolean. Arguments: doc, key,
    value, fragment (``{key: value}`` as JSONB). PostgreSQL tests containment
    (``doc @> fragment``), which a GIN index on the column answers."""

    inherit_cache = True
    type = Boolean()
    name = "json_equals"


class json_list_contains(_Function):  # noqa: N801
    """``item`` is an element of the JSON array ``doc[key]``. Arguments: doc,
    key, item, fragment (``{key: [item]}``)."""

    inherit_cache = True
    type = Boolean()
    name = "json_list_contains"


def fragment(key: str, value: object) -> ColumnElement[Any]:
    """``{key: value}`` as a bound jsonb parameter (PostgreSQL containment)."""
    return literal({key: value}, JSONB())


# --- SQLite (JSON1, built into every supported SQLite) ------------------------


def _sqlite_path(key: str) -> str:
    return f"('$.' || {key})"


@compiles(email_domain)
def _domain_sqlite(element: email_domain, compiler: SQLCompiler, **kw: Any) -> str:
    (email,) = element.args(compiler, **kw)
    return f"substr({email}, instr({email}, '@') + 1)"


@compiles(position)
def _position_sqlite(element: position, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = element.args(compiler, **kw)
    return f"instr({haystack}, {needle})"


@compiles(json_text)
def _text_sqlite(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    path = _sqlite_path(key)
    return f"(CASE WHEN json_type({doc}, {path}) = 'text' THEN json_extract({doc}, {path}) END)"


@compiles(json_number)
def _number_sqlite(element: json_number, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    path = _sqlite_path(key)
    return f"(CASE WHEN json_type({doc}, {path}) IN ('integer', 'real') THEN json_extract({doc}, {path}) END)"


@compiles(json_boolean)
def _boolean_sqlite(element: json_boolean, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    return f"(CASE json_type({doc}, {_sqlite_path(key)}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)"


@compiles(json_is_set)
def _is_set_sqlite(element: json_is_set, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    return f"(coalesce(json_type({doc}, {_sqlite_path(key)}), 'null') != 'null')"


@compiles(json_equals)
def _equals_sqlite(element: json_equals, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key, value, _fragment = list(element.clauses)
    accessor = json_boolean(doc, key) if isinstance(value.type, Boolean) else json_text(doc, key)
    return f"({compiler.process(accessor == value, **kw)})"


@compiles(json_list_contains)
def _list_contains_sqlite(element: json_list_contains, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key, item = element.args(compiler, **kw)[:3]
    path = _sqlite_path(key)
    return (
        f"(json_type({doc}, {path}) = 'array' AND EXISTS (SELECT 1 FROM json_each({doc}, {path}) "
        f"AS segment_item WHERE segment_item.type = 'text' AND segment_item.value = {item}))"
    )


# --- PostgreSQL (jsonb) ----------------------------------------------------------


@compiles(email_domain, "postgresql")
def _domain_pg(element: email_domain, compiler: SQLCompiler, **kw: Any) -> str:
    (email,) = element.args(compiler, **kw)
    return f"split_part({email}, '@', 2)"


@compiles(position, "postgresql")
def _position_pg(element: position, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = element.args(compiler, **kw)
    return f"strpos({haystack}, {needle})"


@compiles(json_text, "postgresql")
def _text_pg(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    return f"(CASE WHEN jsonb_typeof({doc} -> {key}) = 'string' THEN {doc} ->> {key} END)"


@compiles(json_number, "postgresql")
def _number_pg(element: json_number, compiler: SQLCompiler, **kw: Any) -> str:
    # CASE, not AND: PostgreSQL does not promise to evaluate AND left to right,
    # and casting a string to numeric would fail the whole statement.
    doc, key = element.args(compiler, **kw)
    return f"(CASE WHEN jsonb_typeof({doc} -> {key}) = 'number' THEN ({doc} -> {key})::numeric END)"


@compiles(json_boolean, "postgresql")
def _boolean_pg(element: json_boolean, compiler: SQLCompiler, **kw: Any) -> str:
    doc, key = element.args(compiler, **kw)
    return f"(CASE WHEN jsonb_typeof({doc} -> {key}) = 'boolean' THEN ({doc} -> {key})::boolean END)"


@compiles(json_is_set, "postgresql")
def _is_set_pg(element: json_is_set, compiler: SQLCompiler, **kw: Any) -> str:
    # "?" narrows through the GIN index; the type test drops explicit nulls.
    doc, key = element.args(compiler, **kw)
    return f"({doc} ? {key} AND jsonb_typeof({doc} -> {key}) != 'null')"


@compiles(json_equals, "postgresql")
@compiles(json_list_contains, "postgresql")
def _containment_pg(element: json_equals | json_list_contains, compiler: SQLCompiler, **kw: Any) -> str:
    args = list(element.clauses)
    return f"({compiler.process(args[0], **kw)} @> {compiler.process(args[3], **kw)})"
