"""Sending to part of a list: the port through which the send's recipient
query gets a segment's condition.

Segments (a package above this one) know the expression language and the
declared attributes; sending knows only that a send may carry a condition's
canonical text. ``create_app`` installs the compiler with :func:`init_app`.
A send that names a condition while no compiler is installed does not start
(it is paused with the reason): it must never fall back to the whole list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy.sql.elements import ColumnElement

from app.sending.errors import SendError
from app.subscribers.models import MailingList

__all__ = ["Audience", "Compiler", "Finder", "compile_condition", "find_audience", "init_app"]


class Compiler(Protocol):
    """(canonical expression text, the send's list ids) -> a WHERE clause on
    Subscriber; with ``as_of``, the condition as it read at that moment ("the
    last N sends" are those finished by then, day windows end then), so every
    chunk of a send's recipients is judged alike."""

    def __call__(
        self, expression: str, list_ids: Sequence[int], *, as_of: datetime | None = None
    ) -> ColumnElement[bool]: ...


_KEY = "pressroom.audience"
_FINDER = "pressroom.audience.finder"


@dataclass(frozen=True)
class Audience:
    """Part of the send's lists: a saved segment as it was when chosen."""

    segment_id: int | None
    name: str
    expression: str


# A saved segment's name -> its audience and lists (None: no such segment).
Finder = Callable[[str], "tuple[Audience, list[MailingList]] | None"]


def init_app(app: Flask, compiler: Compiler, finder: Finder) -> None:
    app.extensions[_KEY] = compiler
    app.extensions[_FINDER] = finder


def find_audience(name: str) -> tuple[Audience, list[MailingList]] | None:
    finder: Finder | None = current_app.extensions.get(_FINDER)
    if finder is None:
        raise SendError("Segments are not available.")
    return finder(name)


def compile_condition(
    expression: str, list_ids: Sequence[int], *, as_of: datetime | None = None
) -> ColumnElement[bool]:
    compiler: Compiler | None = current_app.extensions.get(_KEY)
    if compiler is None:
        raise SendError("This send is for a segment, but no segment compiler is installed.")
    return compiler(expression, list_ids, as_of=as_of)
