from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import db, utcnow
from app.subscribers.models import MailingList

ISSUE_STATES = ("draft", "approved", "scheduled", "sending", "sent", "cancelled")

issue_lists = Table(
    "issue_lists",
    db.Model.metadata,
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("list_id", ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True),
)


class Issue(db.Model):
    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    preheader: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    issue_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # Optimistic concurrency: a save must name the version it was based on.
    version: Mapped[int] = mapped_column(default=1)
    events_heading: Mapped[str | None] = mapped_column(String(200))
    excluded_event_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Jekyll provenance, kept so export writes the file back as it came.
    source_filename: Mapped[str | None] = mapped_column(String(300))
    front_matter: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The front matter exactly as written (None: the file had none), so export reproduces the file.
    front_matter_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    lists: Mapped[list[MailingList]] = relationship(secondary=issue_lists, order_by=MailingList.name)
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])


class Revision(db.Model):
    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("issue_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    preheader: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(String(200), default="")

    author: Mapped[User | None] = relationship()
