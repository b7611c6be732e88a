"""Events as readers see them: times in the reader time zone, and the
section's rows (:class:`app.rendering.context.EventView`) for rendering."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date

from app.events.models import Event
from app.events.service import to_local
from app.rendering.context import EventView

__all__ = ["event_views", "format_when", "zone_or_utc"]


def zone_or_utc(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _day(moment: datetime, locale: str) -> str:
    """``Mon 12 Sep 2026`` in English, the locale's own words otherwise (``Sa. 12. Sept. 2026``)."""
    if locale == "en":
        return moment.strftime("%a %-d %b %Y")
    return format_date(moment.date(), "EEE d MMM y", locale=locale)


def format_when(event: Event, tz: ZoneInfo, locale: str = "en") -> str:
    """``Mon 12 Sep 2026, 14:00 CEST`` in the reader's zone and language (date only
    for all-day events)."""
    start = event.starts_at.replace(tzinfo=UTC).astimezone(tz)
    if event.all_day:
        # All-day dates are calendar days where the event happens, not shifted to the reader.
        start_local = to_local(event.starts_at, event.timezone)
        text = _day(start_local, locale)
        if event.ends_at:
            end_local = to_local(event.ends_at, event.timezone)
            if end_local.date() != start_local.date():
                text += " – " + _day(end_local, locale)
        return text
    text = f"{_day(start, locale)}, {start:%H:%M}"
    if event.ends_at:
        end = event.ends_at.replace(tzinfo=UTC).astimezone(tz)
        if end.date() == start.date():
            text += "–" + end.strftime("%H:%M")
        else:
            text += f" – {_day(end, locale)}, {end:%H:%M}"
    return f"{text} {start.strftime('%Z')}"


def event_views(events: Iterable[Event], tz: ZoneInfo, locale: str = "en") -> tuple[EventView, ...]:
    return tuple(
        EventView(title=e.title, url=e.url, when=format_when(e, tz, locale), location=e.location, speakers=e.speakers)
        for e in events
    )
