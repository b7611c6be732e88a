"""The issue editor in real Chromium: create an issue, type Markdown with a
placeholder, see the preview and the placeholder list update, save with
Ctrl-S, reload, and find the text again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.db import db
from app.issues.models import Issue
from app.issues.service import save_issue
from tests.conftest import browser_login, screenshot
from tests.support.editor import expect_markdown, focus_editor, markdown_box

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
    markdown_box(page).wait_for()

    focus_editor(page)
    page.keyboard.type(TEXT)
    # The preview follows the unsaved text; the placeholder is listed with its line.
    page.wait_for_selector("#placeholder-list button:has-text('line 4: TODO')")
    assert page.locator("#placeholder-count").inner_text() == "1"
    assert page.locator(".cm-placeholder-mark").first.inner_text() == "TODO"
    email = page.frame_locator("#preview-email")
    email.locator("h1:has-text('Spring issue')").wait_for()
    page.click("button[data-tab=text]")
    page.wait_for_selector("#preview-text:has-text('Hello')")
    page.click("#mobile-toggle")
    assert "mobile" in page.locator(".editor-preview").get_attribute("class")
    assert page.locator("#mobile-toggle").get_attribute("aria-pressed") == "true"
    assert page.locator("#problem-list li.error").count() >= 1

    # Clicking the entry puts the cursor before the placeholder, in the focused editor.
    page.click("#placeholder-list button")
    page.keyboard.type("X")
    expect_markdown(page, TEXT.replace("TODO", "XTODO"))
    page.keyboard.press("Backspace")
    expect_markdown(page, TEXT)

    page.keyboard.press("Control+s")
    page.wait_for_selector("#save-state.saved:has-text('Saved')")
    page.reload()
    assert page.locator("#f-body").input_value() == TEXT
    expect(markdown_box(page)).to_contain_text("Hello *readers*.")
    assert int(page.locator("#f-version").input_value()) >= 2
    screenshot(page, "issue-editor")

    # Someone else saves meanwhile: the next autosave is refused and says so; the text stays.
    issue = db.session.scalar(select(Issue))
    save_issue(issue, base_version=issue.version, user=users["editor2"], body="Their text\n")
    focus_editor(page, at_end=True)
    page.keyboard.type("More of mine.")
    page.wait_for_selector("#save-state.conflict")
    assert "changed by editor2@example.com" in page.locator("#editor-message").inner_text()
    expect_markdown(page, TEXT + "More of mine.")
    assert page.js_errors == []
