"""In Chromium, with CSRF on: signup + confirm, unsubscribe + resubscribe by
clicking, and an admin CSV import whose progress page (static JS) polls
the background job to completion."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import db
from app.subscribers.lists import create_list
from app.subscribers.models import Subscriber, Subscription
from app.subscribers.service import unsubscribe_token_for as unsubscribe_token
from tests.conftest import browser_login, eventually, screenshot
from tests.test_signup import confirm_path, mails


@pytest.mark.browser
def test_signup_unsubscribe_and_import_in_a_browser(app, live_server, job_loop, page, users):
    news = create_list("News", public=True, description="Weekly news")
    page.goto(f"{live_server.url}/subscribe")
    page.fill("input[name=email]", "browser@example.com")
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Check your inbox"
    page.goto(live_server.url + confirm_path(eventually(lambda: mails(app))[0]))
    assert page.locator("h1").inner_text() == "Confirm your subscription"
    page.click("button:has-text('Yes, subscribe me')")
    assert page.locator("h1").inner_text() == "You're subscribed"
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == "browser@example.com"))
    db.session.expire_all()
    assert db.session.get(Subscription, (subscriber.id, news.id)).status == "active"

    page.goto(f"{live_server.url}/unsubscribe/{unsubscribe_token(subscriber.id, news.id)}")
    page.click("text=Unsubscribe from News")
    assert page.locator("h1").inner_text() == "You are unsubscribed"
    db.session.expire_all()
    assert db.session.get(Subscription, (subscriber.id, news.id)).status == "unsubscribed"
    page.click("text=Resubscribe")
    assert page.locator("h1").inner_text() == "Welcome back"
    db.session.expire_all()
    assert db.session.get(Subscription, (subscriber.id, news.id)).status == "active"

    browser_login(page, live_server, "admin@example.com")
    page.goto(f"{live_server.url}/admin/subscribers/import")
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "people.csv",
                "mimeType": "text/csv",
                "buffer": b"Email,Name\none@example.com,One\nnope,Bad\ntwo@example.com,Two\n",
            }
        ],
    )
    page.fill("input[name=list_name]", "News")
    page.click("button:has-text('Import')")
    page.wait_for_selector("[data-field=state]:text('done')")
    assert page.locator("[data-field=imported]").inner_text() == "2"
    assert "nope" in page.locator("[data-field=errors]").inner_text()
    screenshot(page, "subscribers-import")

    page.goto(f"{live_server.url}/admin/subscribers?q=one")
    page.click("text=one@example.com")
    assert page.locator("h1").inner_text() == "one@example.com"
    screenshot(page, "subscribers-view")
    page.once("dialog", lambda dialog: dialog.dismiss())  # subscribers.js asks first
    page.click("text=Delete and erase personal data")
    assert page.locator("h1").inner_text() == "one@example.com"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Delete and erase personal data")
    page.wait_for_selector("text=Subscriber erased")
    assert db.session.scalar(select(Subscriber).where(Subscriber.email == "one@example.com")) is None
    screenshot(page, "subscribers-index")
    assert page.js_errors == []
