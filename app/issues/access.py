"""Who may work on which issue. Admins and editors: every issue. Contributors:
the drafts they created (later also the ones with a placeholder assigned to
them), and only while those are drafts: an approved issue is past their part.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, true

from app.auth.models import User
from app.errors import Forbidden
from app.issues.errors import IssueError
from app.issues.models import Issue, IssueStatus

__all__ = ["IssueAccessError", "check_may_edit", "may_edit", "visible_to"]


class IssueAccessError(IssueError, Forbidden):
    """A contributor asked for an issue that is not theirs to work on."""


def may_edit(user: User, issue: Issue) -> bool:
    if not user.is_contributor:
        return True
    return issue.created_by_id == user.id and issue.status == IssueStatus.DRAFT


def check_may_edit(user: User, issue: Issue) -> None:
    if not may_edit(user, issue):
        raise IssueAccessError("Contributors work on their own drafts; this issue is not one of them.")


def visible_to(user: User) -> ColumnElement[bool]:
    """The issues ``user`` sees in the issue list."""
    if not user.is_contributor:
        return true()
    return (Issue.created_by_id == user.id) & (Issue.status == IssueStatus.DRAFT)
