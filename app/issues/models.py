from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import NO_ID_REUSE, Model, db, state_type, utcnow
from app.subscribers.models import MailingList


class IssueStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


ISSUE_STATES = tuple(state.value for state in IssueStatus)

issue_lists = Table(
    "issue_lists",
    db.Model.metadata,
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("list_id", ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True),
)


class Issue(Model):
    __tablename__ = "issues"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    preheader: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    issue_date: Mapped[date | None]
    status: Mapped[IssueStatus] = mapped_column(state_type(IssueStatus), default=IssueStatus.DRAFT)
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
    # Who created it: a contributor works on the drafts they created (app.issues.access).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # Without an ``[[events]]`` line, the events section goes before the sign-off
    # only when this is on: an imported archive issue keeps exactly its content.
    auto_events: Mapped[bool] = mapped_column(default=True, server_default="1")
    # What readers get: frozen at approval, used by the send and the web version.
    approved_rendering_id: Mapped[int | None] = mapped_column(
        ForeignKey("renderings.id", ondelete="SET NULL", use_alter=True)
    )
    # A sent issue taken out of the archive and feed; its web address answers 410
    # (it was mailed, so it must never become a 404) and its reports stay.
    unpublished_at: Mapped[datetime | None]
    # An admin put a sent issue in the archive although no send went to a public list.
    published_at: Mapped[datetime | None]

    lists: Mapped[list[MailingList]] = relationship(secondary=issue_lists, order_by=MailingList.name)
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    approved_rendering: Mapped[Rendering | None] = relationship(foreign_keys=[approved_rendering_id])


class Revision(Model):
    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("issue_id", "number"), NO_ID_REUSE)

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


class Rendering(Model):
    """An issue rendered and frozen: what the approver approved is what readers
    get, whatever changes afterwards in events, media or settings. Slots (see
    :mod:`app.rendering.render`) stay in the HTML and text for the message builder."""

    __tablename__ = "renderings"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    issue_version: Mapped[int]
    nonce: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300), default="")
    preheader: Mapped[str] = mapped_column(String(300), default="")
    email_html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    web_html: Mapped[str] = mapped_column(Text, default="")
    web_url: Mapped[str] = mapped_column(String(2000), default="")
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The events its section lists: [[id, starts_at ISO, title]], so scheduling can
    # refuse a time by which a listed "upcoming" event is over.
    events: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class IssueTemplate(Model):
    """A recurring structure: "New issue" starts from its texts and lists,
    placeholders included (they are the point: the new draft shows what to fill)."""

    __tablename__ = "issue_templates"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    preheader: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    list_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AssignmentRecord(Model):
    """A placeholder naming an owner, as first seen in an issue's text: what the
    owner is told about once (``notified_at``), and when its line went away
    (``done_at``). The text stays the truth of what is open
    (:mod:`app.issues.assignments`); this row only remembers whom we told."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("issue_id", "handle", "line_text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    handle: Mapped[str] = mapped_column(String(40), index=True)
    line_text: Mapped[str] = mapped_column(String(500))
    line: Mapped[int]
    # Set when a comment's @-mention, not a placeholder line, named the owner.
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # the one reminder at the lead time before it is due
    done_at: Mapped[datetime | None]

    issue: Mapped[Issue] = relationship()
    assigned_by: Mapped[User | None] = relationship()


class Comment(Model):
    """A note on lines of a draft for its writers: never part of the issue's
    text, so it never reaches readers and preflight never sees it."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    line_from: Mapped[int]
    line_to: Mapped[int]
    # The first line's text when the comment was made: where the comment belongs
    # after lines above it were added or removed.
    quote: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
