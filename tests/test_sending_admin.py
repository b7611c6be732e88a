"""Admin pages for sends: schedule with confirmation, live status, controls."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.db import db, utcnow
from app.sending import service
from app.sending.models import Send
from app.sending.worker import worker_for
from app.settings import set_setting
from tests.conftest import browser_login, screenshot
from tests.support.sending import make_issue, make_list


class TextById(HTMLParser):
    """Text content of every element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "br", "meta", "link", "img"):
            return
        ident = dict(attrs).get("id")
        self.stack.append(ident)
        if ident:
            self.text[ident] = ""

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for ident in self.stack:
            if ident:
                self.text[ident] += data


def texts(html: str) -> dict[str, str]:
    parser = TextById()
    parser.feed(html)
    return {key: " ".join(value.split()) for key, value in parser.text.items()}


def test_schedule_flow_confirms_then_stores_utc(app, admin_client):
    issue = make_issue()
    readers = make_list("Readers", 12)
    make_list("Friends", 4, start=10)  # r10, r11 on both lists
    friends = db.session.scalar(select(type(readers)).where(type(readers).name == "Friends"))
    set_setting("reader_timezone", "Europe/Paris")
    assert f'<option value="{issue.id}">' in admin_client.get("/admin/sends").text
    page = admin_client.get(f"/admin/sends/new?issue={issue.id}")
    assert page.status_code == 200 and 'name="timezone" value="Europe/Paris"' in page.text
    form = {
        "issue": issue.id,
        "list": [readers.id, friends.id],
        "when": "later",
        "at": "2031-07-01T09:30",
        "timezone": "Europe/Paris",
    }
    confirm = admin_client.post("/admin/sends/new", data=form)
    shown = texts(confirm.text)
    assert confirm.status_code == 200
    assert shown["confirm-recipients"] == "14"
    assert shown["confirm-duration"] == "1 s"  # 14 recipients at the default 50/s
    assert "not known" in shown["confirm-quota"]
    assert db.session.scalar(select(Send.id)) is None  # nothing written before confirming
    done = admin_client.post("/admin/sends/new", data={**form, "step": "create"})
    assert done.status_code == 303
    send = db.session.scalar(select(Send))
    assert send.scheduled_at == datetime(2031, 7, 1, 7, 30)  # CEST is UTC+2
    assert send.timezone == "Europe/Paris"
    set_setting("reader_timezone", "America/New_York")  # the send keeps the zone it was chosen in
    detail = admin_client.get(done.headers["Location"])
    shown = texts(detail.text)
    assert "2031-07-01 09:30 CEST" in shown["send-when"] and "in Europe/Paris" in shown["send-when"]
    assert shown["send-when-utc"] == "2031-07-01 07:30 UTC"


def test_schedule_refusals_are_422_with_a_message(app, admin_client, editor_client):
    issue = make_issue(status="draft")
    readers = make_list("Readers", 2)
    set_setting("require_approval", True)
    response = admin_client.post("/admin/sends/new", data={"issue": issue.id, "list": [readers.id], "timezone": "UTC"})
    assert response.status_code == 422 and "approved" in response.text
    set_setting("require_approval", False)
    response = admin_client.post(
        "/admin/sends/new",
        data={"issue": issue.id, "list": [readers.id], "at": "2031-03-30T02:30", "timezone": "Europe/Paris"},
    )
    assert response.status_code == 422 and "does not exist" in response.text
    response = admin_client.post("/admin/sends/new", data={"issue": issue.id, "timezone": "UTC"})
    assert response.status_code == 422 and "at least one list" in response.text
    assert admin_client.get("/admin/sends/new?issue=999").status_code == 404
    assert editor_client.get(f"/admin/sends/new?issue={issue.id}").status_code == 403  # sending is an admin's
    assert db.session.scalar(select(Send.id)) is None


def test_status_json_and_admin_only_controls(app, admin_client, editor_client):
    issue = make_issue()
    readers = make_list("Readers", 5)
    send = service.create_send(issue, [readers])
    db.session.commit()
    send_id = send.id
    service.start_send(send_id)
    db.session.commit()
    assert editor_client.post(f"/admin/sends/{send_id}/pause").status_code == 403
    assert admin_client.post(f"/admin/sends/{send_id}/pause").status_code == 303
    info = editor_client.get(f"/admin/sends/{send_id}/status.json").get_json()
    assert info["status"] == "paused" and info["counts"]["queued"] == 5 and info["rate"] == 0
    listing = editor_client.get("/admin/sends")
    assert f"/admin/sends/{send_id}" in listing.text
    assert admin_client.post(f"/admin/sends/{send_id}/resume").status_code == 303
    worker_for(app).run(once=True)
    info = editor_client.get(f"/admin/sends/{send_id}/status.json").get_json()
    assert info["status"] == "finished" and info["counts"]["sent"] == 5 and info["total"] == 5
    assert info["rate"] is None and info["eta_seconds"] is None  # over: no rate, no ETA
    assert '<td id="send-rate">—</td>' in admin_client.get(f"/admin/sends/{send_id}").text
    page = admin_client.post(f"/admin/sends/{send_id}/cancel", follow_redirects=True)
    assert "cannot be cancelled" in page.text
    assert admin_client.post(f"/admin/sends/{send_id}/explode").status_code == 404


