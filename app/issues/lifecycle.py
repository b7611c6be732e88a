"""Issue lifecycle: draft -> approved -> scheduled -> sending -> sent, or cancelled.

Transitions are checked here, in domain code, and refused with
:class:`TransitionError`; views and the delivery code only call these functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.models import User
from app.db import db, utcnow
from app.issues.models import Issue
from app.issues.service import IssueError

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


class TransitionError(IssueError):
    """A status change the lifecycle does not allow."""


class ApprovalError(IssueError):
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


def approve(issue: Issue, user: User, *, commit: bool = True) -> Issue:
    check = check_approval(issue, user)
    if not check.allowed:
        raise ApprovalError(check.reason)
    transition(issue, "approved", commit=False)
    issue.approved_by_id = user.id
    issue.approved_at = utcnow()
    if commit:
        db.session.commit()
    return issue


def unapprove(issue: Issue, *, commit: bool = True) -> Issue:
    return transition(issue, "draft", commit=commit)
