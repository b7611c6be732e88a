from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, SmallInteger, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import NO_ID_REUSE, BigId, Model, db, state_type, utcnow
from app.issues.models import Issue, Rendering
from app.subscribers.models import MailingList


class SendStatus(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    FINISHED = "finished"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


SEND_STATES = tuple(state.value for state in SendStatus)
DELIVERY_STATES = tuple(state.value for state in DeliveryStatus)

send_lists = Table(
    "send_lists",
    db.Model.metadata,
    Column("send_id", ForeignKey("sends.id", ondelete="CASCADE"), primary_key=True),
    Column("list_id", ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True),
)


class Send(Model):
    __tablename__ = "sends"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    status: Mapped[SendStatus] = mapped_column(state_type(SendStatus), default=SendStatus.SCHEDULED, index=True)
    scheduled_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The zone the time was chosen in, to show it as it was chosen (None: UTC, or before v0.2).
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    pause_reason: Mapped[str] = mapped_column(Text, default="")
    recipient_count: Mapped[int] = mapped_column(default=0)
    # What every recipient gets: the issue's approved rendering (frozen at
    # approval). ``subject`` is the send's own (it may differ per variant later).
    rendering_id: Mapped[int | None] = mapped_column(ForeignKey("renderings.id"))
    subject: Mapped[str] = mapped_column(String(300), default="")
    # v0.1 froze the content here when the send started; kept for sends made then.
    html_body: Mapped[str] = mapped_column(Text, default="")
    text_body: Mapped[str] = mapped_column(Text, default="")
    # The id range its deliveries were created in (workers scan it in order).
    first_delivery_id: Mapped[int | None] = mapped_column(BigInteger)
    last_delivery_id: Mapped[int | None] = mapped_column(BigInteger)
    # Deliveries are created in chunks of subscriber ids (app.sending.preparation):
    # the audience is every subscriber up to ``prepare_until`` (the highest id when
    # the send started); ``prepared_through`` is how far the chunks got, None once
    # every delivery exists. A send is never finished while it is not None.
    prepare_until: Mapped[int | None]
    prepared_through: Mapped[int | None]
    # Sent to part of its lists: the saved segment chosen (SET NULL if it is
    # deleted later), its name and its condition's canonical text as they were
    # when the send was scheduled. The condition is evaluated once, when the
    # send starts; None means every active subscriber of the lists.
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    segment_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    segment_expression: Mapped[str | None] = mapped_column(Text)

    issue: Mapped[Issue] = relationship()
    rendering: Mapped[Rendering | None] = relationship()
    lists: Mapped[list[MailingList]] = relationship(secondary=send_lists)


class Delivery(Model):
    """One recipient of one send: the durable record that makes a send crash-safe.

    Write volume decides this table's shape (a weekly 10M-reader newsletter
    writes 500M rows a year): no index covers ``status``, ``claim_id``,
    ``worker_id`` or the timestamps, so claiming a row is a HOT update (no
    index entry, with the free space fillfactor 50 leaves on each page, set
    by migration 0003). Counts by state live in ``SendCount``; which rows a
    worker holds, in ``DeliveryClaim``; the worker finds queued rows by id
    range (``Send.first_delivery_id``..``last_delivery_id``) or, for retries,
    through the small ``next_attempt_at`` index."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("send_id", "subscriber_id"),
        # SNS feedback finds its delivery by SES message id.
        Index("ix_deliveries_message_id", "message_id"),
        # A subscriber's history and erasure look deliveries up by subscriber.
        Index("ix_deliveries_subscriber_id", "subscriber_id"),
        # Retries waiting for their time (few rows, changed rarely).
        Index(
            "ix_deliveries_retry",
            "send_id",
            "next_attempt_at",
            postgresql_where=text("next_attempt_at IS NOT NULL"),
            sqlite_where=text("next_attempt_at IS NOT NULL"),
        ),
        # Failed, skipped and unknown rows carry their reason: the send page's table.
        Index(
            "ix_deliveries_problems",
            "send_id",
            postgresql_where=text("error IS NOT NULL"),
            sqlite_where=text("error IS NOT NULL"),
        ),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("sends.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    list_id: Mapped[int | None] = mapped_column(ForeignKey("lists.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[DeliveryStatus] = mapped_column(state_type(DeliveryStatus), default=DeliveryStatus.QUEUED)
    worker_id: Mapped[str | None] = mapped_column(String(100))
    # The claim (``DeliveryClaim.id``) this row was last taken under.
    claim_id: Mapped[int | None] = mapped_column(BigInteger)
    lease_expires_at: Mapped[datetime | None]  # v0.1 only; the claim holds the lease now
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class DeliveryClaim(Model):
    """A batch of deliveries one worker took, with its lease. The rows say
    ``claimed`` with this id; when the lease runs out (the worker died) they
    become ``unknown``. Rows sit between ``first_id`` and ``last_id``, so
    expiring a claim reads an id range, never an index on the rows."""

    __tablename__ = "delivery_claims"
    __table_args__ = (Index("ix_delivery_claims_lease", "lease_expires_at"),)

    # Chosen by the worker (random 63-bit), so the rows and the claim are
    # written in one round trip each without waiting for a generated id.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    send_id: Mapped[int] = mapped_column(ForeignKey("sends.id", ondelete="CASCADE"))
    worker_id: Mapped[str] = mapped_column(String(100), index=True)
    first_id: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)
    lease_expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SendCount(Model):
    """How many deliveries of a send are in each state. Every state change
    adds to it in the same transaction (``app.sending.tally``); workers write
    their own shard so they never wait for each other's row lock."""

    __tablename__ = "send_counts"

    send_id: Mapped[int] = mapped_column(ForeignKey("sends.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[DeliveryStatus] = mapped_column(state_type(DeliveryStatus), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class SendProgress(Model):
    """Messages a send delivered per minute (the send page's rate and chart)."""

    __tablename__ = "send_progress"

    send_id: Mapped[int] = mapped_column(ForeignKey("sends.id", ondelete="CASCADE"), primary_key=True)
    minute: Mapped[datetime] = mapped_column(primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    sent: Mapped[int] = mapped_column(default=0)


class RateBucket(Model):
    """A token bucket shared by every worker through the database."""

    __tablename__ = "rate_buckets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    rate: Mapped[float]
    tokens: Mapped[float]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    max_24h: Mapped[int | None]
    sent_last_24h: Mapped[int | None]
    quota_checked_at: Mapped[datetime | None]
    throttled_until: Mapped[datetime | None]


class SnsMessage(Model):
    """SNS MessageIds already processed: replays are acknowledged and ignored."""

    __tablename__ = "sns_messages"

    message_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    topic_arn: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(50), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackEvent(Model):
    """What happened to a delivered message: delivery, bounce, complaint, open,
    click, reject, delay. Kept per recipient for the retention period, then
    aggregated into ``DailyStat``."""

    __tablename__ = "feedback_events"
    __table_args__ = (
        # Per send and kind, with the recipient: segments' engagement
        # conditions ("clicked one of the last 3 sends") read it index-only.
        Index("ix_feedback_send_kind_subscriber", "send_id", "kind", "subscriber_id"),
        Index("ix_feedback_delivery_kind", "delivery_id", "kind"),
        # Erasure blanks a person's address here and their page lists their events by it:
        # without this, each was a scan of every event (0.66 s at 3.1M; migration 0012).
        Index(
            "ix_feedback_events_email",
            "email",
            postgresql_where=text("email IS NOT NULL"),
            sqlite_where=text("email IS NOT NULL"),
        ),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    send_id: Mapped[int | None] = mapped_column(ForeignKey("sends.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("deliveries.id", ondelete="SET NULL"))
    # The delivery's subscriber, copied when the event is recorded (migration
    # 0009 filled it for older events), so engagement is answered without
    # reading deliveries. No foreign key: subscriber ids are never reused,
    # and erasure clears it (app/sending/erasure.py) through the deliveries.
    subscriber_id: Mapped[int | None]
    email: Mapped[str | None] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2000))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # First event of this kind for this delivery: unique opens/clicks/bounces
    # are counted from it and survive retention as "<kind>:unique" DailyStats.
    is_first: Mapped[bool] = mapped_column(default=True)


class DailyStat(Model):
    """Aggregated counts that outlive the per-recipient events."""

    __tablename__ = "daily_stats"
    __table_args__ = (UniqueConstraint("send_id", "day", "kind", "url"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    send_id: Mapped[int | None] = mapped_column(ForeignKey("sends.id", ondelete="CASCADE"))
    day: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(30))
    url: Mapped[str] = mapped_column(String(2000), default="")
    count: Mapped[int] = mapped_column(default=0)
