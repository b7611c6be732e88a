"""The "Upcoming events" section of an issue (contract used by rendering).

Rendering puts the Markdown returned here where the body has a line
``[[events]]``, or else at the end before the sign-off, and renders it for
the email, text and web versions. Every user-entered field is escaped here so
an event title cannot inject HTML or links into an issue.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.db import utcnow

if TYPE_CHECKING:
    from app.events.models import Event
    from app.issues.models import Issue

EVENTS_MARKER = "[[events]]"

# Characters Python-Markdown treats specially; backslash escapes keep them literal.
# (``.``, ``-`` and ``+`` only matter at a line start, which user text never is.)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~])")


def escape_markdown(text: str) -> str:
    """Literal text inside Markdown: HTML-escape then backslash-escape Markdown syntax.

    ``<`` and ``&`` become entities (Markdown passes entities through), so
    ``<script>`` or a raw link in an event title stays text."""
    text = " ".join((text or "").split())  # no newlines: one bullet stays one bullet
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_link_target(url: str) -> str:
    """Percent-encode what could end a Markdown link target or open HTML."""
    return quote(url, safe=":/?#@!$&'*+,;=%~-._")


def _reader_zone() -> ZoneInfo:
    from app.settings import get_setting

    try:
        return ZoneInfo(get_setting("reader_timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_when(event: Event, tz: ZoneInfo) -> str:
    """``Mon 12 Sep 2026, 14:00 CEST`` in the reader's zone (date only for all-day events)."""
    start = event.starts_at.replace(tzinfo=UTC).astimezone(tz)
    if event.all_day:
        # All-day dates are calendar days where the event happens, not shifted to the reader.
        from app.events.service import to_local

        start_local = to_local(event.starts_at, event.timezone)
        text = start_local.strftime("%a %-d %b %Y")
        if event.ends_at:
            end_local = to_local(event.ends_at, event.timezone)
            if end_local.date() != start_local.date():
                text += " – " + end_local.strftime("%a %-d %b %Y")
        return text
    text = start.strftime("%a %-d %b %Y, %H:%M")
    if event.ends_at:
        end = event.ends_at.replace(tzinfo=UTC).astimezone(tz)
        if end.date() == start.date():
            text += "–" + end.strftime("%H:%M")
        else:
            text += " – " + end.strftime("%a %-d %b %Y, %H:%M")
    return f"{text} {start.strftime('%Z')}"


def event_bullet(event: Event, tz: ZoneInfo) -> str:
    title = escape_markdown(event.title)
    head = f"[{title}]({safe_link_target(event.url)})" if event.url else title
    parts = [format_when(event, tz)]
    if event.location:
        parts.append(escape_markdown(event.location))
    line = f"* {head}: {', '.join(parts)}"
    if event.speakers:
        line += f" — {escape_markdown(event.speakers)}"
    return line


def send_reference(issue: Issue, now: datetime | None = None) -> datetime:
    """The moment an issue reaches readers: its scheduled send, else its issue
    date, else now. Not-yet-sent issues never look earlier than now, so past
    events never appear in what is about to go out."""
    from sqlalchemy import select

    from app.db import db
    from app.sending.models import Send

    now = now or utcnow()
    reference: datetime | None = None
    if issue.id is not None:
        send = db.session.scalars(
            select(Send).where(Send.issue_id == issue.id, Send.status != "cancelled")
            .order_by(Send.scheduled_at.desc()).limit(1)
        ).first()
        if send is not None:
            reference = send.scheduled_at
    if reference is None and issue.sent_at is not None:
        reference = issue.sent_at
    if reference is None and issue.issue_date is not None:
        tz = _reader_zone()
        start_of_day = datetime.combine(issue.issue_date, time(0, 0), tzinfo=tz)
        reference = start_of_day.astimezone(UTC).replace(tzinfo=None)
    if reference is None:
        reference = now
    already_sent = issue.status == "sent" or issue.sent_at is not None
    if not already_sent:
        reference = max(reference, now)
    return reference


def section_events(issue: Issue, *, now: datetime | None = None) -> list[Event]:
    """The events the section lists, excluded ones removed."""
    from app.events.service import relevant_to, upcoming_events, window_end
    from app.settings import get_setting

    after = send_reference(issue, now)
    days = int(get_setting("events_window_days") or 60)
    events = upcoming_events(after=after, until=window_end(after, days))
    list_ids = {lst.id for lst in issue.lists}
    excluded = {int(i) for i in (issue.excluded_event_ids or [])}
    return [e for e in events if e.id not in excluded and relevant_to(e, list_ids)]


def section_heading(issue: Issue) -> str:
    from app.settings import get_setting

    return (issue.events_heading or get_setting("events_heading") or "Upcoming events").strip()


def events_markdown(issue: Issue, *, now: datetime | None = None) -> str:
    """Markdown for the issue's upcoming-events section ("" when there are none).

    Rendering puts it where the body has a line ``[[events]]``, or else at the
    end before the sign-off."""
    events = section_events(issue, now=now)
    if not events:
        return ""
    tz = _reader_zone()
    lines = [f"## {escape_markdown(section_heading(issue))}", ""]
    lines += [event_bullet(event, tz) for event in events]
    return "\n".join(lines) + "\n"
