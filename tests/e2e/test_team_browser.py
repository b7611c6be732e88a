"""A contributor's day in Chromium: the dashboard says what waits on them, the
link opens the editor on the placeholder's line, the page has nothing they
cannot use, and axe finds no serious violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.auth.service import create_user
from app.db import db
from app.issues.service import create_issue
from tests.conftest import PASSWORD, browser_login, screenshots
from tests.support.axe import violations

pytestmark = pytest.mark.browser

BODY = "## Intro\n\nWelcome.\n\nTODO(@ryan): add the licensing article\n\n* TODO @micha: research article\n"


def test_contributor_follows_waiting_on_you_to_the_line(app, live_server, axe_page, users) -> None:
    create_user("ryan@example.com", PASSWORD, "contributor", "Ryan Writer")
    issue = create_issue("December issue", user=users["editor"], body=BODY)
    db.session.commit()
    page = axe_page
    browser_login(page, live_server, "ryan@example.com")
    page.goto(f"{live_server.url}/admin/")
    item = page.locator("#waiting-on-you a")
    expect(item).to_have_text("December issue, line 5")
    nav = page.locator("nav").first.inner_text()
    assert "Subscribers" not in nav and "Sends" not in nav and "Issues" in nav
    assert [v for v in violations(page) if v["impact"] in ("critical", "serious")] == []
    screenshots(page, "team-dashboard-contributor")

    item.click()
    page.wait_for_url(f"**/admin/issues/{issue.id}#line-5")
    expect(page.locator(".cm-activeLine")).to_have_text("TODO(@ryan): add the licensing article")
    expect(page.locator("#placeholder-list")).to_contain_text("@ryan (Ryan Writer)")
    expect(page.locator("#placeholder-list")).to_contain_text("@micha (no user has this handle)")
    expect(page.locator("#approve-reason")).to_have_text("Contributors write drafts; an editor approves them.")
    assert page.locator("#test-send-form").count() == 0
    assert [v for v in violations(page) if v["impact"] in ("critical", "serious")] == []
    screenshots(page, "team-editor-contributor")


def test_editor_comments_on_lines_and_resolves(app, live_server, axe_page, users) -> None:
    issue = create_issue("December issue", user=users["editor"], body=BODY)
    db.session.commit()
    page = axe_page
    browser_login(page, live_server, "editor@example.com")
    page.goto(f"{live_server.url}/admin/issues/{issue.id}#line-3")
    expect(page.locator("#comment-count")).to_have_text("0")
    expect(page.locator(".cm-activeLine")).to_have_text("Welcome.")
    page.click("#comment-button")
    expect(page.locator("#comment-lines")).to_have_text("line 3")
    page.fill("#comment-body", "Warmer, please. @ryan")
    page.locator("#comment-dialog button[type=submit]").click()
    expect(page.locator("#comment-count")).to_have_text("1")
    expect(page.locator("#comment-list li")).to_contain_text("line 3 Eddie Editor: Warmer, please. @ryan")
    expect(page.locator(".cm-comment-marker")).to_have_count(1)
    assert page.locator(".cm-comment-marker").get_attribute("title") == "Eddie Editor: Warmer, please. @ryan"
    assert [v for v in violations(page) if v["impact"] in ("critical", "serious")] == []
    screenshots(page, "team-editor-comment")
    page.get_by_role("button", name="Resolve the comment on line 3").click()
    expect(page.locator("#comment-count")).to_have_text("0")
    expect(page.locator(".cm-comment-marker")).to_have_count(0)


def test_the_editor_confirms_a_proposed_owner_with_one_click(app, live_server, page, users) -> None:
    create_user("ryan@example.com", PASSWORD, "contributor", "Ryan Writer")
    issue = create_issue("December issue", user=users["editor"], body="## Intro\n\nTODO: add Ryan's article\n")
    db.session.commit()
    browser_login(page, live_server, "editor@example.com")
    page.goto(f"{live_server.url}/admin/issues/{issue.id}")
    page.get_by_role("button", name="Assign to @ryan (Ryan Writer)?").click()
    expect(page.locator(".cm-content")).to_contain_text("TODO(@ryan): add Ryan's article")
    expect(page.locator("#placeholder-list")).to_contain_text("@ryan (Ryan Writer)")
    expect(page.locator("#save-state")).to_have_text("Saved", timeout=15_000)
    db.session.expire_all()
    db.session.refresh(issue)
    assert "TODO(@ryan): add Ryan's article" in issue.body
