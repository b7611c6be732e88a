"""Issue lifecycle: draft -> approved -> scheduled -> sending -> sent, or cancelled.

Transitions are checked here, in domain code, and refused with
:class:`TransitionError`; views and the delivery code only call these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from app.auth.models import User
from app.db import db, utcnow
from app.errors import Conflict, Refused
from app.issues.models import Issue
from app.issues.service import ConflictError, IssueError

__all__ = ["TRANSITIONS", "TransitionError", "ApprovalError", "ApprovalCheck", "can_transition",
           "transition", "check_approval", "approve", "unapprove"]

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("approved", "cancelled"),
    "approved": ("draft", "scheduled", "sending", "cancelled"),
    "scheduled": ("approved", "sending", "cancelled"),
    "sending": ("sent", "cancelled"),
    "sent": ("sending",),   # only when an admin resends to recipients left "unknown" by a crash
    "cancelled": ("draft",),
}


class TransitionError(IssueError, Conflict):
    """A status change the lifecycle does not allow."""


class ApprovalError(IssueError, Refused):
    """Approval refused (preflight errors, or the approver made the last edit)."""


def can_transition(issue: Issue, new_status: str) -> bool:
    return new_status in TRANSITIONS.get(issue.status, ())


def transition(issue: Issue, new_status: str, *, commit: bool = True) -> Issue:
    """Move ``issue`` to ``new_status`` or raise :class:`TransitionError`."""
    if new_status not in TRANSITIONS:
        raise TransitionError(f"Unknown status {new_status!r}.")
    if not can_transition(issue, new_status):
        raise TransitionError(f"An issue that is {issue.status} cannot become {new_status}.")
    issue.status = new_status
    if new_status in ("draft", "cancelled"):
        issue.approved_by_id = None
        issue.approved_at = None
    if new_status == "sent":
        issue.sent_at = utcnow()
    if commit:
        db.session.commit()
    return issue


@dataclass
class ApprovalCheck:
    allowed: bool
    reason: str = ""


def _preflight_errors(issue: Issue) -> list[str]:
    # Imported here: rendering depends on issues, not the other way round.
    from app.rendering.preflight import has_errors, run_preflight

    problems = run_preflight(issue)
    if not has_errors(problems):
        return []
    return [str(getattr(p, "message", p)) for p in problems if getattr(p, "level", "error") == "error"]


def check_approval(issue: Issue, user: User) -> ApprovalCheck:
    """Whether ``user`` may approve ``issue`` now, with the reason when not."""
    from app.settings import get_setting

    if issue.status != "draft":
        return ApprovalCheck(False, f"Only drafts can be approved; this issue is {issue.status}.")
    if not get_setting("require_approval"):
        return ApprovalCheck(True)
    if issue.updated_by_id is not None and issue.updated_by_id == user.id:
        return ApprovalCheck(False, "You made the last edit; another editor must approve it.")
    errors = _preflight_errors(issue)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return ApprovalCheck(False, f"Preflight has errors: {errors[0]}{more}")
    return ApprovalCheck(True)


def _move_version(issue: Issue, base_version: int | None, from_status: str, values: dict[str, Any]) -> None:
    """Apply ``values`` and bump the version in one conditional UPDATE on the version
    (and status) the user saw, so an edit racing the approval cannot slip under it
    and an approval cannot cover text its approver never saw."""
    expected = issue.version if base_version is None else base_version
    moved = db.session.execute(
        update(Issue).where(Issue.id == issue.id, Issue.version == expected, Issue.status == from_status)
        .values(version=expected + 1, **values).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.rollback()
        db.session.refresh(issue)
        raise ConflictError(
            f"This issue changed since you opened it (version {expected}, now {issue.version}); "
            "reload to see the current text.", current_version=issue.version, copy_number=None)
    for name, value in values.items():
        setattr(issue, name, value)
    issue.version = expected + 1


def approve(issue: Issue, user: User, *, base_version: int | None = None, commit: bool = True) -> Issue:
    """Approve the text at ``base_version`` (default: the loaded one); bumps the version."""
    check = check_approval(issue, user)
    if not check.allowed:
        raise ApprovalError(check.reason)
    if not can_transition(issue, "approved"):  # pragma: no cover - check_approval wants a draft
        raise TransitionError(f"An issue that is {issue.status} cannot become approved.")
    _move_version(issue, base_version, "draft",
                  {"status": "approved", "approved_by_id": user.id, "approved_at": utcnow()})
    if commit:
        db.session.commit()
    return issue


def unapprove(issue: Issue, *, base_version: int | None = None, commit: bool = True) -> Issue:
    """Back to draft, approval cleared; bumps the version like an edit."""
    if not can_transition(issue, "draft") or issue.status != "approved":
        raise TransitionError(f"An issue that is {issue.status} cannot be unapproved.")
    _move_version(issue, base_version, "approved",
                  {"status": "draft", "approved_by_id": None, "approved_at": None})
    if commit:
        db.session.commit()
    return issue
