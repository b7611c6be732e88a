"""Telling owners about placeholders that name them: once when the line first
appears (or in the day's digest, or not at all: the user's ``notify``
setting), by mail through the app's transport, from jobs in the worker.

:func:`sync_assignments` runs whenever an issue's text is saved: new owner
lines get an :class:`AssignmentRecord` and a job; lines that went away are
marked done (and reopened without a second mail if they come back)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.auth.models import Notify, User
from app.db import db, utcnow
from app.issues.assignments import OPEN_STATES, due_at
from app.issues.models import AssignmentRecord, Comment, Issue
from app.jobs import JobContext, enqueue
from app.mail import HeaderInjectionError
from app.mail.message import strip_line_breaks
from app.mail.transactional import send_transactional
from app.rendering.placeholders import lines_of, scan

__all__ = [
    "DIGEST_KIND",
    "NOTIFY_KIND",
    "REMIND_KIND",
    "digest_job",
    "notify_job",
    "record_mentions",
    "reminder_job",
    "sync_assignments",
]

NOTIFY_KIND = "issues.assignments"
DIGEST_KIND = "issues.assignment_digest"
LINE_LIMIT = 500


def _owner_lines(issue: Issue) -> dict[tuple[str, str], int]:
    lines = lines_of(issue.body)
    found: dict[tuple[str, str], int] = {}
    for placeholder in scan(issue.body or ""):
        if placeholder.owner:
            found.setdefault((placeholder.owner, lines[placeholder.line - 1].strip()[:LINE_LIMIT]), placeholder.line)
    return found


def sync_assignments(issue: Issue, by: User | None) -> list[int]:
    """Record the issue's owner lines as they are now (flushes; the caller
    commits, so the job exists exactly when the text does). Returns new ids."""
    now = utcnow()
    found = _owner_lines(issue)
    known = {
        (r.handle, r.line_text): r
        for r in db.session.scalars(
            select(AssignmentRecord).where(AssignmentRecord.issue_id == issue.id, AssignmentRecord.comment_id.is_(None))
        )
    }
    new: list[AssignmentRecord] = []
    for (handle, text), line in found.items():
        record = known.get((handle, text))
        if record is None:
            record = AssignmentRecord(issue_id=issue.id, handle=handle, line_text=text, line=line, created_at=now)
            record.assigned_by_id = by.id if by else None
            if by is not None and by.handle == handle:
                record.notified_at = now  # nobody needs telling what they wrote themselves
            db.session.add(record)
            new.append(record)
        else:
            record.line, record.done_at = line, None
    for key, record in known.items():
        if key not in found and record.done_at is None:
            record.done_at = now
    db.session.flush()
    ids = [record.id for record in new if record.notified_at is None]
    if ids:
        enqueue(NOTIFY_KIND, {"ids": ids}, created_by_id=by.id if by else None)
    return ids


def record_mentions(comment: Comment, handles: list[str], by: User) -> list[int]:
    """A comment's @-mentions, told like assignments (flushes; the caller commits)."""
    excerpt = " ".join(comment.body.split())
    records = [
        AssignmentRecord(
            issue_id=comment.issue_id,
            handle=handle,
            line_text=f"comment #{comment.id}: {excerpt}"[:LINE_LIMIT],
            line=comment.line_from,
            comment_id=comment.id,
            assigned_by_id=by.id,
            created_at=utcnow(),
        )
        for handle in handles
    ]
    db.session.add_all(records)
    db.session.flush()
    ids = [record.id for record in records]
    if ids:
        enqueue(NOTIFY_KIND, {"ids": ids}, created_by_id=by.id)
    return ids


def _current_line(record: AssignmentRecord) -> int:
    lines = [line.strip() for line in lines_of(record.issue.body)]
    return lines.index(record.line_text) + 1 if record.line_text in lines else record.line


def _link(record: AssignmentRecord) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/admin/issues/{record.issue_id}#line-{_current_line(record)}"


def _item(record: AssignmentRecord) -> str:
    title = strip_line_breaks(record.issue.title or record.issue.slug)[:200]
    shown = record.line_text.split(": ", 1)[1] if record.comment_id else record.line_text
    return f"“{title}”, line {_current_line(record)}:\n\n    {shown}\n\nOpen it: {_link(record)}\n"


def _footer(user: User) -> str:
    setting = {"immediately": "as soon as a placeholder names you", "digest": "once a day"}[user.notify]
    account = f"{current_app.config['BASE_URL'].rstrip('/')}/admin/account"
    return f"\nYou get these mails {setting}; change that on your account page: {account}\n"


