"""Best-effort extraction of events from the archive's hand-written
"CFFL Updates" / "Upcoming Events" / "FFL Updates" sections.

A bullet becomes an event when it has an http(s) link and a recognisable date
("on September 12", "Sept 12-14", "Nov. 7th", "10/4 - 10/6"); the year is the
next occurrence on or after the issue date unless the bullet names one. The
issue body is never modified: the bullet text stays where it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.events.service import to_utc

if TYPE_CHECKING:
    from app.subscribers.models import MailingList

SECTION_HEADING = re.compile(r"\b(updates|events|speaking)\b", re.IGNORECASE)
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s*(.*?)\s*#*\s*$")
BULLET = re.compile(r"^(\s*)[*+-]\s+(.*)$")
LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])+)\]\(\s*<?(https?://[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
MONTH = (
    r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
ORD = r"(?:st|nd|rd|th)?"
NAMED_DATE = re.compile(
    rf"(?<![A-Za-z]){MONTH}\.?\s+(?P<day>\d{{1,2}}){ORD}(?!\d)"
    rf"(?:\s*(?:-|–|—|/|to|&|and)\s*(?:(?P<month2>[A-Z][a-z]{{2,8}})\.?\s+)?(?P<day2>\d{{1,2}}){ORD}(?!\d))?"
    r"(?:,?\s+(?P<year>20\d\d))?"
)
NUMERIC_DATE = re.compile(
    r"(?<![\d/.])(?P<month>\d{1,2})/(?P<day>\d{1,2})(?![\d/])"
    r"(?:\s*[-–]\s*(?P<month2>\d{1,2})/(?P<day2>\d{1,2})(?![\d/]))?"
)
TIME = re.compile(
    r"(?<![\d:])(?P<hour>\d{1,2})(?::(?P<minute>\d\d))?\s*(?P<ampm>am|pm)"
    r"\s*(?P<zone>[ECMP][SD]?T\b)?",
    re.IGNORECASE,
)
ZONES = {
    "ET": "America/New_York",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CT": "America/Chicago",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MT": "America/Denver",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "PT": "America/Los_Angeles",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
}
CITY_ZONES = [
    (
        r"San Francisco|San Jose|Santa Clara|Los Angeles|Las Vegas|Seattle|Palo Alto|Mountain View|Oakland"
        r"|Portland|San Diego|California|\bCA\b",
        "America/Los_Angeles",
    ),
    (r"Chicago|Austin|Dallas|Houston", "America/Chicago"),
    (r"Denver|Boulder", "America/Denver"),
    (r"London|Edinburgh|Dublin", "Europe/London"),
    (
        r"Berlin|Munich|Barcelona|Madrid|Paris|Amsterdam|Brussels|Vienna|Zurich|Milan|Rome|Stockholm"
        r"|Copenhagen|Oslo|Prague|Warsaw",
        "Europe/Berlin",
    ),
    (r"Helsinki", "Europe/Helsinki"),
    (r"Canberra|Sydney|Melbourne", "Australia/Sydney"),
    (r"Singapore", "Asia/Singapore"),
    (r"Tokyo", "Asia/Tokyo"),
    (r"Toronto|Montreal", "America/Toronto"),
]
# The newsletter team is based in New York: undated-zone events default there.
DEFAULT_ZONE = "America/New_York"
LOCATION = re.compile(
    r"\b(?:in|at)\s+(?P<place>(?:[A-Z][\w.'’]*|NYC)"
    r"(?:(?:\s+|,\s*)(?:[A-Z][\w.'’]*|NYC)){0,3})"
)
NOT_PLACES = {"The", "Our", "This", "A", "An", "Cloudera", "Strata", "Google", "NYAI"}
PAST_TENSE = re.compile(r"\b(recently|spoke|presented|was featured|last week|yesterday)\b", re.IGNORECASE)


@dataclass
class ImportResult:
    events_created: int = 0
    bullets_seen: int = 0
    bullets_unparsed: int = 0
    events: list[Event] = field(default_factory=list)

    def __len__(self) -> int:
        """``len(result)`` is the number of events created (callers count with len())."""
        return self.events_created


@dataclass
class ParsedBullet:
    title: str
    url: str
    start: datetime  # wall time in ``timezone``
    end: datetime | None
    timezone: str
    all_day: bool
    location: str
    speakers: str
    text: str


def section_bullets(body: str) -> list[tuple[int, str]]:
    """(indent, text) of bullets inside event-like sections, continuation lines joined."""
    bullets: list[tuple[int, str]] = []
    in_section = False
    section_level = 0
    current: list[str] | None = None
    indent = 0

    def close() -> None:
        nonlocal current
        if current:
            bullets.append((indent, " ".join(part.strip() for part in current)))
        current = None

    for line in body.replace("\r\n", "\n").split("\n"):
        heading = HEADING.match(line)
        if heading and heading.group(2):
            close()
            level = len(heading.group(1))
            title = heading.group(2)
            if SECTION_HEADING.search(title) and "research" not in title.lower():
                in_section, section_level = True, level
            elif in_section and level <= section_level:
                in_section = False
            continue
        if re.match(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$", line):  # a rule ends the section
            close()
            in_section = False
            continue
        if not in_section:
            continue
        bullet = BULLET.match(line)
        if bullet:
            close()
            indent = len(bullet.group(1).expandtabs(4))
            current = [bullet.group(2)]
        elif not line.strip():
            close()
        elif current is not None:
            current.append(line)
    close()
    return bullets


def _plain(text: str) -> str:
    """Bullet text with links replaced by their text and emphasis removed."""
    text = LINK.sub(lambda m: m.group(1), text)
    return re.sub(r"[*_`]+", "", text).replace("\u200b", "")


_MONTH_WORD = re.compile(MONTH + r"\.?")


def _month(name: str) -> int | None:
    """Month number for a month name or abbreviation ("Sept", "Nov."), else None."""
    if not _MONTH_WORD.fullmatch(name or ""):
        return None
    return MONTHS.get(name[:3].lower())


def _next_occurrence(month: int, day: int, issue_date: date, year: int | None) -> date | None:
    try:
        if year is not None:
            return date(year, month, day)
        candidate = date(issue_date.year, month, day)
        if candidate < issue_date:
            candidate = date(issue_date.year + 1, month, day)
        return candidate
    except ValueError:
        return None


RELATIVE_DAYS = re.compile(r"\b(today|tonight|this (?:morning|afternoon|evening)|tomorrow)\b", re.IGNORECASE)


def _find_dates(plain: str, issue_date: date) -> tuple[date, date | None] | None:
    match = NAMED_DATE.search(plain)
    if match:
        month = _month(match.group("month"))
        year = int(match.group("year")) if match.group("year") else None
        start = _next_occurrence(month, int(match.group("day")), issue_date, year) if month else None
        if start is None:
            return None
        end = None
        if match.group("day2"):
            month2 = _month(match.group("month2")) if match.group("month2") else month
            if month2:
                end = _next_occurrence(month2, int(match.group("day2")), start, None)
        return start, end
    match = NUMERIC_DATE.search(plain)
    if match:
        start = _next_occurrence(int(match.group("month")), int(match.group("day")), issue_date, None)
        if start is None:
            return None
        end = None
        if match.group("day2"):
            end = _next_occurrence(int(match.group("month2")), int(match.group("day2")), start, None)
        return start, end
    relative = RELATIVE_DAYS.search(plain)
    if relative:
        offset = 1 if relative.group(1).lower() == "tomorrow" else 0
        return date.fromordinal(issue_date.toordinal() + offset), None
    return None


def _zone_for(plain: str, explicit: str | None) -> str:
    if explicit:
        return ZONES.get(explicit.upper(), DEFAULT_ZONE)
    for pattern, zone in CITY_ZONES:
        if re.search(pattern, plain):
            return zone
    return DEFAULT_ZONE


def _location(raw: str, plain: str) -> str:
    paren = re.search(r"\*\*\(([^,()]+),\s*([^()]+)\)\*\*", raw)  # "**(New York, Hilary)**" (2017 style)
    if paren:
        return paren.group(1).strip()
    if re.search(r"\b(webinar|virtual|podcast|online)\b", plain, re.IGNORECASE):
        return "online"
    outside_links = LINK.sub(" ", raw)
    for match in LOCATION.finditer(_plain(outside_links)):
        place = match.group("place").strip(" ,.")
        words = place.split()
        if words and words[0] not in NOT_PLACES and not _month(words[0]) and not re.search(r"\d", place):
            return place
    return ""


def _speakers(raw: str, plain: str) -> str:
    paren = re.search(r"\*\*\(([^,()]+),\s*([^()]+)\)\*\*", raw)
    if paren:
        return paren.group(2).strip()
    will = re.match(
        r"^(?:Also,?\s+|And\s+)?(?P<who>[A-Z][\w.'’-]*(?:(?:\s+|,\s*|\s+and\s+|\s*&\s*)"
        r"[A-Z][\w.'’-]*){0,7})\s+(?:will|is|are)\b",
        plain,
    )
    if will:
        return will.group("who")
    colon = re.match(r"^(?P<who>[A-Z][\w.'’-]*(?:(?:\s+|\s+and\s+|,\s*)[A-Z][\w.'’-]*){0,7}):\s", plain)
    if colon:
        return colon.group("who")
    dashed = re.match(r"^[\d/\s–-]+-\s*(?P<who>[A-Z][A-Za-z .&,]+?)\s+-\s", plain)
    if dashed:
        return dashed.group("who").strip()
    return ""


def parse_bullet(raw: str, issue_date: date, inherited: tuple[date, date | None] | None = None) -> ParsedBullet | None:
    """An event from one bullet, or None when it has no link or no date.

    ``inherited`` is the date of the parent bullet, for nested talk lists
    under "Several of us will be speaking at X on March 21st:"."""
    link = LINK.search(raw)
    if link is None:
        return None
    plain = _plain(raw)
    if PAST_TENSE.search(plain):
        return None
    dates = _find_dates(plain, issue_date) or inherited
    if dates is None:
        return None
    start_day, end_day = dates
    title = " ".join(_plain(link.group(1)).split()).strip(" .:")
    if not title or title.lower() in ("here", "register", "link", "post", "this", "register today!"):
        return None
    time_match = TIME.search(plain)
    zone = _zone_for(plain, time_match.group("zone") if time_match else None)
    all_day = time_match is None
    start_time = time(0, 0)
    if time_match:
        hour = int(time_match.group("hour")) % 12 + (12 if time_match.group("ampm").lower() == "pm" else 0)
        start_time = time(hour, int(time_match.group("minute") or 0))
    start = datetime.combine(start_day, start_time)
    end = None
    if end_day is not None and end_day > start_day:
        end = datetime.combine(end_day, time(23, 59) if all_day else start_time)
    return ParsedBullet(
        title=title[:300],
        url=link.group(2),
        start=start,
        end=end,
        timezone=zone,
        all_day=all_day,
        location=_location(raw, plain)[:300],
        speakers=_speakers(raw, plain)[:500],
        text=" ".join(plain.split()),
    )


def propose_events(
    body: str, issue_date: date | None, source: str = "", lists: list[MailingList] | None = None
) -> ImportResult:
    """The events an archive issue's event bullets describe, NOT added: for the
    reviewed step (``pressroom events import-from-archive``). An event with the
    same title within a day of one already stored (or already proposed) is left
    out: the weekly editions repeat bullets, sometimes with another city hint."""
    result = ImportResult()
    if issue_date is None:
        return result
    lists = list(lists or [])
    parent_indent, parent_dates = None, None
    for indent, raw in section_bullets(body):
        result.bullets_seen += 1
        is_child = parent_indent is not None and indent > parent_indent
        parsed = parse_bullet(raw, issue_date, parent_dates if is_child else None)
        if not is_child:
            parent_indent, parent_dates = indent, _find_dates(_plain(raw), issue_date)
        if parsed is None:
            result.bullets_unparsed += 1
            continue
        starts_at = to_utc(parsed.start, parsed.timezone)
        window = (starts_at - timedelta(days=1), starts_at + timedelta(days=1))
        stored = db.session.scalar(
            select(Event.id).where(
                Event.title == parsed.title, Event.starts_at > window[0], Event.starts_at < window[1]
            )
        )
        if stored is not None or any(
            e.title == parsed.title and window[0] < e.starts_at < window[1] for e in result.events
        ):
            continue
        result.events.append(
            Event(
                title=parsed.title,
                url=parsed.url[:2000],
                starts_at=starts_at,
                ends_at=to_utc(parsed.end, parsed.timezone) if parsed.end else None,
                timezone=parsed.timezone,
                all_day=parsed.all_day,
                location=parsed.location,
                speakers=parsed.speakers,
                description="",
                source=source[:300],
                lists=list(lists),
            )
        )
        result.events_created += 1
    return result


def extract_events(
    body: str, issue_date: date | None, source: str = "", lists: list[MailingList] | None = None
) -> ImportResult:
    """:func:`propose_events` and add them (flushed; the caller commits)."""
    result = propose_events(body, issue_date, source, lists)
    db.session.add_all(result.events)
    db.session.flush()
    return result
