"""Per-issue settings of the upcoming-events section (heading, excluded events).

The section is part of what readers get, so it follows the editing rules: only
drafts and approved issues change, and an approved one goes back to draft for
a fresh approval."""

from __future__ import annotations

from collections.abc import Iterable

from app.db import db
from app.errors import InvalidInput
from app.issues import lifecycle
from app.issues.models import Issue
from app.issues.service import EDITABLE_STATES, IssueError, NotEditableError

MAX_HEADING = 200


class SectionError(IssueError):
    """A refused change to the section; ``errors`` maps a form field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def set_issue_events(issue: Issue, heading: str | None, excluded_ids: Iterable[int]) -> None:
    """Heading override ("" or None = the default) and excluded events; the caller commits."""
    heading = (heading or "").strip()
    if len(heading) > MAX_HEADING:
        raise SectionError({"heading": f"Keep the heading under {MAX_HEADING} characters."})
    if issue.status not in EDITABLE_STATES:
        raise SectionError({"heading": f"This issue is {issue.status}; only drafts can be edited."})
    if issue.status == "approved":
        try:
            lifecycle.unapprove(issue)  # clears the approval, bumps the version
        except (InvalidInput, NotEditableError) as exc:
            raise SectionError({"heading": str(exc)}) from exc
    issue.events_heading = heading or None
    # A fresh list so the JSON column is seen as changed.
    issue.excluded_event_ids = sorted({int(i) for i in excluded_ids})
    db.session.flush()
