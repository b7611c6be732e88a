from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, text
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

    issue: Mapped[Issue] = relationship()
    rendering: Mapped[Rendering | None] = relationship()
    lists: Mapped[list[MailingList]] = relationship(secondary=send_lists)


class Delivery(Model):
    """One recipient of one send: the durable record that makes a send crash-safe."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("send_id", "subscriber_id"),
        Index("ix_deliveries_send_status", "send_id", "status"),
        Index("ix_deliveries_message_id", "message_id"),
        # A subscriber's history and erasure look deliveries up by subscriber.
        Index("ix_deliveries_subscriber_id", "subscriber_id"),
        # What the worker scans every second: expired leases, and its own claims.
        Index(
            "ix_deliveries_claimed_lease",
            "lease_expires_at",
            postgresql_where=text("status = 'claimed'"),
            sqlite_where=text("status = 'claimed'"),
        ),
        Index(
            "ix_deliveries_worker",
            "worker_id",
            postgresql_where=text("worker_id IS NOT NULL"),
            sqlite_where=text("worker_id IS NOT NULL"),
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
    lease_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


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
        Index("ix_feedback_send_kind", "send_id", "kind"),
        Index("ix_feedback_delivery_kind", "delivery_id", "kind"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    send_id: Mapped[int | None] = mapped_column(ForeignKey("sends.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("deliveries.id", ondelete="SET NULL"))
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
