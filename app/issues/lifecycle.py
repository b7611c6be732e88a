"""Issue lifecycle: draft -> approved -> scheduled -> sending -> sent, or cancelled.

:func:`move` is the only way an issue's status changes, for every path (an
edit, approval, scheduling, the worker starting or finishing a send, a
cancel): one conditional UPDATE on the status the caller expects (and the
version the user saw, when there is one), so two racing changes cannot both
win. The state column's CHECK constraint refuses unknown states.

Approving freezes the rendering (:func:`app.issues.rendering.freeze`): what
was approved is what readers get. Going back to draft drops it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import User
from app.db import db, rowcount, utcnow
from app.issues.errors import ApprovalError, ConflictError, TransitionError
from app.issues.models import Issue, IssueStatus
from app.issues.rendering import freeze, preflight
from app.rendering.preflight import has_errors
from app.settings import get_setting

__all__ = ["TRANSITIONS", "ApprovalCheck", "approve", "can_transition", "check_approval", "move", "unapprove"]

S = IssueStatus
TRANSITIONS: dict[IssueStatus, tuple[IssueStatus, ...]] = {
    S.DRAFT: (S.DRAFT, S.APPROVED, S.SCHEDULED, S.CANCELLED),  # scheduled: when approval is not required
    S.APPROVED: (S.DRAFT, S.SCHEDULED, S.SENDING, S.CANCELLED),
    S.SCHEDULED: (S.APPROVED, S.SENDING, S.CANCELLED),
    S.SENDING: (S.SENT, S.CANCELLED),
    S.SENT: (S.SENDING,),  # only when an admin resends to recipients left "unknown" by a crash
    S.CANCELLED: (S.DRAFT,),
}


def can_transition(issue: Issue, new_status: str) -> bool:
    return IssueStatus(new_status) in TRANSITIONS.get(IssueStatus(issue.status), ())


def move(
    issue: Issue, to: str, *, expect: tuple[str, ...] | None = None, base_version: int | None = None, **values: Any
) -> None:
    """Move ``issue`` to ``to`` from any state that may (or from ``expect``),
    setting ``values`` in the same statement; with ``base_version``, only if the
    version is still that one, and the version moves on. Going back to draft (or
    cancelled) clears the approval and its frozen rendering. Raises
    :class:`ConflictError` when the version moved, :class:`TransitionError` when
    the status did not allow it. Flushes nothing else; the caller commits."""
    target = IssueStatus(to)
    sources = [state for state, targets in TRANSITIONS.items() if target in targets]
    if expect is not None:
        sources = [state for state in sources if state in {IssueStatus(e) for e in expect}]
    conditions = [Issue.id == issue.id, Issue.status.in_(sources)]
    if base_version is not None:
        conditions.append(Issue.version == base_version)
        values["version"] = base_version + 1
    if target in (S.DRAFT, S.CANCELLED):
        values.update(approved_by_id=None, approved_at=None, approved_rendering_id=None)
    if target is S.SENT:
        values.setdefault("sent_at", utcnow())
    moved = rowcount(
        db.session.execute(
            update(Issue)
            .where(*conditions)
            .values(status=target, **values)
            .execution_options(synchronize_session=False)
        )
    )
    if moved != 1:
        current = db.session.execute(select(Issue.status, Issue.version).where(Issue.id == issue.id)).first()
        if current is not None and base_version is not None and current.version != base_version:
            raise ConflictError(
                f"This issue changed since you opened it (version {base_version}, now {current.version}); "
                "reload to see the current text.",
                current_version=current.version,
                copy_number=None,
            )
        now = current.status if current is not None else "gone"
        raise TransitionError(f"An issue that is {now} cannot become {target}.")
    for name, value in {"status": target, **values}.items():
        if name == "approved_rendering_id":
            set_committed_value(issue, "approved_rendering", None)
        set_committed_value(issue, name, value)


@dataclass
class ApprovalCheck:
    allowed: bool
    reason: str = ""


def _preflight_errors(issue: Issue) -> list[str]:
    problems = preflight(issue)
    return [p.message for p in problems if p.level == "error"] if has_errors(problems) else []


def check_approval(issue: Issue, user: User) -> ApprovalCheck:
    """Whether ``user`` may approve ``issue`` now, with the reason when not."""
    if issue.status != S.DRAFT:
        return ApprovalCheck(False, f"Only drafts can be approved; this issue is {issue.status}.")
    if user.is_contributor:
        return ApprovalCheck(False, "Contributors write drafts; an editor approves them.")
    if not get_setting("require_approval"):
        return ApprovalCheck(True)
    if issue.updated_by_id is not None and issue.updated_by_id == user.id:
        return ApprovalCheck(False, "You made the last edit; another editor must approve it.")
    errors = _preflight_errors(issue)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return ApprovalCheck(False, f"Preflight has errors: {errors[0]}{more}")
    return ApprovalCheck(True)


def approve(issue: Issue, user: User, *, base_version: int | None = None) -> Issue:
    """Approve the text at ``base_version`` (default: the loaded one) and freeze
    its rendering; bumps the version. The caller commits."""
    check = check_approval(issue, user)
    if not check.allowed:
        raise ApprovalError(check.reason)
    move(
        issue,
        S.APPROVED,
        expect=(S.DRAFT,),
        base_version=issue.version if base_version is None else base_version,
        approved_by_id=user.id,
        approved_at=utcnow(),
    )
    freeze(issue, user.id)
    return issue


def unapprove(issue: Issue, *, base_version: int | None = None) -> Issue:
    """Back to draft, approval and frozen rendering dropped; bumps the version
    like an edit. The caller commits."""
    if issue.status != S.APPROVED:
        raise TransitionError(f"An issue that is {issue.status} cannot be unapproved.")
    move(issue, S.DRAFT, expect=(S.APPROVED,), base_version=issue.version if base_version is None else base_version)
    return issue
