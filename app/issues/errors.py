"""Errors of the issues domain (messages are shown to editors as they are)."""

from __future__ import annotations

from app.errors import Conflict, InvalidInput, Refused

__all__ = ["ApprovalError", "ConflictError", "IssueError", "NotEditableError", "TransitionError"]


class IssueError(InvalidInput):
    """A user-facing problem with an issue."""


class ConflictError(IssueError, Conflict):
    """The save was based on an older version than the one stored."""

    def __init__(self, message: str, *, current_version: int, copy_number: int | None) -> None:
        super().__init__(message)
        self.current_version = current_version
        self.copy_number = copy_number


class NotEditableError(IssueError, Conflict):
    """Only drafts (and approved issues, which return to draft) can be edited."""


class TransitionError(IssueError, Conflict):
    """A status change the lifecycle does not allow (or someone else made first)."""


class ApprovalError(IssueError, Refused):
    """Approval refused (preflight errors, or the approver made the last edit)."""
