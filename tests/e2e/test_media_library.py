"""The media library in real Chromium: drop an archive image on the upload
area, copy its Markdown snippet, insert it into an issue and see the image in
the editor's preview (served by the app)."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from app.db import db
from app.issues.models import Issue
from app.media.models import MediaItem
from tests.conftest import CORPUS, browser_login, needs_corpus, screenshot
from tests.support.editor import focus_editor

pytestmark = pytest.mark.browser

IMAGE = CORPUS / "ffl/images/2018/09/gan-1536758013486.png"

DROP_FILE = """([name, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "image/png" }));
  return transfer;
}"""


@needs_corpus
def test_drop_upload_copy_snippet_insert_and_preview(live_server, page, users) -> None:
    issue = Issue(slug="media-test", title="Media test", subject="Media test", body="Hello readers.\n\n")
    db.session.add(issue)
    db.session.commit()
    issue_id = issue.id
    browser_login(page, live_server, "editor@example.com")
    page.wait_for_selector("h1:has-text('Dashboard')")

    page.goto(f"{live_server.url}/admin/media")
    encoded = base64.b64encode(IMAGE.read_bytes()).decode()
    transfer = page.evaluate_handle(DROP_FILE, ["GAN diagram.png", encoded])
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    page.wait_for_selector(".flash-success:has-text('Uploaded 1 image')")
    card = page.locator(".media-card").first
    assert "491×271 px" in card.inner_text()
    expect(card.locator("img")).to_have_js_property("naturalWidth", 491)

    # Alt text edit, then the snippet carries it.
    card.locator("input[name=alt_text]").fill("A GAN diagram")
    card.locator("button:has-text('Save alt text')").click()
    page.wait_for_selector(".flash-success:has-text('Alt text saved')")
    card = page.locator(".media-card").first
    snippet = card.locator(".snippet").input_value()
    path = db.session.query(MediaItem).one().path
    assert snippet == f"![A GAN diagram]({live_server.url}/media/{path})"
    card.locator(".copy-snippet").click()
    page.wait_for_selector(".copy-snippet:has-text('Copied')")

    page.goto(f"{live_server.url}/admin/issues/{issue_id}")
    focus_editor(page, at_end=True)
    page.keyboard.insert_text(snippet + "\n")
    preview = page.frame_locator("#preview-email")
    image = preview.locator(f"img[src$='{path}']")
    image.wait_for()
    assert image.get_attribute("alt") == "A GAN diagram"
    expect(image).to_have_js_property("naturalWidth", 491)  # loaded from the app, not just referenced
    screenshot(page, "media-snippet-preview")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#save-state.saved:has-text('Saved')")
    page.goto(f"{live_server.url}/admin/media")
    assert "Media test" in page.locator(".media-card").first.inner_text()  # where used
    assert page.js_errors == []
