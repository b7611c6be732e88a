"""Admin views for events: thin wrappers around ``app.events.service``."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.admin import bp
from app.auth import contributors_allowed
from app.db import db
from app.events.display import format_when, zone_or_utc
from app.events.models import Event
from app.events.service import (
    EventData,
    EventError,
    create_event,
    data_from_form,
    delete_event,
    duplicate_event,
    event_data,
    parse_local_datetime,
    past_events,
    relevant_to,
    upcoming_events,
    update_event,
    window_end,
)
from app.issues.events_section import SectionError, set_issue_events
from app.issues.models import Issue
from app.issues.rendering import reference_time, section_events, section_heading
from app.numbers import parse_id
from app.settings import get_setting
from app.subscribers.models import MailingList
from app.timezones import canonical_zones


def _lists() -> list[MailingList]:
    return list(db.session.scalars(select(MailingList).order_by(MailingList.name)))


def _get_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    return event


def _reader_zone():  # noqa: ANN202 (a ZoneInfo)

    return zone_or_utc(get_setting("reader_timezone"))


def _form_page(data: EventData, errors: dict[str, str], event: Event | None, status: int = 200):

    return render_template(
        "admin/events/form.html",
        data=data,
        errors=errors,
        event=event,
        lists=_lists(),
        zones=canonical_zones(),
        default_zone=get_setting("reader_timezone"),
    ), status


@bp.route("/events")
@contributors_allowed
def events():
    tab = "past" if request.args.get("tab") == "past" else "upcoming"
    list_id = parse_id(request.args.get("list"))
    items = past_events(list_id=list_id) if tab == "past" else upcoming_events(list_id=list_id)
    tz = _reader_zone()
    rows = [(event, format_when(event, tz)) for event in items]
    return render_template("admin/events/index.html", rows=rows, tab=tab, list_id=list_id, lists=_lists())


@bp.route("/events/new", methods=["GET", "POST"])
@contributors_allowed
def events_new():

    if request.method == "GET":
        return _form_page(EventData(timezone=get_setting("reader_timezone") or "UTC"), {}, None)
    try:
        event = create_event(data_from_form(request.form))
    except EventError as exc:
        return _form_page(_raw_form_data(), exc.errors, None, 400)
    flash(f"Event “{event.title}” created.", "success")
    return redirect(url_for("admin.events"))


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@contributors_allowed
def events_edit(event_id: int):
    event = _get_event(event_id)
    if request.method == "GET":
        return _form_page(event_data(event), {}, event)
    try:
        update_event(event, data_from_form(request.form))
    except EventError as exc:
        return _form_page(_raw_form_data(), exc.errors, event, 400)
    flash(f"Event “{event.title}” saved.", "success")
    return redirect(url_for("admin.events"))


@bp.route("/events/<int:event_id>/duplicate", methods=["POST"])
@contributors_allowed
def events_duplicate(event_id: int):
    copy = duplicate_event(_get_event(event_id))
    flash("Event duplicated; adjust the copy.", "success")
    return redirect(url_for("admin.events_edit", event_id=copy.id))


@bp.route("/events/<int:event_id>/delete", methods=["POST"])
def events_delete(event_id: int):
    event = _get_event(event_id)
    title = event.title
    delete_event(event)
    flash(f"Event “{title}” deleted.", "success")
    return redirect(url_for("admin.events"))


@bp.route("/events/issue/<int:issue_id>", methods=["GET", "POST"])
def events_for_issue(issue_id: int):
    """Per-issue events section: heading override and excluded events."""

    issue = db.session.get(Issue, issue_id)
    if issue is None:
        abort(404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        ids = [i for i in (parse_id(x) for x in request.form.getlist("exclude")) if i is not None]
        try:
            set_issue_events(issue, request.form.get("heading", ""), ids)
            db.session.commit()
        except SectionError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            flash("Events section saved.", "success")
            return redirect(url_for("admin.events_for_issue", issue_id=issue.id))
    # Candidates: everything the window would show, excluded ones included so they can be re-added.
    after = reference_time(issue)
    window = window_end(after, int(get_setting("events_window_days") or 60))
    shown = {e.id for e in section_events(issue)}
    excluded = set(issue.excluded_event_ids or [])
    list_ids = {lst.id for lst in issue.lists}
    candidates = [e for e in upcoming_events(after=after, until=window) if relevant_to(e, list_ids)]
    tz = _reader_zone()
    rows = [(e, format_when(e, tz), e.id in excluded) for e in candidates]
    return render_template(
        "admin/events/issue.html",
        issue=issue,
        rows=rows,
        shown=shown,
        heading=issue.events_heading or "",
        default_heading=get_setting("events_heading"),
        preview_heading=section_heading(issue),
        errors=errors,
    ), (400 if errors else 200)


def _raw_form_data() -> EventData:
    """What the user typed, for re-displaying the form next to its errors."""

    def parsed(name: str):
        try:
            return parse_local_datetime(request.form.get(name, ""))
        except ValueError:
            return None

    form = request.form
    return EventData(
        title=form.get("title", ""),
        url=form.get("url", ""),
        start=parsed("start"),
        end=parsed("end"),
        timezone=form.get("timezone", ""),
        all_day=form.get("all_day") == "on",
        location=form.get("location", ""),
        speakers=form.get("speakers", ""),
        description=form.get("description", ""),
        list_ids=[i for i in (parse_id(x) for x in form.getlist("lists")) if i is not None],
    )
