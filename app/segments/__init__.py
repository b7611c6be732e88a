"""Segments: a small expression language that selects part of a list
("readers in Europe on the pro plan who clicked lately") without giving
editors SQL.

``parse(text) -> Expr`` (a typed AST), ``to_text(expr)`` (its canonical
text), ``compile_segment(expr, schema)`` (a SQLAlchemy WHERE clause on the
subscriber, usable inside the send's ``INSERT ... SELECT``). The grammar is in
:mod:`app.segments.parser` and docs/segments.md. ``infer_type`` and ``coerce``
type custom attributes for CSV import.

The language, printer and compiler import nothing from Pressroom; the models
are known only to :mod:`app.segments.sql_schema`, which implements the
:class:`SegmentSchema` protocol (import it from there).
"""

from app.attributes import ATTRIBUTE_TYPES, AttributeType, AttributeValueError, coerce, infer_type
from app.segments.compiler import compile_segment
from app.segments.errors import SegmentError
from app.segments.nodes import Expr
from app.segments.parser import parse
from app.segments.printer import to_text
from app.segments.schema import SegmentSchema

__all__ = [
    "ATTRIBUTE_TYPES",
    "AttributeType",
    "AttributeValueError",
    "Expr",
    "SegmentError",
    "SegmentSchema",
    "coerce",
    "compile_segment",
    "infer_type",
    "parse",
    "to_text",
]
