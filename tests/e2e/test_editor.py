"""The issue editor in real Chromium: create an issue, type Markdown with a
placeholder, see the preview and the placeholder list update, save with
Ctrl-S, reload, and find the text again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import db
from app.issues.models import Issue
from app.issues.service import save_issue
from tests.conftest import browser_login, screenshot

pytestmark = pytest.mark.browser

TEXT = "# Spring issue\n\nHello *readers*.\nTODO: add Ryan's article\n"


def test_create_type_preview_save_reload(live_server, page, users) -> None:
    browser_login(page, live_server, "editor@example.com")
    page.wait_for_selector("h1:has-text('Dashboard')")
    page.goto(f"{live_server.url}/admin/issues")
    page.click("a:has-text('New issue')")
    page.fill("#f-title", "Spring issue")
    page.fill("#f-subject", "Spring news")
    page.click("button:has-text('Create draft')")
    page.wait_for_selector("#f-body")

    page.click("#f-body")
    page.keyboard.type(TEXT)
    # The preview follows the unsaved text; the placeholder is listed with its line.
    page.wait_for_selector("#placeholder-list button:has-text('line 4: TODO')")
    assert page.locator("#placeholder-count").inner_text() == "1"
    assert page.locator("#editor-highlights mark").first.inner_text() == "TODO"
    email = page.frame_locator("#preview-email")
    email.locator("h1:has-text('Spring issue')").wait_for()
    page.click("button[data-tab=text]")
    page.wait_for_selector("#preview-text:has-text('Hello')")
    page.click("#mobile-toggle")
    assert "mobile" in page.locator(".editor-preview").get_attribute("class")
    assert page.locator("#problem-list li.error").count() >= 1

    # Clicking the entry moves the cursor to that line.
    page.click("#placeholder-list button")
    cursor = page.evaluate("document.getElementById('f-body').selectionStart")
    assert TEXT[cursor:].startswith("TODO")

    page.keyboard.press("Control+s")
    page.wait_for_selector("#save-state.saved:has-text('Saved')")
    page.reload()
    assert page.locator("#f-body").input_value() == TEXT
    assert int(page.locator("#f-version").input_value()) >= 2
    screenshot(page, "issue-editor")

    # Someone else saves meanwhile: the next autosave is refused and says so; the text stays.
    issue = db.session.scalar(select(Issue))
    save_issue(issue, base_version=issue.version, user=users["editor2"], body="Their text\n")
    page.click("#f-body")
    page.keyboard.press("Control+End")
    page.keyboard.type("More of mine.")
    page.wait_for_selector("#save-state.conflict")
    assert "changed by editor2@example.com" in page.locator("#editor-message").inner_text()
    assert page.locator("#f-body").input_value() == TEXT + "More of mine."
    assert page.js_errors == []
