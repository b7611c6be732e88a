"""Writing in the CodeMirror editor in real Chromium: formatting shortcuts and the
toolbar (undoable like typing), the link dialog, Tab on list items, find and replace,
jumping to a preflight problem, and text kept in localStorage across a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.db import db
from app.issues.models import Issue
from tests.conftest import browser_login
from tests.support.editor import expect_markdown, focus_editor, markdown_box

pytestmark = pytest.mark.browser


def open_issue(page, live_server, body: str) -> int:
    issue = Issue(slug="writing", title="Writing", subject="Writing", body=body, excluded_event_ids=[])
    db.session.add(issue)
    db.session.commit()
    browser_login(page, live_server, "editor@example.com")
    page.wait_for_selector("h1:has-text('Dashboard')")
    page.goto(f"{live_server.url}/admin/issues/{issue.id}")
    markdown_box(page).wait_for()
    return issue.id


def select_back(page, characters: int) -> None:
    for _ in range(characters):
        page.keyboard.press("Shift+ArrowLeft")


def test_bold_italic_link_shortcuts_and_undo(live_server, page, users) -> None:
    open_issue(page, live_server, "")
    focus_editor(page)
    page.keyboard.type("Read the report today")
    select_back(page, len("today"))
    page.keyboard.press("Control+b")
    expect_markdown(page, "Read the report **today**")
    page.keyboard.press("Control+i")
    expect_markdown(page, "Read the report ***today***")
    page.keyboard.press("Control+z")  # one undo step per formatting action
    expect_markdown(page, "Read the report **today**")
    page.keyboard.press("Control+Shift+Z")  # as a keyboard sends it: key "Z"
    expect_markdown(page, "Read the report ***today***")
    page.keyboard.press("Control+i")  # toggles off again
    page.keyboard.press("Control+b")
    expect_markdown(page, "Read the report today")

    # Ctrl-K wraps the selection and asks for the URL in a dialog of the page.
    page.keyboard.press("End")
    select_back(page, len("report today"))
    page.keyboard.press("Control+k")
    dialog = page.get_by_role("dialog", name="Link")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Text")).to_have_value("report today")
    expect(dialog.get_by_label("URL")).to_be_focused()
    page.keyboard.type("https://example.com/report")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect_markdown(page, "Read the [report today](https://example.com/report)")
    page.keyboard.type(".")  # the cursor is after the link, in the editor
    expect_markdown(page, "Read the [report today](https://example.com/report).")

    # Esc cancels the dialog and changes nothing.
    page.keyboard.press("Control+k")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect_markdown(page, "Read the [report today](https://example.com/report).")
    assert page.js_errors == []


def test_toolbar_lists_rule_events_and_tooltips(live_server, page, users) -> None:
    open_issue(page, live_server, "First point\nSecond point\n\nClosing words.")
    toolbar = page.get_by_role("toolbar", name="Formatting")
    bold = toolbar.get_by_role("button", name="Bold")
    assert bold.get_attribute("title") == "Bold (Ctrl+B)"
    assert bold.get_attribute("aria-keyshortcuts") == "Control+B"

    focus_editor(page)
    page.keyboard.press("Control+Home")
    page.keyboard.press("Shift+ArrowDown")
    toolbar.get_by_role("button", name="Bulleted list").click()
    expect_markdown(page, "* First point\n* Second point\n\nClosing words.")
    toolbar.get_by_role("button", name="Numbered list").click()
    expect_markdown(page, "1. First point\n2. Second point\n\nClosing words.")
    page.keyboard.press("Control+z")
    expect_markdown(page, "* First point\n* Second point\n\nClosing words.")

    page.keyboard.press("Control+End")
    page.keyboard.press("Home")
    toolbar.get_by_role("button", name="Heading").click()
    expect_markdown(page, "* First point\n* Second point\n\n## Closing words.")
    page.keyboard.press("Control+z")
    # A rule after the list: its own line with a blank line on each side.
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")
    toolbar.get_by_role("button", name="Section rule (---)").click()
    expect_markdown(page, "* First point\n* Second point\n\n---\n\nClosing words.")
    toolbar.get_by_role("button", name="Upcoming events section ([[events]])").click()
    expect_markdown(page, "* First point\n* Second point\n\n---\n\n[[events]]\n\nClosing words.")
    expect(page.locator(".cm-events-line")).to_have_count(1)
    # The arrow keys move between toolbar buttons (one tab stop).
    bold.focus()
    page.keyboard.press("ArrowRight")
    expect(toolbar.get_by_role("button", name="Italic")).to_be_focused()
    assert page.js_errors == []


def test_tab_indents_list_items_and_esc_tab_leaves(live_server, page, users) -> None:
    open_issue(page, live_server, "")
    focus_editor(page)
    page.keyboard.type("* one\ntwo")  # Enter continues the list
    expect_markdown(page, "* one\n* two")
    page.keyboard.press("Tab")
    expect_markdown(page, "* one\n    * two")
    assert page.evaluate("document.activeElement.classList.contains('cm-content')")
    page.keyboard.press("Shift+Tab")
    expect_markdown(page, "* one\n* two")
    # Esc then Tab moves focus on, as CodeMirror documents for keyboard users.
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert not page.evaluate("document.activeElement.classList.contains('cm-content')")
    expect_markdown(page, "* one\n* two")


def test_find_and_replace(live_server, page, users) -> None:
    open_issue(page, live_server, "The colour of the sky.\nAnother colour here.\n")
    focus_editor(page)
    page.keyboard.press("Control+f")
    page.get_by_role("textbox", name="Find").fill("colour")
    page.get_by_role("textbox", name="Replace").fill("color")
    page.get_by_role("button", name="replace all").click()
    expect_markdown(page, "The color of the sky.\nAnother color here.\n")
    page.keyboard.press("Escape")  # closes the panel, focus back in the text
    expect(page.get_by_role("textbox", name="Find")).to_have_count(0)
    page.keyboard.press("Control+z")
    expect_markdown(page, "The colour of the sky.\nAnother colour here.\n")


def test_click_preflight_problem_puts_cursor_on_its_line(live_server, page, users) -> None:
    body = "Intro.\n\nSee [the study](http://example.com/study).\n\nTODO: the end.\n"
    open_issue(page, live_server, body)
    problem = page.locator("#problem-list li.warning button", has_text="line 3")
    expect(problem).to_be_visible()
    expect(page.locator(".cm-problem-marker.warning")).to_have_count(1)
    problem.click()  # the http link starts at "[" on line 3
    page.keyboard.type("@")
    expect_markdown(page, body.replace("See [", "See @["))
    # The placeholder on line 5 is listed, decorated and explained on hover.
    page.locator("#placeholder-list button", has_text="line 5: TODO").click()
    page.keyboard.type("!")
    expect_markdown(page, body.replace("See [", "See @[").replace("TODO: the", "!TODO: the"))
    mark = page.locator(".cm-placeholder-mark", has_text="TODO")
    mark.hover()
    expect(page.locator(".cm-placeholder-tip")).to_contain_text("Sending is blocked")


def test_unsaved_text_survives_a_reload_when_saves_fail(live_server, page, users) -> None:
    issue_id = open_issue(page, live_server, "Saved text.\n")
    page.route("**/autosave", lambda route: route.abort())  # offline: every save fails
    page.on("dialog", lambda dialog: dialog.accept())  # "leave page?" on reload
    focus_editor(page, at_end=True)
    page.keyboard.type("Typed while offline.")
    expect(page.locator("#save-state")).to_have_text("Not saved (offline?)")
    keys = page.evaluate("Object.keys(localStorage)")
    assert keys == [f"pressroom:draft:{issue_id}:1"]

    page.reload()
    markdown_box(page).wait_for()
    banner = page.get_by_role("region", name="Unsaved text kept in this browser")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("kept text you had not saved (today at")
    expect_markdown(page, "Saved text.\n")
    page.unroute("**/autosave")
    banner.get_by_role("button", name="Restore").click()
    expect(banner).to_be_hidden()
    expect_markdown(page, "Saved text.\nTyped while offline.")
    expect(page.locator("#save-state")).to_have_text("Saved")
    # Saved for real now: nothing left to offer.
    page.wait_for_function("() => Object.keys(localStorage).length === 0")
    db.session.expire_all()
    assert db.session.get(Issue, issue_id).body == "Saved text.\nTyped while offline."

    page.reload()
    markdown_box(page).wait_for()
    expect(banner).to_be_hidden()
    assert page.js_errors == []


def test_discard_drops_the_kept_text(live_server, page, users) -> None:
    issue_id = open_issue(page, live_server, "Saved text.\n")
    page.evaluate(
        """(key) => localStorage.setItem(key, JSON.stringify(
        {body: 'Older idea.\\n', title: 'Writing', version: 1, keptAt: Date.now() - 86400000}))""",
        f"pressroom:draft:{issue_id}:1",
    )
    page.reload()
    banner = page.get_by_role("region", name="Unsaved text kept in this browser")
    expect(banner).to_contain_text("kept text you had not saved (on ")
    banner.get_by_role("button", name="Discard").click()
    expect(banner).to_be_hidden()
    expect_markdown(page, "Saved text.\n")
    assert page.evaluate("Object.keys(localStorage)") == []


def test_sent_issue_is_shown_read_only(live_server, page, users) -> None:
    issue = Issue(
        slug="sent",
        title="Sent",
        subject="Sent",
        body="## Sent text\n\nTODO left.\n",
        status="sent",
        excluded_event_ids=[],
    )
    db.session.add(issue)
    db.session.commit()
    browser_login(page, live_server, "editor@example.com")
    page.wait_for_selector("h1:has-text('Dashboard')")
    page.goto(f"{live_server.url}/admin/issues/{issue.id}")
    box = markdown_box(page)
    expect(box).to_have_attribute("aria-readonly", "true")
    expect(page.get_by_role("toolbar", name="Formatting")).to_have_count(0)
    focus_editor(page, at_end=True)
    page.keyboard.type("more")
    expect(box).to_contain_text("TODO left.")
    expect(box).not_to_contain_text("more")
    expect(page.locator(".cm-placeholder-mark")).to_have_text("TODO")
    expect(page.locator("#save-state")).to_have_text("Saved")
    assert page.js_errors == []


PLACEHOLDER_LINES = [
    "TODO: add Ryan's article",
    "the date is still TBD",
    "my todo list",
    "### Aspirational TODOS",
    "* TBD",
    "Date: TBD",
    "(TODO write intro)",
    "**TBD**",
    "[todo]",
    "(tbd)",
    "see https://x.example/TODO",
    "TK TK",
    "[link]()",
    "[link](#)",
    "##TODO: add updates",
    "  > 1. FIXME later",
    "tbd: later",
    "Nothing here",
    "TODOS",
    "a TODO in a sentence",
    "TODO(@ryan): add the licensing article",
    "Also todo(@ann): links",
    "then tbd @micha.k: numbers",
    "TODO @ryan add (no colon: a marker by its capitals, no owner)",
    "mail me @ryan: not a marker",
]


def test_editor_and_server_agree_on_placeholders(live_server, page, users) -> None:
    """The editor decorates placeholders as they are typed with its own copy of the
    rules: it must find exactly what the server's preflight finds."""
    from app.rendering.placeholders import scan_line
    from tests.conftest import CORPUS

    lines = list(PLACEHOLDER_LINES)
    drafts = CORPUS / "ffl" / "drafts"
    if drafts.is_dir():
        for path in sorted(drafts.rglob("*"))[:40]:
            if path.is_file():
                lines += [line for line in path.read_text(errors="replace").split("\n") if line.strip()][:80]
    open_issue(page, live_server, "Body\n")
    found = page.evaluate(
        """async (lines) => {
        const text = await import('/static/admin/editor/text.js');
        return lines.map((line) => text.scanLine(line).map((p) => [p.from + 1, p.code, p.text]));
    }""",
        lines,
    )
    expected = [[[p.col, p.code, p.text] for p in scan_line(line, 1)] for line in lines]
    # Columns: Python counts code points, JavaScript UTF-16 units; compare ASCII-only lines by column.
    for line, got, want in zip(lines, found, expected, strict=True):
        if line.isascii():
            assert got == want, line
        else:
            assert [g[1:] for g in got] == [w[1:] for w in want], line
