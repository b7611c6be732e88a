"""CSV export of one list, streamed in keyset-ordered chunks (bounded memory
at any list size) and safe to open in a spreadsheet: a cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``
so it is shown as text instead of evaluated as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.db import db
from app.subscribers.models import MailingList, Subscriber, Subscription

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 5000
HEADER = ["email", "name", "status", "subscribed_at", "confirmed_at", "unsubscribed_at", "source"]


def neutralise(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _line(cells: Sequence[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue()


def attribute_cell(value: Any) -> str:
    """An attribute as the importer reads it back: lists joined by ``;``,
    booleans as true/false (then made formula-safe like every cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


def export_rows(
    mailing_list: MailingList, status: str | None = None, attribute_keys: Sequence[str] = ()
) -> Iterator[str]:
    """CSV text lines (header first) for the list's subscriptions, then one
    column per attribute key (the header is the key, so the file imports back)."""
    keys = list(attribute_keys)
    yield _line([*HEADER, *keys])
    last_id = 0
    while True:
        query = (
            select(
                Subscriber.id,
                Subscriber.email,
                Subscriber.name,
                Subscription.status,
                Subscription.created_at,
                Subscription.confirmed_at,
                Subscription.unsubscribed_at,
                Subscription.source,
                Subscriber.attributes,
            )
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_id == mailing_list.id, Subscriber.id > last_id)
            .order_by(Subscriber.id)
            .limit(CHUNK)
        )
        if status:
            query = query.where(Subscription.status == status)
        rows = db.session.execute(query).all()
        if not rows:
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            values = row[-1] or {}
            cells = [*row[1:-1], *(attribute_cell(values.get(key)) for key in keys)]
            writer.writerow([neutralise(cell) for cell in cells])
        last_id = rows[-1][0]
        yield buffer.getvalue()
