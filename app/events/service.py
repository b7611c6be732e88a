"""Events domain: validation, create/update/duplicate/delete, and the queries
the admin, the public pages and the issue section share.

Times are entered in the event's own zone (what the organiser publishes) and
stored as naive UTC so ordering and window queries are plain comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select

from app.db import db, utcnow
from app.errors import InvalidInput
from app.events.models import Event
from app.numbers import parse_id
from app.subscribers.models import MailingList

DATETIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


class EventError(InvalidInput):
    """Invalid event input; ``errors`` maps a field name to a message for the form."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class EventData:
    """Validated-or-not event fields; start/end are naive datetimes in ``timezone``."""

    title: str = ""
    url: str = ""
    start: datetime | None = None
    end: datetime | None = None
    timezone: str = "UTC"
    all_day: bool = False
    location: str = ""
    speakers: str = ""
    description: str = ""
    list_ids: list[int] = field(default_factory=list)
    source: str = ""


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """IANA zone names (scanning tzdata is slow, so once per process)."""
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    """A ZoneInfo for a known IANA name; raises EventError otherwise."""
    if not name or name not in known_zones():
        raise EventError({"timezone": "Unknown time zone; use a name like Europe/Berlin."})
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - defensive
        raise EventError({"timezone": "Unknown time zone."}) from exc


def to_utc(local: datetime, tz_name: str, field: str = "start") -> datetime:
    """Naive wall-clock time in ``tz_name`` -> naive UTC."""
    aware = local.replace(tzinfo=zone(tz_name))
    try:
        return aware.astimezone(UTC).replace(tzinfo=None)
    except OverflowError as exc:  # e.g. 9999-12-31 23:00 in a zone west of UTC
        raise EventError({field: "That date is out of range."}) from exc


def to_local(utc_naive: datetime, tz_name: str) -> datetime:
    """Naive UTC -> aware datetime in ``tz_name`` (UTC when the zone is unknown)."""
    try:
        tz = ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return utc_naive.replace(tzinfo=UTC).astimezone(tz)


def parse_local_datetime(raw: str) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    raise ValueError(raw)


def data_from_form(form: Mapping[str, Any]) -> EventData:
    """Read an admin form (``request.form``, or a plain dict) into EventData;
    unparsable dates raise EventError."""
    get = form.get
    errors: dict[str, str] = {}
    values: dict[str, datetime | None] = {}
    for name in ("start", "end"):
        try:
            values[name] = parse_local_datetime(get(name, ""))
        except ValueError:
            errors[name] = "Enter a date and time like 2026-09-12 14:00."
    list_ids: list[int] = []
    getlist = getattr(form, "getlist", None)
    raw_lists = getlist("lists") if getlist else (get("lists") or [])
    for raw in raw_lists:
        # An id that is no id (or beyond the column) is an unknown list, reported as such.
        list_ids.append(parse_id(raw) or 0)
    data = EventData(
        title=(get("title") or "").strip(),
        url=(get("url") or "").strip(),
        start=values.get("start"),
        end=values.get("end"),
        timezone=(get("timezone") or "UTC").strip(),
        all_day=get("all_day") in ("on", "1", "true", True),
        location=(get("location") or "").strip(),
        speakers=(get("speakers") or "").strip(),
        description=(get("description") or "").strip(),
        list_ids=list_ids,
    )
    if errors:
        # Report the parse errors together with every other problem at once.
        try:
            validate(data)
        except EventError as exc:
            errors = {**exc.errors, **errors}
        raise EventError(errors)
    return data


def validate(data: EventData) -> tuple[datetime, datetime | None, list[MailingList]]:
    """Check every field; returns (start_utc, end_utc, lists) or raises EventError with all problems."""
    errors: dict[str, str] = {}
    if not data.title:
        errors["title"] = "A title is required."
    elif len(data.title) > 300:
        errors["title"] = "Keep the title under 300 characters."
    if data.url:
        parts = urlsplit(data.url)
        if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in data.url):
            errors["url"] = "Enter a full web address starting with http:// or https://."
        elif len(data.url) > 2000:
            errors["url"] = "That address is too long."
    for name, limit in (("location", 300), ("speakers", 500)):
        if len(getattr(data, name)) > limit:
            errors[name] = f"Keep this under {limit} characters."
    start_utc = end_utc = None
    try:
        zone(data.timezone)
    except EventError as exc:
        errors.update(exc.errors)
    else:
        if data.start is None:
            errors["start"] = "A start date and time is required."
        elif not all(1900 <= d.year <= 2999 for d in (data.start, data.end) if d is not None):
            # Far-future times overflow the zone conversions when shown to readers.
            errors["start"] = "Use a date between 1900 and 2999."
        else:
            try:
                start_utc = to_utc(data.start, data.timezone)
                if data.end is not None:
                    end_utc = to_utc(data.end, data.timezone, "end")
                    if end_utc <= start_utc:
                        errors["end"] = "The end must be after the start."
            except EventError as exc:
                errors.update(exc.errors)
    lists: list[MailingList] = []
    if data.list_ids:
        # Ids beyond the column's range cannot exist (and would overflow the query).
        ids = {i for i in data.list_ids if 0 < i <= 2**31 - 1}
        lists = list(db.session.scalars(select(MailingList).where(MailingList.id.in_(ids)))) if ids else []
        if len(lists) != len(set(data.list_ids)):
            errors["lists"] = "Unknown list."
    if errors:
        raise EventError(errors)
    assert start_utc is not None
    return start_utc, end_utc, lists


