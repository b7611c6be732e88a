"""iCalendar (RFC 5545) feed of events, built with the ``icalendar`` package."""

from __future__ import annotations

from datetime import UTC, timedelta

from flask import current_app
from icalendar import Calendar
from icalendar import Event as ICalEvent

from app.db import utcnow
from app.events.models import Event
from app.events.service import to_local
from app.settings import get_setting


def _uid(event: Event) -> str:
    host = current_app.config["BASE_URL"].split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "pressroom"
    return f"event-{event.id}@{host}"


def events_calendar(events: list[Event]) -> bytes:

    cal = Calendar()
    cal.add("prodid", "-//Pressroom//Events//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{get_setting('newsletter_name')}: events")
    stamp = utcnow().replace(tzinfo=UTC)
    for event in events:
        item = ICalEvent()
        item.add("uid", _uid(event))
        item.add("dtstamp", stamp)
        if event.all_day:
            start_day = to_local(event.starts_at, event.timezone).date()
            end_day = to_local(event.ends_at, event.timezone).date() if event.ends_at else start_day
            item.add("dtstart", start_day)
            item.add("dtend", end_day + timedelta(days=1))  # DTEND is exclusive for dates
        else:
            item.add("dtstart", event.starts_at.replace(tzinfo=UTC))
            if event.ends_at:
                item.add("dtend", event.ends_at.replace(tzinfo=UTC))
        item.add("summary", event.title)
        if event.url:
            item.add("url", event.url)
        if event.location:
            item.add("location", event.location)
        description = "\n".join(x for x in (event.speakers and f"Speakers: {event.speakers}", event.description) if x)
        if description:
            item.add("description", description)
        cal.add_component(item)
    return cal.to_ical()
