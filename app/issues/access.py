"""Who may work on which issue. Admins and editors: every issue. Contributors:
the drafts they created or that have a placeholder assigned to them
(``TODO(@their-handle): ...``), and only while those are drafts: an approved
issue is past their part.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true

from app.auth.models import User
from app.db import db
from app.errors import Forbidden
from app.issues.assignments import assigned_to, mentions
from app.issues.errors import IssueError
from app.issues.models import Issue, IssueStatus

__all__ = ["IssueAccessError", "check_may_edit", "may_edit", "visible_to"]


class IssueAccessError(IssueError, Forbidden):
    """A contributor asked for an issue that is not theirs to work on."""


def may_edit(user: User, issue: Issue) -> bool:
    if not user.is_contributor:
        return True
    if issue.status != IssueStatus.DRAFT:
        return False
    return issue.created_by_id == user.id or bool(assigned_to(issue, user.handle))


def check_may_edit(user: User, issue: Issue) -> None:
    if not may_edit(user, issue):
        raise IssueAccessError("Contributors work on their own drafts; this issue is not one of them.")


def visible_to(user: User) -> ColumnElement[bool]:
    """The issues ``user`` sees in the issue list."""
    if not user.is_contributor:
        return true()
    # The drafts that may be theirs (few), decided exactly by may_edit: "ask @ryan" in prose is no assignment.
    candidates = db.session.scalars(
        select(Issue).where(Issue.status == IssueStatus.DRAFT, (Issue.created_by_id == user.id) | mentions(user.handle))
    )
    return Issue.id.in_([issue.id for issue in candidates if may_edit(user, issue)])
