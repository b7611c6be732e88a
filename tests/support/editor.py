"""Driving the issue editor (CodeMirror 6) in the browser tests the way a person does:
click into the text labelled "Markdown", type, use the shortcuts. The form's
<textarea name="body"> stays in the DOM, hidden, and receives the text a moment after
typing stops, so assertions on the text poll it with ``expect(...).to_have_value``."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect


def markdown_box(page: Any) -> Any:
    """The editable text, found by its accessible name as a screen reader would. Before
    the editor's modules ran, that is the plain textarea: wait for CodeMirror first."""
    page.wait_for_selector(".cm-editor .cm-content")
    return page.get_by_role("textbox", name="Markdown", exact=True)


def focus_editor(page: Any, at_end: bool = False) -> None:
    markdown_box(page).click()
    if at_end:
        page.keyboard.press("Control+End")


def replace_markdown(page: Any, text: str) -> None:
    """Select everything and put ``text`` in its place (one paste-like input)."""
    focus_editor(page)
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    expect_markdown(page, text)


def expect_markdown(page: Any, text: str) -> None:
    expect(page.locator("#f-body")).to_have_value(text)


def current_markdown(page: Any) -> str:
    """The text once the form field caught up (the editor marks it data-synced)."""
    page.wait_for_selector("#f-body[data-synced=true]", state="attached")
    return page.locator("#f-body").input_value()
