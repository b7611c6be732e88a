"""The "Upcoming events" section of an issue (contract used by rendering).

STUB until the events work lands: returns no section."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.issues.models import Issue

EVENTS_MARKER = "[[events]]"


def events_markdown(issue: Issue, *, now: datetime | None = None) -> str:
    """Markdown for the issue's upcoming-events section ("" when there are none).

    Rendering puts it where the body has a line ``[[events]]``, or else at the
    end before the sign-off."""
    return ""
