"""Read side of the subscriber admin: keyset-paginated search with filters,
each row's real state per list, the total matching count, counts per list.

Pages are addressed by the email at their edge (``after`` / ``before``), never
by offset, so page 20,000 of a million rows costs the same as page 1. Search
matches any part of the email (so the domain too) or the name, with ``%`` and
``_`` taken literally; on PostgreSQL the trigram indexes of migration 0008
serve it. A segment's condition comes in as ``condition`` (a WHERE clause on
Subscriber): this package sits below ``segments`` and never imports it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, exists, func, not_, or_, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from app.db import MAX_SEARCH_WORDS, contains_pattern, db, utcnow
from app.subscribers.models import MailingList, Subscriber, Subscription, Suppression

PAGE_SIZE = 50
# What a subscriber is on a list, as the admin shows it. bounced / complained /
# suppressed come from the address's suppression (it wins over any subscription).
STATES = ("active", "pending", "unsubscribed", "bounced", "complained", "suppressed")
STATUS_FILTERS = STATES  # the name the views used before states were derived
EXACT_COUNT_LIMIT = 100_000
COUNTS_TTL = 30.0  # seconds a process keeps the Lists page counts (see list_counts)


@dataclass(frozen=True)
class Filters:
    q: str = ""
    list_id: int | None = None
    state: str | None = None
    condition: ColumnElement[bool] | None = None  # a segment's, compiled by the caller
    within_lists: tuple[int, ...] = ()  # the segment's lists: a subscription on one of them

    def where(self) -> list[ColumnElement[bool]]:
        return _conditions(self)


@dataclass
class Count:
    value: int
    exact: bool


@dataclass
class Page:
    rows: list[Subscriber]
    states: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # id -> [(list name, state)]
    first: str | None = None
    last: str | None = None
    has_prev: bool = False
    has_next: bool = False


def state_of(subscription_status: str, suppression_reason: str | None) -> str:
    """A subscription's state as the admin shows it: the address's suppression wins."""
    if suppression_reason == "hard-bounce":
        return "bounced"
    if suppression_reason == "complaint":
        return "complained"
    if suppression_reason == "unsubscribed-all":
        return "unsubscribed"
    if suppression_reason is not None:
        return "suppressed"  # manual (or a row the admin cannot explain better)
    return str(subscription_status)


def _suppressed(*reasons: str) -> ColumnElement[bool]:
    query = exists().where(Suppression.email == Subscriber.email)
    if reasons:
        query = query.where(Suppression.reason.in_(reasons))
    return query


def _on_list(list_id: int | None, *statuses: str) -> ColumnElement[bool]:
    conditions = [Subscription.subscriber_id == Subscriber.id]
    if list_id is not None:
        conditions.append(Subscription.list_id == list_id)
    if statuses:
        conditions.append(Subscription.status.in_(statuses))
    return exists().where(and_(*conditions))


def _state_condition(state: str, list_id: int | None) -> ColumnElement[bool]:
    """SQL for :func:`state_of` == ``state`` on the list (or on any list)."""
    blocking = ("hard-bounce", "complaint", "manual", "deleted")
    if state in ("active", "pending"):
        return and_(_on_list(list_id, state), not_(_suppressed()), Subscriber.status == "enabled")
    if state == "unsubscribed":
        return and_(
            not_(_suppressed(*blocking)),
            or_(_on_list(list_id, "unsubscribed"), and_(_suppressed("unsubscribed-all"), _on_list(list_id))),
        )
    reason = {"bounced": "hard-bounce", "complained": "complaint"}.get(state)
    where = (
        _suppressed(reason)
        if reason
        else or_(
            _suppressed("manual", "deleted"),
            and_(Subscriber.status == "suppressed", not_(_suppressed())),
        )
    )
    return and_(where, _on_list(list_id)) if list_id is not None else where


def _search(q: str) -> list[ColumnElement[bool]]:
    """Every word of ``q`` appears in the email or the name. Emails are stored
    lower-case, so ``email LIKE`` (not ``lower(email)``) is case-insensitive and
    can use the trigram index; names use ILIKE for the same reason."""
    return [
        or_(
            Subscriber.email.like(contains_pattern(word), escape="\\"),
            Subscriber.name.ilike(contains_pattern(word), escape="\\"),
        )
        for word in q.lower().split()[:MAX_SEARCH_WORDS]
    ]


def _conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conditions = _search(filters.q)
    if filters.state in STATES:
        conditions.append(_state_condition(filters.state, filters.list_id))
    elif filters.list_id is not None:
        conditions.append(_on_list(filters.list_id))
    if filters.within_lists:
        conditions.append(
            exists().where(Subscription.subscriber_id == Subscriber.id, Subscription.list_id.in_(filters.within_lists))
        )
    if filters.condition is not None:
        conditions.append(filters.condition)
    return conditions


def matching(filters: Filters) -> Select:
    return select(Subscriber).where(*filters.where())


def search(
    filters: Filters,
    *,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of subscribers ordered by email. ``after``: the page following
    that email; ``before``: the page preceding it; ``last``: the final page."""
    query = matching(filters)
    if before is not None or last:
        if before is not None:
            query = query.where(Subscriber.email < before)
        rows = list(db.session.scalars(query.order_by(Subscriber.email.desc()).limit(size + 1)))
        more = len(rows) > size
        rows = rows[:size][::-1]
        page = Page(rows, has_prev=more, has_next=before is not None)
    else:
        if after is not None:
            query = query.where(Subscriber.email > after)
        rows = list(db.session.scalars(query.order_by(Subscriber.email).limit(size + 1)))
        page = Page(rows[:size], has_prev=after is not None, has_next=len(rows) > size)
    if page.rows:
        page.first, page.last = page.rows[0].email, page.rows[-1].email
        page.states = states_per_list(page.rows)
    return page


