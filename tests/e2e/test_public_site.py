"""The reader's side in real Chromium (issue 16): the home page's subscribe form
completes double opt-in, the archive searches, an issue page carries its cards
and a subscribe box, events have "Add to calendar"; every public page passes
axe-core (0 critical, 0 serious) at 1280 and 375 px and is screenshotted."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.db import db
from app.demo_content import load_demo_content
from app.issues.models import Issue
from app.subscribers.lists import create_list
from app.subscribers.models import MailingList, Subscriber, Subscription
from app.tokens import unsubscribe_token
from tests.conftest import screenshot
from tests.support.axe import BLOCKING, violations
from tests.support.jobs import run_jobs

pytestmark = pytest.mark.browser


def _mails(app) -> list:
    folder = Path(app.config["TRANSPORT"].removeprefix("outbox:"))
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) if folder.exists() else []
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]


def _check(page, name: str) -> list[str]:
    """axe at both widths, with a screenshot of each; the blocking violations found."""
    found = []
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(50)
        screenshot(page, f"public-{name}-{width}")
        found += [f"{name} @{width}: {v['id']} {v['targets'][:2]}" for v in violations(page) if v["impact"] in BLOCKING]
        # Nothing wider than the screen: the page never scrolls sideways at phone width.
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} overflows at {width}px"
    page.set_viewport_size({"width": 1280, "height": 900})
    return found


def test_home_subscribe_archive_issue_events(app, users, live_server, axe_page) -> None:
    load_demo_content()
    db.session.commit()
    page, base = axe_page, live_server.url
    bad: list[str] = []

    page.goto(f"{base}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(app.config.get("NEWSLETTER_NAME", "Pressroom Newsletter"))
    latest = page.locator(".latest h2 a")
    expect(latest).to_be_visible()
    latest_title = latest.inner_text()
    expect(page.locator(".recent ul.archive li")).not_to_have_count(0)
    bad += _check(page, "home")
    page.emulate_media(color_scheme="dark")  # prefers-color-scheme: the same checks in dark mode
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(22, 22, 21)"
    bad += _check(page, "home-dark")
    page.emulate_media(color_scheme="light")

    # The home page's form: the confirmation email, its link, the button, subscribed.
    page.get_by_label("Email address").fill("new.reader@example.org")
    page.get_by_role("button", name="Subscribe").click()
    # Nothing is ticked for the reader: with two lists, choosing one is theirs to do.
    expect(page.get_by_role("alert")).to_have_text("Choose a newsletter to subscribe to.")
    page.get_by_label("The weekly newsletter").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check your inbox")
    bad += _check(page, "subscribe-done")
    run_jobs(app)
    confirmation = [m for m in _mails(app) if m["To"] == "new.reader@example.org"]
    assert len(confirmation) == 1
    text = confirmation[0].get_body(preferencelist=("plain",)).get_content()
    assert "subscribe this address to “The weekly newsletter”." in text  # the list's display name
    link = re.search(r"https?://[^/\s]+(/confirm/\S+)", text).group(1)
    page.goto(base + link)
    bad += _check(page, "confirm")
    page.get_by_role("button", name="Yes, subscribe me").click()
    reader = db.session.scalar(select(Subscriber).where(Subscriber.email == "new.reader@example.org"))
    db.session.refresh(reader)
    statuses = db.session.scalars(select(Subscription.status).where(Subscription.subscriber_id == reader.id)).all()
    assert statuses == ["active"]

    # The archive searches; the issue page has its cards and a subscribe box.
    page.goto(f"{base}/issues/")
    bad += _check(page, "archive")
    word = latest_title.split()[0]
    page.get_by_label("Search the archive").fill(word)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_contain_text(f"matching “{word}”")
    page.get_by_role("link", name=latest_title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(latest_title)
    assert page.locator("meta[property='og:title']").get_attribute("content") == latest_title
    assert page.locator("meta[name='twitter:card']").count() == 1
    assert page.locator("link[rel=canonical]").get_attribute("href").endswith(page.url.split(base, 1)[1])
    expect(page.locator(".subscribe-box")).to_be_visible()
    broken = page.evaluate("[...document.images].filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)")
    assert broken == [], broken
    bad += _check(page, "issue")

    page.goto(f"{base}/subscribe")
    bad += _check(page, "subscribe")
    page.goto(f"{base}/events")
    cards = page.locator(".event-card")
    expect(cards.first).to_be_visible()
    ics = cards.first.get_by_role("link", name=re.compile("Add to calendar"))
    with page.expect_download() as download:
        ics.click()
    assert "BEGIN:VEVENT" in Path(download.value.path()).read_text()
    bad += _check(page, "events")

    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.status == "enabled").order_by(Subscriber.id))
    weekly = db.session.scalar(select(MailingList).where(MailingList.name == "subscribers"))
    research = db.session.scalar(select(MailingList).where(MailingList.name == "public"))
    page.goto(f"{base}/unsubscribe/{unsubscribe_token(subscriber.id, weekly.id, subscriber.token_nonce)}")
    expect(page.get_by_role("heading", name="Stop receiving The weekly newsletter?")).to_be_visible()
    bad += _check(page, "preferences")
    before = {s.list_id: s.status for s in subscriber.subscriptions}
    page.get_by_label("Research notes").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_role("status")).to_contain_text("subscribed to Research notes")
    db.session.expire_all()
    after = {s.list_id: s.status for s in db.session.get(Subscriber, subscriber.id).subscriptions}
    assert after == {**before, research.id: "active"}  # one list changed, the others as they were

    sent = db.session.scalar(select(Issue).where(Issue.status == "sent").order_by(Issue.id))
    assert sent is not None
    assert not bad, "\n".join(bad)
    assert page.js_errors == []


def test_a_german_lists_pages_are_german_in_the_browser(app, live_server, axe_page) -> None:
    club = create_list("ml-de", public=True)
    club.display_name, club.language = "Maschinelles Lernen kompakt", "de"
    db.session.commit()
    page, base = axe_page, live_server.url
    page.goto(f"{base}/subscribe")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pressroom Newsletter abonnieren")
    assert page.locator("html").get_attribute("lang") == "de"
    page.get_by_label("E-Mail-Adresse").fill("leserin@example.de")
    page.get_by_role("button", name="Abonnieren", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sehen Sie in Ihr Postfach")
    run_jobs(app)
    [mail] = [m for m in _mails(app) if m["To"] == "leserin@example.de"]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Bestätigen Sie Ihr Abonnement, indem Sie diesen Link öffnen:" in text
    page.goto(base + re.search(r"https?://[^/\s]+(/confirm/\S+)", text).group(1))
    page.get_by_role("button", name="Ja, ich möchte abonnieren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sie sind angemeldet")
    bad = [f"{v['id']}" for v in violations(page) if v["impact"] in BLOCKING]
    assert bad == [] and page.js_errors == []
