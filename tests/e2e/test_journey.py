"""The whole journey (issue 10), in real Chromium against the real server and
database, delivering through SES (a moto server over HTTP):

an editor opens the draft loaded by `pressroom demo` (the repository's own
sample, no corpus needed), sees its TODOs flagged and sending blocked, uploads
an image and puts it where the draft's missing image was, adds an upcoming
event and sees it in the email preview, replaces the TODOs; a second user
approves; the admin schedules the send two minutes ahead; the worker delivers it; the send page shows every recipient
sent; a reader unsubscribes through the link in the message SES received, and
the next send skips them; the issue is in the public archive and the feed.

Screenshots of the editor, the email preview and the send page are saved to
test-artifacts/ (the README shows them).
"""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy
from pathlib import Path

import boto3
import pytest
import requests
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select, update

from app.db import db, utcnow
from app.demo_content import load_demo_content
from app.issues.models import Issue
from app.sending.models import Send
from app.sending.worker import worker_for
from app.subscribers.models import Subscriber, Subscription
from tests.conftest import ARTIFACTS, browser_login, screenshot
from tests.support.editor import replace_markdown

pytestmark = pytest.mark.browser

READER = "ada.reader@example.com"
MISSING_IMAGE_LINE = re.compile(r"^!\[\]\(\{\{ site\.github\.url \}\}/images/demo/tidepool-screenshot\.png\)$", re.M)
TODO_LINES = {
    "TODO: write the introduction once the sections below are in.": "This week: summaries, and Tidepool ships.",
    "TODO: add Grant's article about the Tidepool release.": "Grant asks who owns the code a model writes.",
}


@pytest.fixture
def new_image(tmp_path: Path) -> Path:
    """A screenshot the editor has on their disk."""
    path = tmp_path / "Tidepool-Release.png"
    Image.new("RGB", (800, 450), (37, 99, 235)).save(path)
    return path


def moto_messages(aws: str) -> list[email.message.EmailMessage]:
    sent = requests.get(f"{aws}/moto-api/data.json", timeout=10).json()["ses"].get("RawMessage", [])
    return [email.message_from_string(m["raw_data"], policy=policy.default) for m in sent]


def subscription_status(address: str) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Subscription.status).join(Subscriber).where(Subscriber.email == address))


@pytest.fixture
def journey_app(app, aws, users):
    boto3.client("sesv2").create_email_identity(EmailIdentity="newsletter@example.com")
    app.config.update(TRANSPORT="ses", SEND_RATE=50, SEND_THREADS=4)
    load_demo_content()  # what `pressroom demo` loads besides its two users
    return app


