"""Issues as a collection and sending from the editor, clicked in real Chromium:
search, auto-suffixed slugs, Duplicate, Save as template and a new issue from it,
Delete behind a confirmation that names the issue, an edit that clears approval
saying so at once, a past schedule refused in the chosen zone, and Cancel asking
first with the number of recipients not yet sent. axe-core checks each page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.db import db, utcnow
from app.issues import lifecycle
from app.issues.models import Issue, IssueTemplate
from app.issues.service import create_issue
from app.sending import service
from app.sending.models import Send
from app.settings import set_setting
from tests.conftest import browser_login, screenshot
from tests.support.axe import assert_no_serious_violations
from tests.support.editor import markdown_box, replace_markdown
from tests.support.sending import make_issue, make_list

pytestmark = pytest.mark.browser


def answer_dialogs(page, accept: list[bool]) -> list[str]:
    """Answer window.confirm in turn with ``accept``; return the questions asked."""
    asked: list[str] = []
    answers = iter(accept)

    def on_dialog(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept() if next(answers, True) else dialog.dismiss()

    page.on("dialog", on_dialog)
    return asked


def test_search_new_issue_slug_duplicate_template_and_delete(live_server, axe_page, users) -> None:
    page = axe_page
    editor = users["editor"]
    create_issue("Weekly notes", user=editor, body="All about probabilistic programming.")
    create_issue("Model interpretability", user=editor, body="LIME and SHAP explained.")
    db.session.commit()
    browser_login(page, live_server, "editor@example.com")
    page.goto(f"{live_server.url}/admin/issues")

    page.get_by_label("Search issues").fill("probabilistic")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#issue-count")).to_have_text("1 issue matching “probabilistic”")
    expect(page.locator(".issues-table tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Weekly notes")).to_be_visible()
    assert_no_serious_violations(page)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"issues-search-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A second "Weekly notes" is not refused: it publishes under weekly-notes-2, and says so.
    page.get_by_role("link", name="New issue").click()
    page.get_by_label("Title").fill("Weekly notes")
    page.get_by_role("button", name="Create draft").click()
    markdown_box(page).wait_for()
    expect(page.locator("#publish-url")).to_have_text("/issues/weekly-notes-2")
    replace_markdown(page, "## This week\n\nTODO: add this week's article\n")
    expect(page.locator("#save-state")).to_have_text("Saved", timeout=10000)
    second_id = int(re.search(r"/admin/issues/(\d+)", page.url).group(1))
    assert_no_serious_violations(page)

    page.get_by_label("Template name").fill("Weekly")
    page.get_by_role("button", name="Save as template").click()
    expect(page.locator(".flash-success")).to_contain_text("Weekly")
    page.get_by_role("button", name="Duplicate").click()
    markdown_box(page).wait_for()
    expect(page.locator("h1")).to_have_text("Weekly notes (copy)")
    expect(page.locator("#issue-status")).to_have_text("draft")
    expect(page.locator(".cm-content")).to_contain_text("TODO: add this week's article")

    page.goto(f"{live_server.url}/admin/issues/new")
    page.get_by_label("The template “Weekly”").check()
    page.get_by_label("Title").fill("Week 3")
    assert_no_serious_violations(page)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"issue-new-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Create draft").click()
    markdown_box(page).wait_for()
    expect(page.locator("h1")).to_have_text("Week 3")
    expect(page.locator(".cm-content")).to_contain_text("TODO: add this week's article")  # the template's TODO stays
    expect(page.locator("#placeholder-count")).to_have_text("1")

    # Delete asks first, naming the issue; declining keeps it.
    page.goto(f"{live_server.url}/admin/issues/{second_id}")
    markdown_box(page).wait_for()
    asked = answer_dialogs(page, [False, True])
    page.get_by_role("button", name="Delete").click()
    page.wait_for_timeout(300)
    assert db.session.get(Issue, second_id) is not None
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".flash-success")).to_contain_text("Deleted “Weekly notes”")
    assert asked == ["Delete “Weekly notes”? Its text and revisions are removed; this cannot be undone."] * 2
    db.session.expire_all()
    assert db.session.get(Issue, second_id) is None
    assert db.session.query(IssueTemplate).count() == 1  # the template outlives the issue it came from
    assert page.js_errors == []


def test_an_edit_that_clears_approval_says_so_at_once(live_server, page, users) -> None:
    readers = make_list("Readers", 2)
    issue = create_issue("Approved", user=users["editor"], body="Ready to go.", lists=[readers])
    lifecycle.approve(issue, users["admin"], base_version=issue.version)
    db.session.commit()
    browser_login(page, live_server, "admin@example.com")
    page.goto(f"{live_server.url}/admin/issues/{issue.id}")
    markdown_box(page).wait_for()
    expect(page.locator("#workflow-panels")).to_contain_text("Approved by admin@example.com")
    expect(page.locator("#send-button")).to_be_enabled()
    replace_markdown(page, "Ready to go, with one more line.")
    expect(page.locator("#approval-cleared")).to_contain_text("Your edit cleared the approval")
    expect(page.locator("#issue-status")).to_have_text("draft")
    expect(page.locator("#send-reason")).to_contain_text("must be approved")  # the send card follows too
    expect(page.locator("#approve-button")).to_be_disabled()  # the admin edited it: someone else approves
    screenshot(page, "editor-approval-cleared")
    assert page.js_errors == []


def test_past_schedule_refused_and_cancel_asks_first(app, live_server, axe_page, users) -> None:
    page = axe_page
    issue = make_issue()
    make_list("Readers", 6)
    set_setting("reader_timezone", "Europe/Paris")
    browser_login(page, live_server, "admin@example.com")
    page.goto(f"{live_server.url}/admin/sends/new?issue={issue.id}")
    expect(page.get_by_label("Date and time", exact=True)).to_be_hidden()  # Send now is chosen until Schedule is
    page.get_by_label("Readers").check()
    page.get_by_label("Schedule for a date and time").check()
    page.get_by_label("Date and time", exact=True).fill("2026-01-05T09:00")
    expect(page.get_by_label("Time zone of that time")).to_have_value("Europe/Paris")
    page.get_by_label("Time zone of that time").fill("America/New_York")
    assert_no_serious_violations(page)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"send-new-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Review").click()
    expect(page.locator(".flash-error")).to_contain_text("2026-01-05 09:00 EST in America/New_York has already passed")
    expect(page.get_by_label("Schedule for a date and time")).to_be_checked()  # the form keeps the choice
    expect(page.get_by_label("Time zone of that time")).to_have_value("America/New_York")
    expect(page.get_by_label("Readers")).to_be_checked()

    later = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT09:00")
    page.get_by_label("Date and time", exact=True).fill(later)
    page.get_by_role("button", name="Review").click()
    expect(page.locator("#send-confirmation")).to_contain_text("09:00 EST in America/New_York")
    page.get_by_role("button", name="Schedule the send").click()
    expect(page.locator("#send-when")).to_contain_text("09:00 EST")
    expect(page.locator("#send-when-utc")).to_contain_text("14:00 UTC")
    assert_no_serious_violations(page)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"send-detail-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})

    asked = answer_dialogs(page, [False, True])
    page.get_by_role("button", name="Cancel send").click()
    page.wait_for_timeout(300)
    send = db.session.query(Send).one()
    assert send.status == "scheduled"  # declined: still scheduled
    page.get_by_role("button", name="Cancel send").click()
    expect(page.locator("#send-status")).to_have_text("cancelled")
    question = (
        f"Cancel the send of “{issue.title}”? 6 recipients not yet sent will never get it. This cannot be undone."
    )
    assert asked == [question, question]
    expect(page.get_by_role("button", name="Cancel send")).to_be_hidden()
    assert service.counts(db.session.get(Send, send.id))["sent"] == 0
    assert page.js_errors == []