def _send(user: User, subject: str, text: str) -> None:
    try:
        send_transactional(user.email, subject, text)
    except HeaderInjectionError:
        current_app.logger.exception("assignment mail to user %s refused", user.id)


def _owner(handle: str) -> User | None:
    return db.session.scalar(select(User).where(User.handle == handle, User.is_enabled.is_(True)))


def notify_job(context: JobContext) -> dict[str, int]:
    """Mail each new assignment's owner (setting "immediately"); the others are
    marked as handled ("off", no such user) or left for the digest. A
    transport error fails the job, which the worker retries; an owner already
    told is never told twice (each mail is committed with its mark)."""
    mailed = 0
    for record_id in context.payload.get("ids", []):
        record = db.session.get(AssignmentRecord, int(record_id))
        if record is None or record.notified_at is not None or record.done_at is not None:
            continue
        user = _owner(record.handle)
        if user is not None and user.notify == Notify.DIGEST:
            continue
        if user is not None and user.notify == Notify.IMMEDIATELY:
            who = record.assigned_by.display_name if record.assigned_by else "Someone"
            what = "mentioned you in a comment" if record.comment_id else "assigned you a placeholder"
            subject = f"{strip_line_breaks(who)[:100]} {what}"
            _send(user, subject, f"Hello {user.display_name},\n\n{who} {what} in {_item(record)}{_footer(user)}")
            mailed += 1
        record.notified_at = utcnow()
        db.session.commit()
    return {"mailed": mailed}


def digest_job(context: JobContext) -> dict[str, int]:
    """Once a day: each "digest" user gets one mail with every assignment not yet told."""
    mailed = 0
    cutoff = utcnow() - timedelta(minutes=1)  # saves of this very minute go in tomorrow's
    for user in db.session.scalars(select(User).where(User.notify == Notify.DIGEST, User.is_enabled.is_(True))).all():
        records = db.session.scalars(
            select(AssignmentRecord)
            .where(
                AssignmentRecord.handle == user.handle,
                AssignmentRecord.notified_at.is_(None),
                AssignmentRecord.done_at.is_(None),
                AssignmentRecord.created_at <= cutoff,
            )
            .order_by(AssignmentRecord.id)
        ).all()
        if not records:
            continue
        items = "\n".join(_item(record) for record in records)
        count = f"{len(records)} placeholder{'s' if len(records) != 1 else ''}"
        _send(
            user,
            f"{count} waiting on you",
            f"Hello {user.display_name},\n\n{count} named you:\n\n{items}{_footer(user)}",
        )
        for record in records:
            record.notified_at = utcnow()
        db.session.commit()
        mailed += 1
    return {"mailed": mailed}


REMIND_KIND = "issues.assignment_reminders"


def reminder_job(context: JobContext, scheduled_times: Callable[[list[int]], dict[int, datetime]]) -> dict[str, int]:
    """Hourly: an open placeholder whose issue is due within the lead time
    (``ASSIGNMENT_LEAD_HOURS``, default 48, before its scheduled send or its
    issue date) gets its owner one reminder, unless they chose "off".
    ``scheduled_times`` comes from the sends domain (issue id -> next send)."""
    lead = timedelta(hours=float(current_app.config.get("ASSIGNMENT_LEAD_HOURS", 48)))
    now = utcnow()
    records = db.session.scalars(
        select(AssignmentRecord)
        .join(Issue, Issue.id == AssignmentRecord.issue_id)
        .where(
            AssignmentRecord.done_at.is_(None),
            AssignmentRecord.reminded_at.is_(None),
            AssignmentRecord.comment_id.is_(None),
            Issue.status.in_(OPEN_STATES),
        )
        .order_by(AssignmentRecord.id)
    ).all()
    scheduled = scheduled_times(sorted({record.issue_id for record in records}))
    reminded = 0
    for record in records:
        due = due_at(record.issue, lead, scheduled.get(record.issue_id))
        if due is None or due > now:
            continue
        user = _owner(record.handle)
        if user is not None and user.notify != Notify.OFF:
            when = due + lead
            subject = f"Reminder: a placeholder is still waiting on you ({when:%a %d %b})"
            text = (
                f"Hello {user.display_name},\n\nThis placeholder is still open, and the issue goes out on "
                f"{when:%A %d %B %Y} (UTC):\n\n{_item(record)}{_footer(user)}"
            )
            _send(user, subject, text)
            reminded += 1
        record.reminded_at = now
        db.session.commit()
    return {"reminded": reminded}
