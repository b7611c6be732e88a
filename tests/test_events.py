"""Events: validation, the issue section, admin pages and the iCalendar feed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from icalendar import Calendar

from app.db import db, utcnow
from app.events.models import Event
from app.events.service import EventData, EventError, create_event, to_utc
from app.issues.events_section import set_issue_events
from app.issues.models import Issue
from app.issues.rendering import section_markdown as events_markdown
from app.rendering.events_section import EVENTS_MARKER
from app.settings import set_setting
from app.subscribers.lists import create_list


def make_event(title: str, start_utc: datetime, **kw) -> Event:
    data = EventData(title=title, url=kw.pop("url", "https://example.com/e"), start=start_utc, timezone="UTC", **kw)
    return create_event(data)


def make_issue(**kw) -> Issue:
    issue = Issue(slug=kw.pop("slug", "issue-1"), title="Issue", body=kw.pop("body", "Hello\n\nBye"), **kw)
    db.session.add(issue)
    db.session.commit()
    return issue


class TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_validation_reports_every_problem(app):
    with pytest.raises(EventError) as exc:
        create_event(
            EventData(
                title="",
                url="javascript:alert(1)",
                start=datetime(2026, 9, 12, 14),
                end=datetime(2026, 9, 12, 13),
                timezone="Mars/Olympus",
            )
        )
    assert set(exc.value.errors) == {"title", "url", "timezone"}
    with pytest.raises(EventError) as exc:
        create_event(
            EventData(
                title="Talk", start=datetime(2026, 9, 12, 14), end=datetime(2026, 9, 12, 13), timezone="Europe/Berlin"
            )
        )
    assert set(exc.value.errors) == {"end"}
    assert db.session.query(Event).count() == 0


def test_times_are_entered_in_event_zone_and_stored_utc(app):
    event = create_event(
        EventData(
            title="Strata", url="https://strata.example", start=datetime(2026, 9, 12, 14), timezone="Europe/Berlin"
        )
    )
    assert event.starts_at == datetime(2026, 9, 12, 12)  # CEST = UTC+2
    assert to_utc(datetime(2026, 1, 12, 14), "America/New_York") == datetime(2026, 1, 12, 19)


def test_section_lists_upcoming_not_past_in_reader_zone(app):
    now = utcnow()
    set_setting("reader_timezone", "Europe/Berlin")
    soon = make_event("Future Talk", now + timedelta(days=5), location="Berlin", speakers="Micha")
    make_event("Old Talk", now - timedelta(days=2))
    make_event("Far Talk", now + timedelta(days=90))
    issue = make_issue(issue_date=now.date())
    md = events_markdown(issue, now=now)
    assert md.startswith("## Upcoming events\n")
    assert "[Future Talk](https://example.com/e)" in md and "Berlin" in md and "— Micha" in md
    assert "Old Talk" not in md and "Far Talk" not in md
    local = soon.starts_at.replace(tzinfo=__import__("datetime").UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/Berlin")
    )
    assert local.strftime("%H:%M") in md and ("CET" in md or "CEST" in md)


def test_past_event_never_appears_even_for_old_issue_date(app):
    now = utcnow()
    make_event("Happened yesterday", now - timedelta(days=1))
    issue = make_issue(issue_date=(now - timedelta(days=10)).date())
    assert events_markdown(issue, now=now) == ""


def test_issue_date_is_the_reference(app):
    now = utcnow()
    make_event("Before the issue", now + timedelta(days=2))
    make_event("After the issue", now + timedelta(days=4))
    issue = make_issue(issue_date=(now + timedelta(days=3)).date())
    md = events_markdown(issue, now=now)
    assert "After the issue" in md and "Before the issue" not in md


def test_lists_exclusions_heading_and_window_setting(app):
    now = utcnow()
    clients = create_list("Clients")
    public = create_list("Public")
    everyone = make_event("For everyone", now + timedelta(days=1))
    only_clients = make_event("Clients only", now + timedelta(days=2), list_ids=[clients.id])
    make_event("Public only", now + timedelta(days=3), list_ids=[public.id])
    issue = make_issue(issue_date=date.today())
    issue.lists = [clients]
    db.session.commit()
    md = events_markdown(issue, now=now)
    assert md.index("For everyone") < md.index("Clients only")
    assert "Public only" not in md
    set_issue_events(issue, "Where to find us", [only_clients.id])
    md = events_markdown(issue, now=now)
    assert md.startswith("## Where to find us") and "Clients only" not in md and "For everyone" in md
    set_issue_events(issue, "", [])
    set_setting("events_heading", "CFFL Updates")
    set_setting("events_window_days", 1)
    md = events_markdown(issue, now=now)
    assert md.startswith("## CFFL Updates") and "Clients only" not in md
    assert everyone.id not in issue.excluded_event_ids


def test_user_fields_cannot_inject_html_or_links(app):
    import markdown

    now = utcnow()
    make_event(
        "<script>alert(1)</script> [click](https://evil.example) **bold**",
        now + timedelta(days=1),
        url="https://example.com/a)b",
        location="<img src=x onerror=alert(1)>",
    )
    md = events_markdown(make_issue(), now=now)
    html = markdown.markdown(md)
    parser = TextOf()
    parser.feed(html)
    assert "script" not in parser.tags and "img" not in parser.tags and "strong" not in parser.tags
    assert html.count("<a ") == 1 and "evil.example" not in html.split('">')[0]
    assert "<script>alert(1)</script> [click](https://evil.example) **bold**" in "".join(parser.text)


def test_events_marker_constant():
    assert EVENTS_MARKER == "[[events]]"


def test_rendered_issue_shows_upcoming_event_at_marker(app):
    from tests.support.rendering import render

    now = utcnow()
    make_event("Rendered Future Talk", now + timedelta(days=3))
    make_event("Rendered Past Talk", now - timedelta(days=3))
    issue = make_issue(body=f"Intro paragraph\n\n{EVENTS_MARKER}\n\nMiddle paragraph\n\nBye")
    rendered = render(issue)
    for version in ("email_html", "text", "web_html"):
        content = getattr(rendered, version)
        assert "Rendered Future Talk" in content, version
        assert "Rendered Past Talk" not in content, version
        assert (
            content.rindex("Intro paragraph")
            < content.rindex("Rendered Future Talk")
            < content.rindex("Middle paragraph")
        ), version
        assert EVENTS_MARKER not in content


def test_rendered_issue_without_marker_puts_events_before_sign_off(app):
    from tests.support.rendering import render

    now = utcnow()
    make_event("Sign-off Talk", now + timedelta(days=3), location="New York")
    excluded = make_event("Excluded Talk", now + timedelta(days=4))
    issue = make_issue(body="## News\n\n* A bullet about research.\n\nAll the best,\n\nThe Team")
    set_issue_events(issue, None, [excluded.id])
    rendered = render(issue)
    for version in ("email_html", "text", "web_html"):
        content = getattr(rendered, version)
        # rindex: the email's hidden preheader may repeat the opening words.
        positions = [content.rindex(s) for s in ("research", "Sign-off Talk", "All the best")]
        assert positions == sorted(positions), version
        assert "Excluded Talk" not in content, version


# --- admin ------------------------------------------------------------------


def test_admin_create_edit_duplicate_delete(editor_client):
    now = utcnow()
    start = (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "title": "Strata NY",
        "url": "https://strata.example",
        "start": start,
        "timezone": "America/New_York",
        "location": "New York",
        "speakers": "Micha",
    }
    response = editor_client.post("/admin/events/new", data=form)
    assert response.status_code == 302
    event = db.session.query(Event).one()
    page = editor_client.get("/admin/events").get_data(as_text=True)
    assert "Strata NY" in page
    assert editor_client.get(f"/admin/events/{event.id}/edit").status_code == 200
    response = editor_client.post(f"/admin/events/{event.id}/edit", data={**form, "title": "Strata NYC"})
    assert response.status_code == 302
    assert db.session.get(Event, event.id).title == "Strata NYC"
    assert editor_client.post(f"/admin/events/{event.id}/duplicate").status_code == 302
    assert db.session.query(Event).count() == 2
    assert editor_client.post(f"/admin/events/{event.id}/delete").status_code == 302
    assert db.session.query(Event).count() == 1
    editor_client.get("/admin/events")  # consume flashes
    page = editor_client.get("/admin/events").get_data(as_text=True)
    assert "Strata NYC (copy)" in page and "Strata NYC</a>" not in page


def test_admin_validation_errors_next_to_fields(editor_client):
    response = editor_client.post(
        "/admin/events/new", data={"title": "", "url": "ftp://x", "start": "soon", "timezone": "Nowhere/Town"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for field in ("title", "url", "start", "timezone"):
        assert f'id="error-{field}"' in html
    assert db.session.query(Event).count() == 0


def test_admin_events_for_issue_form(editor_client):
    now = utcnow()
    event = make_event("Excludable", now + timedelta(days=2))
    issue = make_issue()
    assert "Excludable" in editor_client.get(f"/admin/events/issue/{issue.id}").get_data(as_text=True)
    response = editor_client.post(
        f"/admin/events/issue/{issue.id}", data={"heading": "Talks", "exclude": [str(event.id)]}
    )
    assert response.status_code == 302
    issue = db.session.get(Issue, issue.id)
    assert issue.events_heading == "Talks" and issue.excluded_event_ids == [event.id]
    assert events_markdown(issue) == ""


# --- public -----------------------------------------------------------------


def test_public_events_page_and_ics(client):
    now = utcnow()
    make_event(
        "Upcoming Webinar",
        now + timedelta(days=7),
        location="online",
        speakers="Nisha",
        description="Deep learning, anomalies; and more",
    )
    create_event(
        EventData(
            title="Conference",
            url="https://conf.example",
            start=datetime(2030, 3, 18),
            end=datetime(2030, 3, 20),
            timezone="America/Los_Angeles",
            all_day=True,
        )
    )
    make_event("Done Webinar", now - timedelta(days=7))
    page = client.get("/events")
    assert page.status_code == 200 and "Upcoming Webinar" in page.get_data(as_text=True)
    assert "Done Webinar" not in page.get_data(as_text=True)
    response = client.get("/events.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    assert str(cal["VERSION"]) == "2.0" and cal["PRODID"]
    vevents = cal.walk("VEVENT")
    by_title = {str(v["SUMMARY"]): v for v in vevents}
    assert set(by_title) == {"Upcoming Webinar", "Conference"}
    webinar = by_title["Upcoming Webinar"]
    for prop in ("UID", "DTSTAMP", "DTSTART", "URL", "LOCATION", "DESCRIPTION"):
        assert prop in webinar, prop
    assert webinar.decoded("DTSTART").utcoffset() == timedelta(0)
    assert str(webinar["LOCATION"]) == "online"
    conference = by_title["Conference"]
    assert conference.decoded("DTSTART") == date(2030, 3, 18)
    assert conference.decoded("DTEND") == date(2030, 3, 21)
    assert len({str(v["UID"]) for v in vevents}) == 2


def test_demo_events_and_cli_list(app, runner):
    from app.events.demo import load_demo_events

    assert load_demo_events() == ["events: 3 upcoming demo events"]
    result = runner.invoke(args=["events", "list"])
    assert result.exit_code == 0, result.output
    assert "Strata Data Conference" in result.output and "3 upcoming event(s)" in result.output
    issue = make_issue()
    md = events_markdown(issue)
    assert md.count("\n* ") == 3


def test_out_of_range_times_and_list_ids_are_form_errors(editor_client):
    base = {"title": "Far", "timezone": "America/New_York"}
    for start in ("9999-12-31 23:00", "0001-01-01 00:00"):
        response = editor_client.post("/admin/events/new", data={**base, "start": start})
        assert response.status_code == 400 and 'id="error-start"' in response.get_data(as_text=True)
    response = editor_client.post(
        "/admin/events/new", data={**base, "start": "2026-09-12 14:00", "lists": "99999999999999999999999"}
    )
    assert response.status_code == 400 and "Unknown list." in response.get_data(as_text=True)
    assert db.session.query(Event).count() == 0
    with pytest.raises(EventError):
        to_utc(datetime(9999, 12, 31, 23, 0), "America/New_York")


def test_events_section_changes_follow_the_approval_rules(editor_client, users):
    """Changing what readers get un-approves the issue; sent issues refuse the change."""
    approved = make_issue(status="approved", approved_by_id=users["editor2"].id, approved_at=utcnow(), version=3)
    response = editor_client.post(f"/admin/events/issue/{approved.id}", data={"heading": "Talks"})
    assert response.status_code == 302
    db.session.expire_all()
    approved = db.session.get(Issue, approved.id)
    assert approved.status == "draft" and approved.approved_by_id is None and approved.version == 4
    assert approved.events_heading == "Talks"
    sent = make_issue(slug="issue-2", status="sent")
    response = editor_client.post(f"/admin/events/issue/{sent.id}", data={"heading": "Late"})
    assert response.status_code == 400 and "only drafts" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Issue, sent.id).events_heading is None