def _apply(event: Event, data: EventData) -> None:
    start_utc, end_utc, lists = validate(data)
    event.title = data.title
    event.url = data.url
    event.starts_at = start_utc
    event.ends_at = end_utc
    event.timezone = data.timezone
    event.all_day = data.all_day
    event.location = data.location
    event.speakers = data.speakers
    event.description = data.description
    event.lists = lists
    if data.source:
        event.source = data.source


def create_event(data: EventData) -> Event:
    event = Event()
    _apply(event, data)  # validates before anything is added to the session
    db.session.add(event)
    db.session.commit()
    return event


def update_event(event: Event, data: EventData) -> Event:
    try:
        _apply(event, data)
    except EventError:
        db.session.rollback()
        raise
    db.session.commit()
    return event


def duplicate_event(event: Event) -> Event:
    """A copy to adjust (same talk at another conference): title marked as a copy, same lists."""
    copy = Event(
        title=f"{event.title} (copy)"[:300],
        url=event.url,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        timezone=event.timezone,
        all_day=event.all_day,
        location=event.location,
        speakers=event.speakers,
        description=event.description,
        lists=list(event.lists),
    )
    db.session.add(copy)
    db.session.commit()
    return copy


def delete_event(event: Event) -> None:
    db.session.delete(event)
    db.session.commit()


def event_data(event: Event) -> EventData:
    """The stored event as form values in its own zone."""
    start = to_local(event.starts_at, event.timezone).replace(tzinfo=None)
    end = to_local(event.ends_at, event.timezone).replace(tzinfo=None) if event.ends_at else None
    return EventData(
        title=event.title,
        url=event.url,
        start=start,
        end=end,
        timezone=event.timezone,
        all_day=event.all_day,
        location=event.location,
        speakers=event.speakers,
        description=event.description,
        list_ids=[lst.id for lst in event.lists],
    )


def relevant_to(event: Event, list_ids: set[int]) -> bool:
    """Events without lists are for everyone; an issue without lists sees everything."""
    if not event.lists or not list_ids:
        return True
    return any(lst.id in list_ids for lst in event.lists)


def upcoming_events(
    *, after: datetime | None = None, until: datetime | None = None, list_id: int | None = None
) -> list[Event]:
    """Events starting after ``after`` (default now), ordered by start."""
    after = after or utcnow()
    query = select(Event).where(Event.starts_at > after)
    if until is not None:
        query = query.where(Event.starts_at <= until)
    events = list(db.session.scalars(query.order_by(Event.starts_at, Event.id)))
    if list_id is not None:
        events = [e for e in events if relevant_to(e, {list_id})]
    return events


def past_events(*, now: datetime | None = None, list_id: int | None = None) -> list[Event]:
    now = now or utcnow()
    query = select(Event).where(Event.starts_at <= now).order_by(Event.starts_at.desc(), Event.id.desc())
    events = list(db.session.scalars(query))
    if list_id is not None:
        events = [e for e in events if relevant_to(e, {list_id})]
    return events


def section_events(*, after: datetime, days: int, list_ids: set[int], excluded: set[int]) -> list[Event]:
    """What an issue's upcoming-events section lists: events in the window after
    ``after`` relevant to the issue's lists, minus the ones the editor excluded."""
    events = upcoming_events(after=after, until=window_end(after, days))
    return [e for e in events if e.id not in excluded and relevant_to(e, list_ids)]


def window_end(after: datetime, days: int) -> datetime:
    """End of the events window, clamped: a far-future reference date must not overflow."""
    try:
        return after + timedelta(days=days)
    except OverflowError:
        return datetime.max if days > 0 else datetime.min
