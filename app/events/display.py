"""Events as readers see them: times in the reader time zone, and the
section's rows (:class:`app.rendering.context.EventView`) for rendering."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.events.models import Event
from app.events.service import to_local
from app.rendering.context import EventView

__all__ = ["event_views", "format_when", "zone_or_utc"]


def zone_or_utc(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_when(event: Event, tz: ZoneInfo) -> str:
    """``Mon 12 Sep 2026, 14:00 CEST`` in the reader's zone (date only for all-day events)."""
    start = event.starts_at.replace(tzinfo=UTC).astimezone(tz)
    if event.all_day:
        # All-day dates are calendar days where the event happens, not shifted to the reader.
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


def event_views(events: Iterable[Event], tz: ZoneInfo) -> tuple[EventView, ...]:
    return tuple(
        EventView(title=e.title, url=e.url, when=format_when(e, tz), location=e.location, speakers=e.speakers)
        for e in events
    )
