"""What the compiler needs from the database, as a protocol: the SQL
expressions for the subscriber being tested and builders for conditions on
related rows. :mod:`app.segments.sql_schema` implements it against
Pressroom's models; a test or another store can supply its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, Protocol, TypeAlias

from sqlalchemy.sql.elements import ColumnElement

from app.attributes import AttributeType

SubscriptionField: TypeAlias = Literal["source", "list"]
TextTest: TypeAlias = Callable[[ColumnElement[str]], ColumnElement[bool]]


class SegmentSchema(Protocol):
    """Every expression refers to the subscriber row of the enclosing query
    (correlated subqueries are fine: the result is a WHERE clause)."""

    @property
    def email(self) -> ColumnElement[str]:
        """The normalised (lower-case) address."""

    @property
    def name(self) -> ColumnElement[str]:
        """The display name; '' when unknown."""

    @property
    def signup_at(self) -> ColumnElement[datetime]:
        """When the subscriber was created, naive UTC."""

    @property
    def attributes(self) -> ColumnElement[Any] | None:
        """The JSON object of custom attributes (jsonb on PostgreSQL), or None
        where the store has none: then ``attribs.*`` is refused."""

    @property
    def attribute_types(self) -> Mapping[str, AttributeType]:
        """The declared attribute keys and their types."""

    def subscription_exists(self, field: SubscriptionField, test: TextTest) -> ColumnElement[bool]:
        """One of the subscriber's active subscriptions passes ``test`` applied
        to its source (restricted to the segment's lists) or to its list's slug."""

    def opened_in_last(self, sends: int) -> ColumnElement[bool]: ...

    def clicked_in_last(self, sends: int) -> ColumnElement[bool]: ...

    def not_opened_in_last(self, sends: int) -> ColumnElement[bool]: ...

    def bounced_softly_in_last_days(self, days: int) -> ColumnElement[bool]: ...
