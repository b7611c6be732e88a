"""The report page of a finished send in Chromium: the funnel shows the
database's numbers and the charts render (screenshot for the README)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import db
from app.sending.feedback import record_event
from app.sending.models import Delivery, FeedbackEvent
from tests.conftest import browser_login, screenshot
from tests.support.reports import deliveries, make_send


@pytest.mark.browser
def test_report_page_of_a_finished_send(app, users, live_server, page) -> None:
    send = make_send(40)
    rows = deliveries(send)
    start = send.started_at
    for n, row in enumerate(rows):
        if n < 37:
            row.delivered_at = start + timedelta(minutes=n)
        if n < 22:
            record_event(row, "open", when=start + timedelta(hours=n % 5, minutes=3))
        if n < 9:
            record_event(
                row,
                "click",
                when=start + timedelta(hours=n % 4, minutes=9),
                url="https://example.org/story" if n % 3 else "https://example.org/other?a=1&b=2",
            )
    record_event(rows[37], "hard_bounce", detail="Permanent/General: 550 5.1.1 user unknown")
    record_event(rows[38], "soft_bounce", detail="Transient/MailboxFull")
    record_event(rows[39], "complaint", detail="abuse")
    db.session.commit()

    browser_login(page, live_server, "editor@example.com")
    page.goto(f"{live_server.url}/admin/reports/{send.id}")
    page.wait_for_selector("#funnel")
    shown = {
        row.get_attribute("data-step"): int(row.locator("td.count").inner_text().replace(",", ""))
        for row in page.locator("#funnel tbody tr").all()
    }

    def unique(kind: str) -> int:
        return db.session.scalar(
            select(func.count(func.distinct(FeedbackEvent.delivery_id))).where(
                FeedbackEvent.send_id == send.id, FeedbackEvent.kind == kind
            )
        )

    assert shown == {
        "recipients": db.session.scalar(select(func.count()).where(Delivery.send_id == send.id)),
        "sent": db.session.scalar(select(func.count()).where(Delivery.status == "sent")),
        "delivered": db.session.scalar(select(func.count()).where(Delivery.delivered_at.is_not(None))),
        "hard_bounce": unique("hard_bounce"),
        "soft_bounce": unique("soft_bounce"),
        "complaint": unique("complaint"),
        "open": unique("open"),
        "click": unique("click"),
        "unsubscribed": 0,
    }
    assert page.locator("svg.chart[role=img]").count() >= 4
    assert page.locator("svg.chart line.threshold").count() == 2
    assert page.locator("#top-links tbody tr").count() == 2
    assert page.js_errors == []
    screenshot(page, "report")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "report-dark")
    page.goto(f"{live_server.url}/admin/")
    assert page.locator("svg.chart[role=img]").count() >= 3
    screenshot(page, "dashboard")
