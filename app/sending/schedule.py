"""Send times: reading a time typed in a zone, refusing ones that cannot be
meant (a DST gap or repeat, the past), and showing a stored time in a zone.
Stored times are naive UTC; the zone a send was chosen in is kept beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.db import utcnow
from app.sending.errors import SendError

# A time in the minute just gone is "now" to whoever typed it (the form has no
# seconds and the review step takes a moment); anything older was a mistake.
PAST_GRACE = timedelta(minutes=2)


def parse_schedule(text: str, timezone: str = "UTC") -> datetime:
    """ISO 8601 -> naive UTC. A time without offset is read in ``timezone``;
    a local time that does not exist (spring forward) or exists twice (fall
    back) is refused, so a DST change can never move or repeat a send."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise SendError(f"Not an ISO 8601 date and time: {text!r} (example: 2026-03-29T09:00+02:00).") from exc
    return to_utc(value, timezone)


def _out_of_range(value: datetime) -> str:
    return f"{value.isoformat(sep=' ', timespec='minutes')} is out of range; choose a year from 2 to 9998."


def to_utc(value: datetime, timezone: str = "UTC") -> datetime:
    if value.tzinfo is not None:
        try:
            return value.astimezone(UTC).replace(tzinfo=None)
        except OverflowError as exc:
            raise SendError(_out_of_range(value)) from exc
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SendError(f"Unknown time zone {timezone!r}.") from exc
    early, late = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    if early.utcoffset() != late.utcoffset():
        # Both folds round-trip for an ambiguous time; only one does for a gap.
        roundtrip = early.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        if roundtrip != value:
            raise SendError(f"{value:%Y-%m-%d %H:%M} does not exist in {timezone} (the clocks skip it).")
        raise SendError(
            f"{value:%Y-%m-%d %H:%M} happens twice in {timezone} (the clocks go back); "
            "give the UTC offset, e.g. +01:00."
        )
    try:
        return early.astimezone(UTC).replace(tzinfo=None)
    except OverflowError as exc:  # e.g. 0001-01-01 east of UTC, 9999-12-31 west of it
        raise SendError(_out_of_range(value)) from exc


def in_zone(value: datetime | None, timezone: str) -> datetime | None:
    """A stored naive-UTC time shown in ``timezone``."""
    if value is None:
        return None
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return value.replace(tzinfo=UTC).astimezone(zone)


def zone_label(value: datetime, timezone: str) -> str:
    """``2026-03-29 09:00 CEST`` for a naive-UTC ``value``."""
    local = in_zone(value, timezone)
    assert local is not None
    return f"{local:%Y-%m-%d %H:%M %Z}"


def refuse_past(at: datetime, timezone: str, now: datetime | None = None) -> None:
    """A scheduled time (naive UTC) already gone is refused, showing it in the zone
    it was typed in: a send for 09:00 yesterday must not go out at once by surprise."""
    now = now or utcnow()
    if at < now - PAST_GRACE:
        raise SendError(
            f"{zone_label(at, timezone)} in {timezone or 'UTC'} has already passed "
            f"(it is now {zone_label(now, timezone)}). "
            "Choose a later time, or choose Send now."
        )
