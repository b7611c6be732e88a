"""Images in place in real Chromium: paste an image file into the text, give its alt
text in the same dialog, and the upload lands in the media library, the Markdown with
{{ site.github.url }} is inserted, and the preview shows the image; drop works the same;
the toolbar's picker searches the library and inserts an existing image."""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import expect

from app.db import db
from app.issues.models import Issue
from app.media.models import MediaItem
from app.media.service import upload
from tests.conftest import CORPUS, browser_login, needs_corpus, screenshot
from tests.support.editor import current_markdown, expect_markdown, focus_editor, markdown_box

pytestmark = pytest.mark.browser

IMAGE = CORPUS / "ffl/images/2018/09/gan-1536758013486.png"
OTHER = CORPUS / "ffl/images/editor_uploads/2018-09-19-194511-XOnSpark.png"

# A paste or drop event carrying one file, as the browser makes it from the clipboard.
SEND_FILE = """([kind, name, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "image/png" }));
  const target = document.querySelector(".cm-content");
  const box = target.getBoundingClientRect();
  const event = kind === "paste"
    ? new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true })
    : new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true,
                              clientX: box.left + 5, clientY: box.top + 5 });
  target.dispatchEvent(event);
}"""


def open_issue(page, live_server, body: str) -> int:
    issue = Issue(slug="images", title="Images", subject="Images", body=body, excluded_event_ids=[])
    db.session.add(issue)
    db.session.commit()
    browser_login(page, live_server, "editor@example.com")
    page.wait_for_selector("h1:has-text('Dashboard')")
    page.goto(f"{live_server.url}/admin/issues/{issue.id}")
    markdown_box(page).wait_for()
    return issue.id


def send_file(page, kind: str, path, name: str) -> None:
    page.evaluate(SEND_FILE, [kind, name, base64.b64encode(path.read_bytes()).decode()])


@needs_corpus
def test_paste_image_asks_alt_uploads_inserts_and_previews(live_server, page, users) -> None:
    issue_id = open_issue(page, live_server, "Hello readers.\n\n")
    focus_editor(page, at_end=True)
    send_file(page, "paste", IMAGE, "GAN diagram.png")
    dialog = page.get_by_role("dialog", name="Image")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("GAN diagram.png")
    expect(dialog.get_by_label("Alt text")).to_be_focused()
    page.keyboard.type("A GAN diagram")
    dialog.get_by_role("button", name="Upload and insert").click()
    expect(dialog).to_be_hidden()

    item = db.session.query(MediaItem).one()
    assert item.alt_text == "A GAN diagram" and item.original_name == "GAN diagram.png"
    expect_markdown(page, "Hello readers.\n\n![A GAN diagram]({{ site.github.url }}/" + item.path + ")")
    image = page.frame_locator("#preview-email").locator(f"img[src$='{item.path}']")
    expect(image).to_have_attribute("alt", "A GAN diagram")
    expect(image).to_have_js_property("naturalWidth", 491)  # served by the app, really loaded
    expect(page.locator("#problem-list")).not_to_contain_text("media library")
    screenshot(page, "editor-image-pasted")
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Saved")
    db.session.expire_all()
    assert item.path in db.session.get(Issue, issue_id).body
    assert page.js_errors == []


def test_refused_upload_keeps_the_dialog_with_the_reason(live_server, page, users) -> None:
    open_issue(page, live_server, "Text.\n")
    focus_editor(page, at_end=True)
    page.evaluate("""() => {
      const transfer = new DataTransfer();
      const bytes = new TextEncoder().encode("not really a png");
      transfer.items.add(new File([bytes], "fake.png", { type: "image/png" }));
      document.querySelector(".cm-content").dispatchEvent(
        new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
    }""")
    dialog = page.get_by_role("dialog", name="Image")
    dialog.get_by_role("button", name="Upload and insert").click()
    expect(dialog.get_by_role("alert")).to_contain_text("not an image we accept")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert current_markdown(page) == "Text.\n"
    assert db.session.query(MediaItem).count() == 0


@needs_corpus
def test_drop_image_inserts_where_it_was_dropped(live_server, page, users) -> None:
    open_issue(page, live_server, "First line.\nSecond line.\n")
    send_file(page, "drop", OTHER, "spark.png")
    dialog = page.get_by_role("dialog", name="Image")
    dialog.get_by_label("Alt text").fill("Spark logo")
    dialog.get_by_role("button", name="Upload and insert").click()
    expect(dialog).to_be_hidden()
    # The insertion lands after the upload answers; under load that can be after the dialog closed.
    expect(page.locator("#f-body")).to_have_value(re.compile(r"^!\[Spark logo\]"), timeout=10_000)
    item = db.session.query(MediaItem).one()
    text = current_markdown(page)
    assert text.startswith("![Spark logo]({{ site.github.url }}/" + item.path + ")"), text
    assert text.endswith("First line.\nSecond line.\n")


@needs_corpus
def test_pick_from_media_library(live_server, page, users) -> None:
    upload("harbour.png", IMAGE.read_bytes(), None, alt_text="The harbour at dawn")
    upload("spark.png", OTHER.read_bytes(), None)
    open_issue(page, live_server, "Intro.\n\n")
    focus_editor(page, at_end=True)
    page.get_by_role("button", name="Image from the media library").click()
    picker = page.get_by_role("dialog", name="Media library")
    expect(picker.locator(".media-choice")).to_have_count(2)
    picker.get_by_label("Search images").fill("harb")
    expect(picker.locator(".media-choice")).to_have_count(1)
    expect(picker.get_by_role("status")).to_have_text("1 image")
    screenshot(page, "editor-media-picker")
    picker.locator(".media-choice", has_text="The harbour at dawn").click()
    dialog = page.get_by_role("dialog", name="Image")
    expect(dialog.get_by_label("Alt text")).to_have_value("The harbour at dawn")
    dialog.get_by_label("Alt text").fill("The harbour at dawn, fog")
    dialog.get_by_role("button", name="Insert image").click()
    expect(dialog).to_be_hidden()
    item = db.session.query(MediaItem).filter_by(original_name="harbour.png").one()
    expect_markdown(page, "Intro.\n\n![The harbour at dawn, fog]({{ site.github.url }}/" + item.path + ")")
    db.session.expire_all()
    assert db.session.get(MediaItem, item.id).alt_text == "The harbour at dawn, fog"  # saved on the item
    expect(page.frame_locator("#preview-email").locator(f"img[src$='{item.path}']")).to_have_count(1)

    # No match: the picker says so; Close returns to the text unchanged.
    page.get_by_role("button", name="Image from the media library").click()
    picker.get_by_label("Search images").fill("nothing-like-this")
    expect(picker.get_by_role("status")).to_contain_text("No image matches")
    picker.get_by_role("button", name="Close").click()
    expect(picker).to_be_hidden()
    assert page.js_errors == []
