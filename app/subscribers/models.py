from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import NO_ID_REUSE, Model, state_type, utcnow


class SubscriptionStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"


class SubscriberStatus(StrEnum):
    ENABLED = "enabled"
    SUPPRESSED = "suppressed"


class ImportState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


SUBSCRIPTION_STATES = tuple(state.value for state in SubscriptionStatus)
SUPPRESSION_REASONS = ("unsubscribed-all", "hard-bounce", "complaint", "manual", "deleted")


class MailingList(Model):
    """An audience: issues target lists, subscribers subscribe to lists."""

    __tablename__ = "lists"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # What readers see ("Fast Forward Labs — monthly research digest"); the name
    # (often a short audience tag like "public") when unset.
    display_name: Mapped[str | None] = mapped_column(String(200))
    # The language of its readers' pages and confirmation mails (app/i18n.py).
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    from_address: Mapped[str | None] = mapped_column(String(300))
    public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def public_name(self) -> str:
        return self.display_name or self.name


# Byte order ("C" collation) on PostgreSQL: the unique index on email then
# serves both keyset pagination (ORDER BY email) and prefix search as a range
# scan, whatever collation the database was created with.
EmailColumn = String(254).with_variant(String(254, collation="C"), "postgresql")


# Custom attributes: jsonb on PostgreSQL (GIN-indexed, see migration 0008), JSON text on SQLite.
AttributesColumn = JSON().with_variant(JSONB(), "postgresql")
ATTRIBUTE_TYPE_NAMES = ("text", "number", "date", "boolean", "list")


class Subscriber(Model):
    __tablename__ = "subscribers"
    __table_args__ = (
        # PostgreSQL only (SQLite has neither GIN nor trigrams): segments and search.
        Index("ix_subscribers_attributes", "attributes", postgresql_using="gin").ddl_if(dialect="postgresql"),
        Index(
            "ix_subscribers_email_trgm", "email", postgresql_using="gin", postgresql_ops={"email": "gin_trgm_ops"}
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_subscribers_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}
        ).ddl_if(dialect="postgresql"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(EmailColumn, unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[SubscriberStatus] = mapped_column(state_type(SubscriberStatus), default=SubscriberStatus.ENABLED)
    source: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Per-address signup rate limit: when the last confirmation (or
    # "already subscribed") mail went to this address.
    confirmation_sent_at: Mapped[datetime | None]
    # Part of every unsubscribe token minted for this subscriber: a token made for
    # an erased one never acts on someone else. NULL for subscribers from v0.1,
    # whose old tokens had no nonce and must keep working.
    token_nonce: Mapped[str | None] = mapped_column(String(32), default=lambda: secrets.token_hex(8))
    # {key: JSON value} of the declared attributes (AttributeDefinition); a key
    # that is absent is "not set". time_zone and language are standard keys.
    attributes: Mapped[dict[str, Any]] = mapped_column(AttributesColumn, default=dict, server_default=text("'{}'"))

    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="subscriber", cascade="all, delete-orphan")


class AttributeDefinition(Model):
    """A custom attribute key and its type: the segment language checks
    conditions against these, and CSV import coerces values to them."""

    __tablename__ = "attribute_definitions"
    __table_args__ = (CheckConstraint(f"type IN {ATTRIBUTE_TYPE_NAMES!r}", name="type"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Model):
    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_list_status", "list_id", "status", "subscriber_id"),)

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        state_type(SubscriptionStatus), default=SubscriptionStatus.PENDING
    )
    source: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # When the pending state began: confirm tokens carry it, so a token only
    # confirms the very request it was issued for (no replay after an
    # unsubscribe or a later re-signup).
    requested_at: Mapped[datetime | None]

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    list: Mapped[MailingList] = relationship()


class Suppression(Model):
    """Addresses never to be sent to. Keyed by a hash of the normalised
    address so an erased subscriber stays suppressed without keeping PII."""

    __tablename__ = "suppressions"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Indexed: the send's recipient query and the worker's re-check join on it.
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    reason: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


IMPORT_STATES = tuple(state.value for state in ImportState)


class SubscriberImport(Model):
    """One CSV import: its options, progress and outcome. Long imports run in
    the background; the admin polls this row."""

    __tablename__ = "subscriber_imports"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int | None] = mapped_column(ForeignKey("lists.id", ondelete="SET NULL"))
    list_name: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(300), default="")
    subscription_status: Mapped[str] = mapped_column(String(20), default="active")
    state: Mapped[ImportState] = mapped_column(state_type(ImportState, "state"), default=ImportState.QUEUED)
    total_bytes: Mapped[int] = mapped_column(default=0)
    bytes_read: Mapped[int] = mapped_column(default=0)
    rows: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    already: Mapped[int] = mapped_column(default=0)
    suppressed: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    invalid: Mapped[int] = mapped_column(default=0)
    # JSON list of [row number, message], capped (see MAX_REPORTED_ERRORS).
    errors: Mapped[str] = mapped_column(Text, default="[]")
    message: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # The worker job that runs it (imports were a web-process thread in v0.1).
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
