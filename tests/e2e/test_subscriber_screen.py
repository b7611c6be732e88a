"""The subscriber screen in Chromium, CSRF on and the worker's job loop
running: 10,000 subscribers (one bulk INSERT), a search that matches them all,
"All 10,000 matches" + "Add to list", the confirmation naming the count, the
job page following the worker to the end; a ticked selection erased in the
request; the subscriber page's attribute error and timeline. axe-core finds
no critical or serious violation on any of these pages at 1280 and 375 px,
and each is screenshotted at both widths into test-artifacts/."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from app.db import db, utcnow
from app.subscribers.attributes import define
from app.subscribers.lists import create_list
from app.subscribers.models import Subscriber, Subscription
from app.subscribers.service import add_subscriber
from app.subscribers.suppression import suppress
from tests.conftest import browser_login, screenshot
from tests.support.axe import BLOCKING, violations

pytestmark = pytest.mark.browser
N = 10_000


@pytest.fixture
def audience(app, users):
    news, archive = create_list("News"), create_list("Archive")
    now = utcnow()
    db.session.execute(
        insert(Subscriber),
        [
            {"email": f"reader{i:05d}@many.example", "name": f"Reader {i}", "source": "import", "created_at": now}
            for i in range(N)
        ],
    )
    ids = db.session.scalars(select(Subscriber.id).where(Subscriber.email.like("%@many.example"))).all()
    db.session.execute(
        insert(Subscription),
        [
            {"subscriber_id": i, "list_id": news.id, "status": "active", "created_at": now, "confirmed_at": now}
            for i in ids
        ],
    )
    add_subscriber("bounced@other.example", "Bo", news)
    suppress("bounced@other.example", "hard-bounce", "ses", unsubscribe_all=True)
    define("plan", "text")
    db.session.commit()
    return {"news": news, "archive": archive}


def check(page, name: str) -> None:
    """axe at both widths and a screenshot of each."""
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(400)  # admin.js makes wide tables focusable 150 ms after a resize
        found = [v for v in violations(page) if v["impact"] in BLOCKING]
        assert not found, f"{name} @{width}: {found}"
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def count_in(list_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).where(Subscription.list_id == list_id)) or 0


def test_all_10000_matches_get_a_bulk_action_through_the_admin(app, live_server, job_loop, axe_page, audience):
    page, archive = axe_page, audience["archive"]
    browser_login(page, live_server, "admin@example.com")
    page.goto(f"{live_server.url}/admin/subscribers")
    page.get_by_label("Search email, name or domain").fill("many.example")
    page.get_by_role("button", name="Search").click()
    assert page.locator("#total strong").inner_text() == "10,000"
    assert page.locator("table.subscribers tbody tr").count() == 50
    first = page.locator("table.subscribers tbody tr").first
    assert first.locator("li[data-list]").inner_text() == "News: active"
    check(page, "subscribers-list")

    page.get_by_label("Action").select_option("add")
    page.get_by_label("List (to add to or remove from)").select_option(str(archive.id))
    page.get_by_label("All 10,000 matches").check()
    page.get_by_role("button", name="Continue…").click()
    assert page.locator("h1").inner_text() == "Add 10,000 subscribers to Archive?"
    assert count_in(archive.id) == 0  # asking changes nothing
    check(page, "subscribers-bulk-confirm")
    page.get_by_role("button", name="Add to list Archive: 10,000 subscribers").click()
    page.wait_for_url("**/admin/subscribers/bulk/*")
    page.wait_for_selector("[data-field=state]:text('done')", timeout=120_000)
    assert page.locator("[data-field=done]").inner_text() == "10,000"
    assert page.locator("[data-field=summary]").inner_text() == "added 10,000"
    assert count_in(archive.id) == N
    check(page, "subscribers-bulk-status")

    # the list now shows both lists for each of them
    page.goto(f"{live_server.url}/admin/subscribers?q=many.example&list={archive.id}")
    assert page.locator("#total strong").inner_text() == "10,000"
    states = page.locator("table.subscribers tbody tr").first.locator("li[data-list]").all_inner_texts()
    assert states == ["Archive: active", "News: active"]

    # a ticked selection: the page's first two, erased in the request after the question
    page.goto(f"{live_server.url}/admin/subscribers?q=reader0000")
    boxes = page.locator("table.subscribers tbody input[name=ids]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_label("Action").select_option("erase")
    page.get_by_role("button", name="Continue…").click()
    assert page.locator("h1").inner_text() == "Erase 2 subscribers? This cannot be undone"
    page.get_by_role("button", name="Erase: 2 subscribers").click()
    page.wait_for_selector("text=Erase: erased 2")
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count()).select_from(Subscriber).where(Subscriber.email.like("%@many.example")))
        == N - 2
    )

    # the bounced reader says so, on the list and on their page
    page.goto(f"{live_server.url}/admin/subscribers?state=bounced")
    assert page.locator("table.subscribers tbody li[data-list]").all_inner_texts() == ["News: bounced"]
    page.get_by_role("link", name="bounced@other.example").click()
    page.get_by_label("plan (text)").fill("pro")
    page.get_by_label("time_zone (text)").fill("Mars/Olympus")
    page.get_by_role("button", name="Save attributes").click()
    assert "not a time zone" in page.locator("#attr-time_zone-error").inner_text()
    assert page.get_by_label("plan (text)").input_value() == "pro"
    kinds = page.locator("ol.timeline li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds[:2] == ["created", "signup"] and "suppressed" in kinds
    check(page, "subscriber-page")

    page.goto(f"{live_server.url}/admin/subscribers/lists")
    check(page, "subscriber-lists")
    assert page.js_errors == []
