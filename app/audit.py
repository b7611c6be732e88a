"""An append-only record of actions whose subject may no longer exist (a
deleted issue takes its revisions with it) or that change what the public
sees (unpublishing). The actor's address is copied so the record outlives
the user."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from app.db import NO_ID_REUSE, Model, db, utcnow

__all__ = ["AuditEvent", "record", "for_subject"]


class Actor(Protocol):
    id: int
    email: str


class AuditEvent(Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subject", "subject", "subject_id"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_email: Mapped[str] = mapped_column(String(320), default="")
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[int]
    summary: Mapped[str] = mapped_column(String(500), default="")


def record(actor: Actor | None, action: str, subject: str, subject_id: int, summary: str = "") -> AuditEvent:
    """Add an event to the session; the caller commits it with the action itself."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else "",
        action=action,
        subject=subject,
        subject_id=subject_id,
        summary=summary[:500],
    )
    db.session.add(event)
    return event


def for_subject(subject: str, subject_id: int) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.subject == subject, AuditEvent.subject_id == subject_id)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))