def test_editor_to_inbox_to_unsubscribe(journey_app, live_server, browser, aws, new_image):
    base = live_server.url
    editor_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    editor_ctx.set_default_timeout(20_000)
    page = editor_ctx.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    seed = db.session.scalars(select(Issue).where(Issue.status == "draft")).one()  # the demo's one draft
    seed_id, seed_slug = seed.id, seed.slug

    # 1. The editor opens the demo draft: its TODOs are flagged and sending is blocked.
    browser_login(page, live_server, "editor@example.com")
    page.goto(f"{base}/admin/issues")
    page.click(f"a[href$='/admin/issues/{seed_id}']")
    expect(page.locator("#placeholder-list")).to_contain_text("TODO")
    expect(page.locator("#send-button")).to_be_disabled()
    expect(page.locator("#problem-list")).to_contain_text("not in the media library")

    # 2. Upload an image to the media library and take its Markdown snippet.
    page.goto(f"{base}/admin/media")
    page.set_input_files("#files", str(new_image))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector(".flash-success:has-text('Uploaded 1 image')")
    snippet = page.locator(".media-card .snippet").first.input_value()
    assert snippet.startswith("![") and "/media/images/" in snippet

    # 3. Put it where the draft's missing image was; send the issue to the public list too.
    page.goto(f"{base}/admin/issues/{seed_id}")
    body = page.input_value("#f-body")
    assert MISSING_IMAGE_LINE.search(body)
    replace_markdown(page, MISSING_IMAGE_LINE.sub(snippet, body))
    page.click("details.issue-meta summary")
    page.check("fieldset.issue-lists label:has-text('subscribers') input")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#save-state.saved:has-text('Saved')")
    preview = page.frame_locator("#preview-email")
    expect(preview.locator(f"img[src*='{new_image.stem.lower()}']")).to_have_count(1)

    # 4. Add an upcoming event; it appears in the email preview.
    starts = (utcnow() + timedelta(days=10)).replace(hour=18, minute=30)
    page.goto(f"{base}/admin/events/new")
    page.fill("input[name=title]", "Pressroom Meetup Berlin")
    page.fill("input[name=url]", "https://example.com/meetup")
    page.fill("input[name=start]", starts.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=timezone]", "Europe/Berlin")
    page.fill("input[name=location]", "Berlin")
    page.click("form button[type=submit].primary")
    page.wait_for_selector(".flash-success")
    page.goto(f"{base}/admin/issues/{seed_id}")
    expect(page.frame_locator("#preview-email").locator("body")).to_contain_text("Pressroom Meetup Berlin")

    # 5. Replace the TODOs: nothing left to fix.
    body = page.input_value("#f-body")
    for todo, text in TODO_LINES.items():
        assert todo in body
        body = body.replace(todo, text)
    replace_markdown(page, body)
    page.keyboard.press("Control+s")
    page.wait_for_selector("#save-state.saved:has-text('Saved')")
    expect(page.locator("#placeholder-none")).to_be_visible()
    page.reload()
    expect(page.locator("#problem-list li.error")).to_have_count(0)
    expect(page.locator("#approve-button")).to_be_disabled()  # nobody approves their own edit
    screenshot(page, "journey-editor")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".editor-preview").screenshot(path=str(ARTIFACTS / "journey-email-preview.png"))

    # 6. A second user (the admin) approves and schedules the send two minutes ahead.
    admin_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    admin_ctx.set_default_timeout(20_000)
    admin = admin_ctx.new_page()
    admin.on("pageerror", lambda exc: js_errors.append(str(exc)))
    browser_login(admin, live_server, "admin@example.com")
    admin.goto(f"{base}/admin/issues/{seed_id}")
    admin.click("#approve-button")
    expect(admin.locator("#issue-status")).to_have_text("approved")
    admin.click("#send-button")
    # Two minutes ahead, rounded up to the minute the datetime field can hold.
    at = (utcnow() + timedelta(minutes=3)).replace(second=0, microsecond=0)
    admin.get_by_label("Schedule for a date and time").check()
    admin.fill("input[name=at]", at.strftime("%Y-%m-%dT%H:%M"))
    admin.fill("input[name=timezone]", "UTC")
    admin.click("button:has-text('Review')")
    expect(admin.locator("#confirm-recipients")).to_have_text("3")  # three active demo readers
    admin.click("button:has-text('Schedule the send')")
    admin.wait_for_selector("#send-status")
    send = db.session.scalar(select(Send).where(Send.issue_id == seed_id))
    assert send.status == "scheduled"
    assert send.scheduled_at == at and send.scheduled_at > utcnow() + timedelta(minutes=1)

    # 7. The worker: nothing is due yet; two minutes later (the clock is moved
    #    in the database rather than waited for) it delivers to every reader.
    worker_for(journey_app).run(once=True)
    assert moto_messages(aws) == []
    db.session.execute(update(Send).where(Send.id == send.id).values(scheduled_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    worker_for(journey_app).run(once=True)
    messages = moto_messages(aws)
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == [
        "ada.reader@example.com",
        "bob.reader@example.com",
        "chloe@example.org",
    ]

    admin.reload()
    final_counts = {"sent": "3", "queued": "0", "claimed": "0", "failed": "0", "unknown": "0"}
    for state, expected in final_counts.items():
        expect(admin.locator(f"td[data-state={state}]")).to_have_text(expected)
    expect(admin.locator("#send-status")).to_have_text("finished")
    screenshot(admin, "journey-send-page")

    # 8. A reader opens the unsubscribe link from the message SES received.
    received = next(m for m in messages if m["To"].addresses[0].addr_spec == READER)
    html = received.get_body(("html",)).get_content()
    link = re.search(r'href="(' + re.escape(base) + r'/unsubscribe/[^"]+)"', html).group(1)
    assert received["List-Unsubscribe"].startswith(f"<{base}/unsubscribe/")
    reader_ctx = browser.new_context()
    reader = reader_ctx.new_page()
    reader.goto(link)
    expect(reader.locator("h1")).to_be_visible()
    assert subscription_status(READER) == "active"  # looking changes nothing
    reader.get_by_role("button", name="Unsubscribe from The weekly newsletter").click()  # its display name
    expect(reader.locator("h1")).to_have_text("You are unsubscribed")
    assert subscription_status(READER) == "unsubscribed"

    # 9. The next send skips them.
    from app.issues.lifecycle import approve
    from app.issues.service import create_issue
    from app.sending.service import create_send
    from app.subscribers.lists import find_list

    readers = find_list("subscribers")
    follow_up = create_issue("Next week", user=None, subject="Next week", lists=[readers.id])
    follow_up.body = "A short follow-up issue."
    db.session.commit()
    approve(follow_up, _admin())
    create_send(follow_up, [readers])
    db.session.commit()
    worker_for(journey_app).run(once=True)
    second = [m for m in moto_messages(aws) if m["Subject"] == "Next week"]
    assert sorted(m["To"].addresses[0].addr_spec for m in second) == ["bob.reader@example.com", "chloe@example.org"]

    # 10. The email's browser link opens the issue; it is in the public archive and the Atom feed.
    browser_link = re.search(r'href="([^"]+)"[^>]*>View this issue in your browser', html).group(1)
    opened = reader.goto(browser_link.replace("&amp;", "&"))
    assert opened is not None and opened.status == 200
    expect(reader.locator("body")).to_contain_text("Grant asks who owns the code a model writes.")
    reader.goto(f"{base}/issues/")
    reader.click(f"a[href$='/issues/{seed_slug}']")
    expect(reader.locator("body")).to_contain_text("Grant asks who owns the code a model writes.")
    feed = requests.get(f"{base}/feed.xml", timeout=10).text
    assert f"{base}/issues/{seed_slug}" in feed

    assert js_errors == []
    for context in (editor_ctx, admin_ctx, reader_ctx):
        context.close()


def _admin():
    from app.auth.models import User

    return db.session.scalar(select(User).where(User.email == "admin@example.com"))