@pytest.mark.browser
def test_send_page_updates_live(app, live_server, page, users):
    issue = make_issue()
    readers = make_list("Readers", 4)
    send = service.create_send(issue, [readers])
    db.session.commit()
    send_id = send.id
    service.start_send(send_id)
    db.session.commit()
    browser_login(page, live_server, "admin@example.com")
    page.goto(f"{live_server.url}/admin/sends/{send_id}")
    assert page.inner_text('td[data-state="queued"]') == "4"
    questions: list[str] = []
    answers = iter([False, True])  # first decline the question, then accept it

    def answer(dialog) -> None:
        questions.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", answer)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#send-status")).to_have_text("running")  # declined: nothing happened
    page.get_by_role("button", name="Pause").click()
    page.wait_for_selector("#send-status:has-text('paused')")
    assert questions == [f"Pause the send of “{issue.title}”? 4 recipients not yet sent wait until you resume."] * 2
    assert page.locator("#send-report").is_visible()
    page.get_by_role("button", name="Resume").click()
    page.wait_for_selector("#send-status:has-text('running')")
    worker_for(app).run(once=True)
    page.wait_for_selector('td[data-state="sent"]:has-text("4")')  # updated by polling, no reload
    assert page.inner_text("#send-status") == "finished"
    page.wait_for_selector("#send-rate:has-text('—')")
    expect(page.get_by_role("button", name="Pause")).to_be_hidden()  # the controls follow the state
    expect(page.get_by_role("button", name="Cancel send")).to_be_hidden()
    expect(page.locator("#send-over")).to_be_visible()
    expect(page.get_by_role("link", name="Report: deliveries, bounces, opens, clicks »")).to_be_visible()
    screenshot(page, "send-page")
    assert page.js_errors == []


def test_past_times_are_refused_in_the_chosen_zone_and_send_now_is_explicit(app, admin_client):
    issue = make_issue()
    readers = make_list("Readers", 3)
    set_setting("reader_timezone", "Asia/Tokyo")
    page = admin_client.get(f"/admin/sends/new?issue={issue.id}").text
    zones = re.findall(r'<option value="([^"]+)">', page.split('<datalist id="zones">')[1].split("</datalist>")[0])
    assert zones[0] == "UTC" and {"Europe/Berlin", "America/New_York", "Asia/Kolkata", "Europe/Kyiv"} <= set(zones)
    assert not {"Factory", "localtime", "US/Eastern", "GB", "Etc/GMT+5", "posixrules"} & set(zones)
    assert 'name="timezone" value="Asia/Tokyo"' in page  # the readers' zone is the default
    settings = admin_client.get("/admin/settings").text  # the readers' zone is picked from the same list
    offered = re.findall(
        r'<option value="([^"]+)">', settings.split('<datalist id="zones">')[1].split("</datalist>")[0]
    )
    assert offered == zones and 'name="reader_timezone" value="Asia/Tokyo" list="zones"' in settings
    assert '<input type="radio" name="when" value="now" checked>' in page

    form = {"issue": issue.id, "list": [readers.id], "when": "later", "at": "2026-01-05T09:00"}
    refused = admin_client.post("/admin/sends/new", data={**form, "timezone": "America/New_York"})
    assert refused.status_code == 422
    message = " ".join(re.sub(r"<[^>]+>", " ", refused.text).split())
    assert "2026-01-05 09:00 EST in America/New_York has already passed" in message
    assert "Choose a later time, or choose Send now." in message
    for step in ({}, {"step": "create"}):  # refused at review and at confirmation alike
        again = admin_client.post("/admin/sends/new", data={**form, **step, "timezone": "Europe/Paris"})
        assert again.status_code == 422 and "2026-01-05 09:00 CET in Europe/Paris has already passed" in again.text
    unknown = admin_client.post("/admin/sends/new", data={**form, "at": "2031-01-05T09:00", "timezone": "Mars/Olympus"})
    assert unknown.status_code == 422 and "Unknown time zone" in unknown.text
    empty = admin_client.post("/admin/sends/new", data={**form, "at": ""})
    assert empty.status_code == 422 and "or choose Send now" in empty.text
    assert db.session.scalar(select(Send.id)) is None

    now = {"issue": issue.id, "list": [readers.id], "when": "now", "at": "2026-01-05T09:00", "timezone": "UTC"}
    confirm = admin_client.post("/admin/sends/new", data=now)  # the stale time is ignored: now was chosen
    assert confirm.status_code == 200 and "Sends now" in texts(confirm.text)["send-confirmation"]
    assert admin_client.post("/admin/sends/new", data={**now, "step": "create"}).status_code == 303
    send = db.session.scalar(select(Send))
    assert send.timezone is None and abs((send.scheduled_at - utcnow()).total_seconds()) < 60


def test_control_forms_name_the_issue_and_the_recipients_left(app, admin_client):
    issue = make_issue()
    readers = make_list("Readers", 7)
    send = service.create_send(issue, [readers], at=utcnow() + timedelta(days=2), timezone="Europe/Paris")
    db.session.commit()
    page = admin_client.get(f"/admin/sends/{send.id}").text
    tags = {action: tag for tag, action in re.findall(r'(<form[^>]*action="/admin/sends/\d+/([a-z-]+)"[^>]*>)', page)}
    assert f"Cancel the send of “{issue.title}”? 7 recipients not yet sent will never get it." in html.unescape(
        tags["cancel"]
    )
    assert "hidden" not in tags["pause"] and "hidden" not in tags["cancel"]  # scheduled: both offered
    assert " hidden" in tags["resume"] and " hidden" in tags["resend-unknown"]
    assert 'id="send-report" hidden' in page  # not started: no report yet
