"""Public views: the upcoming events page and its iCalendar feed."""

from __future__ import annotations

from flask import Response, render_template

from app.events.display import format_when, zone_or_utc
from app.events.ical import events_calendar
from app.events.service import upcoming_events
from app.public import bp
from app.settings import get_setting


@bp.route("/events")
def events() -> str:

    tz = zone_or_utc(get_setting("reader_timezone"))
    items = [(event, format_when(event, tz)) for event in upcoming_events()]
    return render_template("public/events.html", items=items)


@bp.route("/events.ics")
def events_ics() -> Response:
    body = events_calendar(upcoming_events())
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = 'inline; filename="events.ics"'
    response.headers["Cache-Control"] = "public, max-age=900"
    return response