def states_per_list(subscribers: list[Subscriber]) -> dict[int, list[tuple[str, str]]]:
    """{subscriber id: [(list name, state), ...]} in two indexed queries."""
    ids = [s.id for s in subscribers]
    reasons = dict(
        db.session.execute(
            select(Suppression.email, Suppression.reason).where(Suppression.email.in_([s.email for s in subscribers]))
        ).all()
    )
    by_id: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    email = {s.id: s.email for s in subscribers}
    rows = db.session.execute(
        select(Subscription.subscriber_id, MailingList.name, Subscription.status)
        .join(MailingList, MailingList.id == Subscription.list_id)
        .where(Subscription.subscriber_id.in_(ids))
        .order_by(MailingList.name)
    )
    for subscriber_id, list_name, status in rows:
        by_id[subscriber_id].append((list_name, state_of(status, reasons.get(email[subscriber_id]))))
    return by_id


def subscription_states(subscriber: Subscriber) -> dict[int, str]:
    """{list id: state} of one subscriber's subscriptions (their page)."""
    reason = db.session.scalar(select(Suppression.reason).where(Suppression.email == subscriber.email).limit(1))
    return {s.list_id: state_of(s.status, reason) for s in subscriber.subscriptions}


def count(filters: Filters) -> Count:
    """The number of matches: exact up to EXACT_COUNT_LIMIT (counting stops
    there, so a page never scans a million rows); above it, PostgreSQL's
    estimate (SQLite, a small-install database, counts exactly)."""
    conditions = filters.where()
    bounded = select(Subscriber.id).where(*conditions).limit(EXACT_COUNT_LIMIT + 1).subquery()
    found = db.session.scalar(select(func.count()).select_from(bounded)) or 0
    if found <= EXACT_COUNT_LIMIT:
        return Count(found, True)
    if db.session.get_bind().dialect.name != "postgresql":
        return Count(db.session.scalar(select(func.count()).select_from(Subscriber).where(*conditions)) or 0, True)
    return Count(max(EXACT_COUNT_LIMIT + 1, _estimate(conditions)), False)


def _estimate(conditions: list[ColumnElement[bool]]) -> int:
    if not conditions:
        # The table's own statistics (kept by autovacuum / ANALYZE).
        return int(db.session.scalar(text("SELECT reltuples::bigint FROM pg_class WHERE relname = 'subscribers'")) or 0)
    plan = db.session.execute(_Explain(select(Subscriber.id).where(*conditions))).scalar()
    parsed: Any = json.loads(plan) if isinstance(plan, str) else plan
    return int(parsed[0]["Plan"]["Plan Rows"])


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <query>`` with the query's parameters bound as
    usual (a segment's condition has JSON parameters; nothing is pasted in)."""

    inherit_cache = False

    def __init__(self, query: Select) -> None:
        self.query = query


@compiles(_Explain, "postgresql")
def _explain(element: _Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.query, **kw)


def all_lists() -> list[MailingList]:
    return list(db.session.scalars(select(MailingList).order_by(MailingList.name)))


CACHE = "pressroom.list_counts"


@dataclass
class ListCounts:
    counts: dict[int, dict[str, int]]
    at: datetime  # when they were counted (the Lists page says so)


def list_counts(*, fresh: bool = False) -> ListCounts:
    """{list id: {status: count}}, kept COUNTS_TTL seconds by each app (process).
    The grouped count scans every subscription (~160 ms at a million) and a
    page of totals needs no more than "as of half a minute ago"; a maintained
    counter would have to be kept by every writer of subscriptions, the
    million-row CSV import included, and would make one hot row of each list.
    The admin's own changes call :func:`forget_counts`, so they show at once
    in the process that made them."""
    store = current_app.extensions.setdefault(CACHE, {})
    now = time.monotonic()
    cached = store.get("counts")
    if cached is not None and not fresh and now - store["monotonic"] < COUNTS_TTL:
        return cached
    counts: dict[int, dict[str, int]] = {}
    rows = db.session.execute(
        select(Subscription.list_id, Subscription.status, func.count()).group_by(
            Subscription.list_id, Subscription.status
        )
    )
    for list_id, status, n in rows:
        counts.setdefault(list_id, {})[status] = n
    store["counts"], store["monotonic"] = ListCounts(counts, utcnow()), now
    return store["counts"]


def forget_counts() -> None:
    current_app.extensions.get(CACHE, {}).clear()
