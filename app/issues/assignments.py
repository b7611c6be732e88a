"""Placeholders as work items: ``TODO(@ryan): add the licensing article`` is an
open item of the user whose handle is ``ryan`` until the line is gone.

The items are read from the issues' text whenever asked, so an item is done
exactly when its placeholder is no longer in the text (the text is the one
place editors change); ``AssignmentRecord`` rows (app.issues.notifications)
only remember whom we told. Issues that no longer change (sent, cancelled)
have no open items."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from app.auth.models import User
from app.db import db
from app.issues.models import Issue, IssueStatus
from app.rendering.placeholders import Placeholder, lines_of, scan
from app.settings import get_setting

__all__ = ["Assignment", "assigned_to", "mentions", "due_at", "open_assignments", "propose_owners", "waiting_on_others"]

OPEN_STATES = (IssueStatus.DRAFT, IssueStatus.APPROVED, IssueStatus.SCHEDULED)


@dataclass(frozen=True)
class Assignment:
    issue: Issue
    placeholder: Placeholder
    line_text: str  # the placeholder's line, as written


def mentions(handle: str):
    """An SQL test that narrows issues to those that may name ``handle`` as an
    owner (the two written forms); :func:`assigned_to` decides exactly."""
    return or_(Issue.body.contains(f"(@{handle})"), Issue.body.contains(f" @{handle}"))


def assigned_to(issue: Issue, handle: str) -> list[Assignment]:
    lines = lines_of(issue.body)
    return [
        Assignment(issue, found, lines[found.line - 1].strip())
        for found in scan(issue.body or "")
        if found.owner == handle
    ]


def open_assignments(user: User, limit: int = 50) -> list[Assignment]:
    """The user's open items, in the order of the issues' scheduled or edit time."""
    issues = db.session.scalars(
        select(Issue)
        .where(Issue.status.in_(OPEN_STATES), mentions(user.handle))
        .order_by(Issue.issue_date.is_(None), Issue.issue_date, Issue.updated_at.desc())
        .limit(200)
    )
    found: list[Assignment] = []
    for issue in issues:
        found += assigned_to(issue, user.handle)
    return found[:limit]


def waiting_on_others(user: User, limit: int = 50) -> list[tuple[Issue, dict[str, int]]]:
    """Open issues with placeholders assigned to someone else: (issue, {handle: open items})."""
    issues = db.session.scalars(
        select(Issue)
        .where(Issue.status.in_(OPEN_STATES), Issue.body.contains("@"))
        .order_by(Issue.issue_date.is_(None), Issue.issue_date, Issue.updated_at.desc())
        .limit(200)
    )
    found: list[tuple[Issue, dict[str, int]]] = []
    for issue in issues:
        owners: dict[str, int] = {}
        for placeholder in scan(issue.body or ""):
            if placeholder.owner and placeholder.owner != user.handle:
                owners[placeholder.owner] = owners.get(placeholder.owner, 0) + 1
        if owners:
            found.append((issue, owners))
    return found[:limit]


_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def _first_name(user: User) -> str | None:
    words = (user.name or "").split()
    return words[0].lower() if words else None


def propose_owners(lines: list[tuple[int, str]], users: list[User]) -> dict[int, User]:
    """For placeholder lines without an owner, (index, the line after the marker),
    the one user the words name by first name or handle ("TODO: add Ryan's
    article" -> Ryan), when exactly one does: a proposal the editor confirms
    with a click, never an assignment by itself."""
    by_word: dict[str, set[int]] = {}
    for user in users:
        for word in {_first_name(user), user.handle.lower()} - {None}:
            by_word.setdefault(str(word), set()).add(user.id)
    people = {user.id: user for user in users}
    proposals: dict[int, User] = {}
    for index, text in lines:
        named: set[int] = set()
        for word in _WORD.findall(text):
            base = re.sub(r"['’]s$", "", word.lower())
            named |= by_word.get(base, set())
        if len(named) == 1:
            proposals[index] = people[named.pop()]
    return proposals


def due_at(issue: Issue, lead: timedelta, scheduled_at: datetime | None = None) -> datetime | None:
    """When a placeholder of ``issue`` is due (naive UTC): the lead time before
    its scheduled send (``scheduled_at``, from the sends domain, which sits
    above this one), else before the start of its issue date in the readers'
    time zone; None when the issue has neither."""
    if scheduled_at is not None:
        return scheduled_at - lead
    if issue.issue_date is None:
        return None
    zone = ZoneInfo(str(get_setting("reader_timezone") or "UTC"))
    start = datetime.combine(issue.issue_date, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return start - lead
