"""Public views: the upcoming events page and its iCalendar feed."""

from __future__ import annotations

from flask import Response, abort, render_template

from app.db import db
from app.events.display import format_when, zone_or_utc
from app.events.ical import events_calendar
from app.events.models import Event
from app.events.service import upcoming_events
from app.i18n import get_locale
from app.public import bp
from app.settings import get_setting


@bp.route("/events")
def events() -> str:

    tz = zone_or_utc(get_setting("reader_timezone"))
    locale = str(get_locale())
    items = [(event, format_when(event, tz, locale)) for event in upcoming_events()]
    return render_template("public/events.html", items=items)


@bp.route("/events.ics")
def events_ics() -> Response:
    body = events_calendar(upcoming_events())
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = 'inline; filename="events.ics"'
    response.headers["Cache-Control"] = "public, max-age=900"
    return response


@bp.route("/events/<int:event_id>.ics")
def event_ics(event_id: int) -> Response:
    """One event as a calendar file: the "Add to calendar" of its card."""
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    response = Response(events_calendar([event]), content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event.id}.ics"'
    return response
