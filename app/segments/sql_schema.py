"""The default :class:`~app.segments.schema.SegmentSchema`: Pressroom's
models (Subscriber, Subscription, MailingList, Send/send_lists, Delivery,
FeedbackEvent). This is the one module of the package that knows them; it
imports only their models, never their services.

Engagement definitions (a "send" is a :class:`Send` in state ``finished``;
"the last N sends" are the N most recently started finished sends that went to
any of the segment's lists, or to any list when the segment has none):

``opened_in_last(N)``
    The subscriber has an open *or click* event on their delivery of one of
    the last N sends. A click counts as an open because the message had to be
    opened to be clicked, and the open pixel is off by default.
``clicked_in_last(N)``
    The subscriber has a click event on their delivery of one of the last N sends.
``not_opened_in_last(N)``
    The subscriber was sent (delivery state ``sent``) at least one of the last
    N sends and opened (as above) none of them. Someone who received none of
    them, e.g. who joined after them, is *not* included: a "we miss you"
    message or a clean-up must not hit new readers. The plain negation, which
    does include them, is written ``not opened_in_last(N)``.
``bounced_softly_in_last_days(N)``
    A soft-bounce event on any of the subscriber's deliveries (any list)
    happened within the last N days (N x 24 hours before ``now``).

Events are found by their own ``send_id`` and ``subscriber_id`` (copied from
their delivery when recorded; migration 0009 filled older ones), never by
joining deliveries: that table is large and deliberately lightly indexed;
events older than the retention period (``PRESSROOM_RETENTION_DAYS``) have
been folded into daily counts and no longer count.

Every subquery uses its own aliases, so the condition can be placed in a query
that already joins these tables (the send's recipient ``INSERT ... SELECT``
joins ``subscriptions``) without being correlated to the outer rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, false, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.attributes import AttributeType
from app.segments.schema import SubscriptionField, TextTest
from app.sending.models import Delivery, FeedbackEvent, Send, send_lists
from app.subscribers.models import MailingList, Subscriber, Subscription

OPEN_KINDS = ("open", "click")


# Runs a query and returns its rows (the application passes db.session.execute).
Execute = Callable[[Any], Sequence[Any]]


class SqlSegmentSchema:
    """``list_ids``: the segment's lists (the send's lists). ``attributes``:
    the JSON column; by default ``subscribers.attributes`` once the model has
    it, else None (``attribs.*`` refused). ``now``: the clock for day windows.
    ``as_of``: only sends finished by then count as "the last N sends" (a send
    prepared in chunks judges every chunk alike).
    ``execute``: when given, "the last N sends" are looked up while compiling
    and written into the condition as constants (ids and their deliveries' id
    range), which lets PostgreSQL plan a hash join over those sends'
    deliveries instead of probing them subscriber by subscriber (at a million
    readers, not_opened_in_last(3) went from ~19 s to ~4 s). Compile inside
    the transaction that runs the query, so the sends are the same ones."""

    def __init__(
        self,
        list_ids: Sequence[int] = (),
        *,
        attribute_types: Mapping[str, AttributeType] | None = None,
        attributes: ColumnElement[Any] | None = None,
        now: datetime | None = None,
        as_of: datetime | None = None,
        execute: Execute | None = None,
    ) -> None:
        self.list_ids = tuple(list_ids)
        self._types = dict(attribute_types or {})
        default = Subscriber.__table__.c.get("attributes")
        self._attributes = attributes if attributes is not None else default
        self.now = now
        self.as_of = as_of  # "the last N sends" are those finished by then
        self._execute = execute
        self._resolved: dict[int, list[tuple[int, int | None, int | None]]] = {}

    # --- subscriber columns ----------------------------------------------------------

    @property
    def email(self) -> ColumnElement[str]:
        return Subscriber.email  # type: ignore[return-value]

    @property
    def name(self) -> ColumnElement[str]:
        return Subscriber.name  # type: ignore[return-value]

    @property
    def signup_at(self) -> ColumnElement[datetime]:
        return Subscriber.created_at  # type: ignore[return-value]

    @property
    def attributes(self) -> ColumnElement[Any] | None:
        return self._attributes

    @property
    def attribute_types(self) -> Mapping[str, AttributeType]:
        return self._types

    def subscription_exists(self, field: SubscriptionField, test: TextTest) -> ColumnElement[bool]:
        sub = aliased(Subscription)
        conditions = [sub.subscriber_id == Subscriber.id, sub.status == "active"]
        if field == "source":
            conditions.append(test(sub.source))  # type: ignore[arg-type]
            if self.list_ids:
                conditions.append(sub.list_id.in_(self.list_ids))
        else:
            lst = aliased(MailingList)
            conditions += [lst.id == sub.list_id, test(lst.slug)]  # type: ignore[arg-type]
        return exists().where(*conditions)

    # --- engagement --------------------------------------------------------------------

    def human_only(self, event: Any) -> ColumnElement[bool]:
        """Hook: which open/click events count. Today every one does; once
        events are classified (privacy proxies and link scanners open and click
        everything), return e.g. ``event.is_human`` here and every engagement
        condition follows."""
        return true()

    def recent_sends(self, count: int) -> Select[int]:
        """Ids of the last ``count`` finished sends to the segment's lists."""
        send = aliased(Send)
        query = select(send.id).where(send.status == "finished")
        if self.as_of is not None:
            query = query.where(send.finished_at <= self.as_of)
        if self.list_ids:
            link = send_lists.alias()
            query = query.where(exists().where(link.c.send_id == send.id, link.c.list_id.in_(self.list_ids)))
        return query.order_by(send.started_at.desc(), send.id.desc()).limit(count)

    def _recent_rows(self, count: int) -> list[tuple[int, int | None, int | None]] | None:
        """(id, first delivery id, last delivery id) of the last ``count``
        sends, when an executor was given (once per count); else None."""
        if self._execute is None:
            return None
        if count not in self._resolved:
            ids = self.recent_sends(count).subquery()
            query = select(Send.id, Send.first_delivery_id, Send.last_delivery_id).where(Send.id.in_(select(ids.c.id)))
            self._resolved[count] = [tuple(row) for row in self._execute(query)]
        return self._resolved[count]

    def _recent_ids(self, count: int) -> Any:
        rows = self._recent_rows(count)
        return self.recent_sends(count) if rows is None else [row[0] for row in rows]

    def _event_on_recent(self, kinds: tuple[str, ...], sends: int) -> ColumnElement[bool]:
        # The event's own send and subscriber (copies of its delivery's), so the
        # index (send_id, kind, subscriber_id) answers it without reading
        # deliveries: through them, 1M subscribers took ~20 s (bench/audience.py).
        event = aliased(FeedbackEvent)
        return exists().where(
            event.subscriber_id == Subscriber.id,
            event.send_id.in_(self._recent_ids(sends)),
            event.kind.in_(kinds),
            self.human_only(event),
        )

    def opened_in_last(self, sends: int) -> ColumnElement[bool]:
        return self._event_on_recent(OPEN_KINDS, sends)

    def clicked_in_last(self, sends: int) -> ColumnElement[bool]:
        return self._event_on_recent(("click",), sends)

    def not_opened_in_last(self, sends: int) -> ColumnElement[bool]:
        delivery = aliased(Delivery)
        rows = self._recent_rows(sends)
        if rows is None:
            received: ColumnElement[bool] = exists().where(
                delivery.subscriber_id == Subscriber.id,
                delivery.status == "sent",
                delivery.send_id.in_(self.recent_sends(sends)),
            )
        elif not rows:
            received = false()
        else:
            # The sends' deliveries as one id range (each send's rows are
            # consecutive ids): a range scan hashed by subscriber.
            conditions = [delivery.send_id.in_([row[0] for row in rows]), delivery.status == "sent"]
            firsts, lasts = [row[1] for row in rows], [row[2] for row in rows]
            if None not in firsts and None not in lasts:
                conditions.append(delivery.id.between(min(firsts), max(lasts)))  # type: ignore[type-var]
            received = Subscriber.id.in_(select(delivery.subscriber_id).where(*conditions))
        return received & ~self.opened_in_last(sends)

    def bounced_softly_in_last_days(self, days: int) -> ColumnElement[bool]:
        now = self.now or datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as stored
        since = now - timedelta(days=days)
        event = aliased(FeedbackEvent)
        return exists().where(
            event.subscriber_id == Subscriber.id,
            event.kind == "soft_bounce",
            event.occurred_at >= since,
        )
