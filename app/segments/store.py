"""Saved segments: create, change, find, preview, and the compiler the send
engine is given (``app.sending.audience``).

A segment's expression is stored as its canonical text (:func:`to_text`), so
two spellings of one condition are one segment and a stored expression parses
back to the same tree. Attribute names are checked against the declared
attributes when the segment is saved, and again whenever it is evaluated (a
declaration can change in between)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from app.db import db, utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.segments.compiler import compile_segment
from app.segments.errors import SegmentError
from app.segments.models import Segment
from app.segments.parser import parse
from app.segments.printer import to_text
from app.segments.sql_schema import SqlSegmentSchema
from app.sending.audience import Audience
from app.sending.service import count_recipients, sample_recipients
from app.subscribers.attributes import definitions
from app.subscribers.lists import slugify
from app.subscribers.models import MailingList

__all__ = [
    "Preview",
    "all_segments",
    "audience",
    "canonical",
    "compile_expression",
    "create_segment",
    "delete_segment",
    "find_audience",
    "find_segment",
    "preview",
    "update_segment",
]


class SegmentInputError(InvalidInput):
    """An expression that does not parse or check, with the column it points at."""

    def __init__(self, error: SegmentError) -> None:
        super().__init__(str(error))
        self.column = error.column
        self.detail = error.message


def canonical(expression: str) -> str:
    """The canonical text of ``expression``, checked against the declared attributes."""
    try:
        return to_text(parse(expression, attributes=definitions()))
    except SegmentError as exc:
        raise SegmentInputError(exc) from exc


def _rows(query: Any) -> Sequence[Any]:
    """How the schema looks up the last sends: in the caller's transaction."""
    return db.session.execute(query).all()


def compile_expression(
    expression: str, list_ids: Sequence[int], *, as_of: datetime | None = None
) -> ColumnElement[bool]:
    """A WHERE clause on Subscriber for ``expression`` over ``list_ids``
    (engagement counts the sends to those lists), read as of ``as_of`` when given."""
    types = definitions()
    try:
        schema = SqlSegmentSchema(list_ids, attribute_types=types, now=as_of, as_of=as_of, execute=_rows)
        return compile_segment(parse(expression, attributes=types), schema)
    except SegmentError as exc:
        raise SegmentInputError(exc) from exc


def _lists(lists: Iterable[MailingList]) -> list[MailingList]:
    chosen = list(dict.fromkeys(lists))
    if not chosen:
        raise InvalidInput("Choose at least one list for the segment.")
    return chosen


def _name(name: str) -> tuple[str, str]:
    name = " ".join(name.split())[:200]
    slug = slugify(name)
    if not name or not slug:
        raise InvalidInput("Give the segment a name (letters or digits).")
    return name, slug


def _save(segment: Segment) -> Segment:
    try:
        with db.session.begin_nested():
            db.session.add(segment)
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"There is already a segment called “{segment.name}”.") from exc
    return segment


def create_segment(name: str, lists: Iterable[MailingList], expression: str, user_id: int | None = None) -> Segment:
    """Flushes; the caller commits."""
    name, slug = _name(name)
    lists = _lists(lists)
    now = utcnow()
    return _save(
        Segment(
            name=name,
            slug=slug,
            expression=canonical(expression),
            lists=lists,
            created_by_id=user_id,
            created_at=now,
            updated_at=now,
        )
    )


def update_segment(segment: Segment, name: str, lists: Iterable[MailingList], expression: str) -> Segment:
    """Scheduled sends keep the condition they were scheduled with. Flushes."""
    segment.name, segment.slug = _name(name)
    segment.lists = _lists(lists)
    segment.expression = canonical(expression)
    segment.updated_at = utcnow()
    return _save(segment)


def delete_segment(segment: Segment) -> None:
    """Sends made for it keep its name and condition. Flushes."""
    db.session.delete(segment)
    db.session.flush()


def find_segment(name: str) -> Segment | None:
    """By name (case-insensitive) or slug."""
    name = name.strip()
    return db.session.scalar(select(Segment).where(Segment.slug == slugify(name))) or db.session.scalar(
        select(Segment).where(Segment.name == name)
    )


def get_segment(segment_id: int) -> Segment:
    segment = db.session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("No such segment (it may have been deleted).")
    return segment


def all_segments() -> list[Segment]:
    return list(db.session.scalars(select(Segment).order_by(Segment.name)))


def audience(segment: Segment) -> Audience:
    """What a send for this segment carries: its name and condition as of now."""
    return Audience(segment.id, segment.name, canonical(segment.expression))


def find_audience(name: str) -> tuple[Audience, list[MailingList]] | None:
    """The send engine's lookup of ``--segment NAME``."""
    segment = find_segment(name)
    return None if segment is None else (audience(segment), list(segment.lists))


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[str]
    canonical: str


def preview(lists: Iterable[MailingList], expression: str, limit: int = 10) -> Preview:
    """How many readers a send to ``lists`` restricted by ``expression`` would
    reach now (active, not suppressed), and the first ``limit`` of them. An
    empty expression is the whole lists."""
    lists = _lists(lists)
    text = canonical(expression) if expression.strip() else None
    return Preview(count_recipients(lists, text), sample_recipients(lists, text, limit), text or "")
