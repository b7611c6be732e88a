"""Who a send reaches: the one recipient query, shared by the counts the admin
sees and the chunks that create the deliveries (app.sending.preparation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, literal, select
from sqlalchemy.orm import aliased

from app.sending.audience import compile_condition
from app.subscribers.models import Subscriber, Subscription, SubscriptionStatus
from app.subscribers.suppression import reachable

__all__ = ["recipients_select", "recipients_where"]


def _active_on(list_ids: list[int]) -> tuple[type[Subscription], list[ColumnElement[bool]]]:
    """A fresh alias of subscriptions and the test "an active subscription of
    this subscriber to one of the lists" on it."""
    sub = aliased(Subscription)
    return sub, [sub.subscriber_id == Subscriber.id, sub.list_id.in_(list_ids), sub.status == SubscriptionStatus.ACTIVE]


def recipients_where(
    list_ids: list[int], segment: str | None, *, as_of: datetime | None = None
) -> list[ColumnElement[bool]]:
    """Who a send to ``list_ids`` (and the segment's condition, when there is
    one) reaches: an active subscription to one of the lists, mail allowed to
    the address (suppression), and the condition, all tested together on the
    subscriber row, so no segment can reach a suppressed or unsubscribed reader.
    A semi-join (EXISTS), not a join and GROUP BY: each address counts once
    without sorting a million subscriptions."""
    where = [exists().where(*_active_on(list_ids)[1]), reachable()]
    if segment is not None:
        where.append(compile_condition(segment, list_ids, as_of=as_of))
    return where


def recipients_select(
    list_ids: list[int], segment: str | None = None, *, as_of: datetime | None = None
) -> Select[int, int, str]:
    """One row per recipient: (subscriber id, list id, email). The lowest list
    id among their active subscriptions is the one whose unsubscribe link they get."""
    if len(list_ids) == 1:
        first_list: ColumnElement[int] = literal(list_ids[0])
    else:
        sub, active = _active_on(list_ids)
        first_list = select(func.min(sub.list_id)).where(*active).scalar_subquery()
    return select(Subscriber.id, first_list, Subscriber.email).where(*recipients_where(list_ids, segment, as_of=as_of))
