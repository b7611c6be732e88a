"""The editor's preview and layout in real Chromium: scroll sync by headings, phone
frame and dark mode, the pop-out window kept live by postMessage, no horizontal
clipping of a real archive issue, and axe-core's verdict (0 critical, 0 serious) at
1280 and 375 px, with screenshots of both widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.db import db
from app.demo_content import load_demo_content
from app.issues.models import Issue
from tests.conftest import browser_login, needs_corpus, screenshot
from tests.support.axe import assert_no_serious_violations
from tests.support.corpus_demo import load_corpus_demo
from tests.support.editor import focus_editor, markdown_box

pytestmark = pytest.mark.browser

SEED_SLUG = "2018-09-12-client"
PARAGRAPH = "Some sentences about the section, long enough to wrap over a line or two. " * 3


def long_body() -> str:
    sections = []
    for n in range(1, 13):
        extra = "TODO: check this figure.\n\n" if n == 9 else ""
        sections.append(f"## Section {n}\n\n" + extra + "\n\n".join([PARAGRAPH] * 4) + "\n")
    return "\n".join(sections)


def open_issue(page, live_server, body: str, slug: str = "preview") -> int:
    issue = Issue(slug=slug, title="Preview", subject="Preview", body=body, excluded_event_ids=[])
    db.session.add(issue)
    db.session.commit()
    return open_existing(page, live_server, issue.id)


def open_existing(page, live_server, issue_id: int) -> int:
    browser_login(page, live_server, "editor@example.com")
    page.wait_for_selector("h1:has-text('Dashboard')")
    page.goto(f"{live_server.url}/admin/issues/{issue_id}")
    markdown_box(page).wait_for()
    return issue_id


def heading_top(page, text: str) -> float:
    """Where a heading of the email preview is, relative to the frame's visible area (0..1)."""
    return (
        page.frame_locator("#preview-email")
        .get_by_role("heading", name=text, exact=True)
        .evaluate("(el) => el.getBoundingClientRect().top / el.ownerDocument.defaultView.innerHeight")
    )


def test_preview_follows_the_editor_by_headings(live_server, page, users) -> None:
    open_issue(page, live_server, long_body())
    page.frame_locator("#preview-email").get_by_role("heading", name="Section 12").wait_for()
    assert heading_top(page, "Section 1") < 1
    # Jumping to the placeholder in section 9 scrolls the text; the preview follows.
    page.locator("#placeholder-list button", has_text="TODO").click()
    page.wait_for_function("""() => {
        const d = document.getElementById('preview-email').contentDocument;
        const h = Array.from(d.querySelectorAll('h2')).find((e) => e.textContent === 'Section 9');
        const top = h.getBoundingClientRect().top;
        return top > -d.defaultView.innerHeight && top < d.defaultView.innerHeight;
    }""")
    assert heading_top(page, "Section 1") < 0  # scrolled away from the start
    # Back to the top of the text: the preview is back at its top.
    page.keyboard.press("Control+Home")
    page.wait_for_function("() => document.getElementById('preview-email').contentWindow.scrollY === 0")
    assert page.js_errors == []


@needs_corpus
def test_phone_frame_dark_mode_and_no_clipping(live_server, page, users) -> None:
    load_corpus_demo()
    seed = db.session.scalar(select(Issue).where(Issue.slug == SEED_SLUG))
    open_existing(page, live_server, seed.id)
    email = page.frame_locator("#preview-email")
    email.locator("img").first.wait_for()
    fits = "(el) => { const d = el.ownerDocument.documentElement; return d.scrollWidth <= d.clientWidth; }"
    page.wait_for_function(
        "() => Array.from(document.getElementById('preview-email').contentDocument.images).every((i) => i.complete)"
    )
    assert email.locator("body").evaluate(fits), "the email is wider than the preview"
    # Long URLs in the side panel are shortened; the full message is the tooltip.
    entry = page.locator("#problem-list button", has_text="gan-1536758013486.png has no alt text")
    expect(entry).to_have_text("line 15: image …/gan-1536758013486.png has no alt text")
    assert entry.get_attribute("title") == (
        f"image {live_server.url}/images/2018/09/gan-1536758013486.png has no alt text"
    )

    page.get_by_role("button", name="Phone").click()
    expect(page.get_by_role("button", name="Phone")).to_have_attribute("aria-pressed", "true")
    assert page.locator("#preview-email").evaluate("(f) => f.getBoundingClientRect().width") == 375
    assert email.locator("body").evaluate(fits), "the email is wider than a 375 px phone"

    outer = "(el) => getComputedStyle(el).backgroundColor"
    assert email.locator(".outer").evaluate(outer) == "rgb(242, 242, 242)"
    page.get_by_role("button", name="Dark").click()
    expect(email.locator(".outer")).to_have_css("background-color", "rgb(17, 17, 17)")
    page.get_by_role("tab", name="Web").click()
    expect(page.get_by_role("tab", name="Web")).to_have_attribute("aria-selected", "true")
    web_body = page.frame_locator("#preview-web").locator("body")
    expect(web_body).to_have_css("background-color", "rgb(22, 22, 21)")
    page.get_by_role("tab", name="Web").press("ArrowRight")  # arrow keys move between tabs
    expect(page.get_by_role("tab", name="Plain text")).to_be_focused()
    expect(page.locator("#preview-text")).to_contain_text("Realistic Video Generation")
    assert page.js_errors == []


def test_pop_out_window_shows_saved_then_live_text(live_server, page, users) -> None:
    open_issue(page, live_server, "## Saved heading\n\nSaved paragraph.\n")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Pop out").click()
    popup = opened.value
    popup.wait_for_load_state()
    frame = popup.frame_locator("#preview-email")
    expect(frame.locator("h2")).to_have_text("Saved heading")
    assert popup.viewport_size is None or popup.evaluate("innerWidth") >= 660
    focus_editor(page, at_end=True)
    page.keyboard.type("\n## Typed heading\n")
    expect(frame.locator("h2", has_text="Typed heading")).to_be_visible()
    expect(popup.locator("#preview-window-state")).to_contain_text("live")
    popup.get_by_role("button", name="Dark").click()
    expect(frame.locator(".outer")).to_have_css("background-color", "rgb(17, 17, 17)")
    assert page.js_errors == []


@pytest.mark.parametrize("width", [1280, 375])
def test_editor_page_has_no_serious_accessibility_violations(live_server, axe_page, users, width) -> None:
    load_demo_content()
    seed = db.session.scalars(select(Issue).where(Issue.status == "draft")).one()  # the demo's draft
    axe_page.set_viewport_size({"width": width, "height": 900})
    open_existing(axe_page, live_server, seed.id)
    axe_page.frame_locator("#preview-email").locator("img").first.wait_for()
    expect(axe_page.locator(".cm-problem-marker[title*='unfinished placeholder']")).to_have_count(2)  # its two TODOs
    screenshot(axe_page, f"editor-{width}")
    assert_no_serious_violations(axe_page)
    # The dialogs too, as they open.
    focus_editor(axe_page)
    axe_page.keyboard.press("Control+k")
    expect(axe_page.get_by_role("dialog", name="Link")).to_be_visible()
    assert_no_serious_violations(axe_page)
    axe_page.keyboard.press("Escape")
    axe_page.keyboard.press("Control+f")
    expect(axe_page.get_by_role("textbox", name="Find")).to_be_visible()
    assert_no_serious_violations(axe_page)
    assert axe_page.js_errors == []
