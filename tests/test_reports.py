"""Per-send report, dashboard, CSV export and charts."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db import db, utcnow
from app.reports.charts import Series, Threshold, bar_chart
from app.reports.service import formula_safe, send_report
from app.sending.feedback import record_event
from app.sending.models import Delivery, FeedbackEvent, SnsMessage
from app.subscribers.models import Subscription
from tests.support.reports import deliveries, make_send
from tests.support.sending import recount_sends
from tests.support.sns_signing import TOPIC_ARN, FakeSnsSession, notification, ses_event


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["SNS_TOPIC_ARNS"] = TOPIC_ARN
    app_config["SNS_HTTP_SESSION"] = FakeSnsSession()
    return app_config


class FunnelParser(HTMLParser):
    """Reads the funnel table: {step key: count} from data-step rows."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self._step: str | None = None
        self._in_count = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and values.get("data-step"):
            self._step = values["data-step"]
        self._in_count = tag == "td" and "count" in (values.get("class") or "").split()

    def handle_data(self, data: str) -> None:
        if self._in_count and self._step and data.strip():
            self.counts[self._step] = int(data.strip().replace(",", ""))
            self._in_count = False


def funnel_on_page(admin_client, send_id: int) -> dict[str, int]:
    response = admin_client.get(f"/admin/reports/{send_id}")
    assert response.status_code == 200
    parser = FunnelParser()
    parser.feed(response.get_data(as_text=True))
    return parser.counts


def post(client, message: dict[str, Any]):
    return client.post("/webhooks/ses", data=json.dumps(message), content_type="text/plain")


def test_signed_open_and_click_records_count_once_and_forgeries_write_nothing(app, client, admin_client) -> None:
    send = make_send(3)
    first, second, _ = deliveries(send)
    messages = [
        notification(ses_event("Open", first.message_id, open={"userAgent": "Mail"})),
        notification(ses_event("Click", first.message_id, click={"link": "https://example.org/story"})),
        notification(ses_event("Click", second.message_id, click={"link": "https://example.org/story"}), version="1"),
        notification(ses_event("Open", first.message_id)),  # a second open by the same reader
    ]
    for message in messages + messages:  # every post replayed
        assert post(client, message).status_code == 200
    counts = funnel_on_page(admin_client, send.id)
    assert (counts["open"], counts["click"], counts["sent"], counts["recipients"]) == (1, 2, 3, 3)
    report = send_report(send)
    assert report.totals["open"] == 2 and report.totals["click"] == 2

    forged = notification(ses_event("Click", second.message_id, click={"link": "https://evil.example/"}))
    forged["Message"] = forged["Message"].replace("second", "third") + " "
    assert post(client, forged).status_code == 403
    assert funnel_on_page(admin_client, send.id) == counts
    assert db.session.scalar(select(func.count()).select_from(SnsMessage)) == len(messages)
    page = admin_client.get(f"/admin/reports/{send.id}").get_data(as_text=True)
    assert "https://example.org/story" in page and "evil.example" not in page


def test_funnel_on_page_equals_database_counts(app, admin_client) -> None:
    send = make_send(6)
    rows = deliveries(send)
    rows[5].status, rows[5].message_id = "failed", None
    now = utcnow()
    for row in rows[:4]:
        row.delivered_at = now
    record_event(rows[0], "hard_bounce", detail="Permanent/General: 550")
    record_event(rows[1], "soft_bounce", detail="Transient/MailboxFull")
    record_event(rows[2], "complaint", detail="abuse")
    for row in rows[:3]:
        record_event(row, "open")
    record_event(rows[2], "click", url="https://example.org/story")
    subscription = db.session.get(Subscription, (rows[3].subscriber_id, rows[3].list_id))
    subscription.status, subscription.unsubscribed_at = "unsubscribed", now
    db.session.flush()
    recount_sends()
    db.session.commit()

    def db_count(kind: str) -> int:
        return db.session.scalar(
            select(func.count(func.distinct(FeedbackEvent.delivery_id))).where(
                FeedbackEvent.send_id == send.id, FeedbackEvent.kind == kind
            )
        )

    expected = {
        "recipients": 6,
        "sent": 5,
        "delivered": db.session.scalar(select(func.count()).where(Delivery.delivered_at.is_not(None))),
        "hard_bounce": db_count("hard_bounce"),
        "soft_bounce": db_count("soft_bounce"),
        "complaint": db_count("complaint"),
        "open": db_count("open"),
        "click": db_count("click"),
        "unsubscribed": 1,
    }
    assert funnel_on_page(admin_client, send.id) == expected
    report = send_report(send)
    assert report.step("open").rate == pytest.approx(3 / 4)
    assert report.step("hard_bounce").rate == pytest.approx(1 / 5)


def test_unsubscribes_before_the_send_or_after_the_next_one_are_not_blamed(app) -> None:
    send = make_send(3, started_at=utcnow() - timedelta(days=10))
    rows = deliveries(send)
    times = [
        send.started_at - timedelta(hours=1),
        send.started_at + timedelta(days=2),
        send.started_at + timedelta(days=9),
    ]
    make_send(1, slug="issue-2", started_at=send.started_at + timedelta(days=5))
    for row, when in zip(rows, times, strict=True):
        subscription = db.session.get(Subscription, (row.subscriber_id, row.list_id))
        subscription.status, subscription.unsubscribed_at = "unsubscribed", when
    db.session.commit()
    assert send_report(send).step("unsubscribed").count == 1


def test_csv_export_is_per_recipient_and_formula_safe(app, admin_client) -> None:
    send = make_send(3)
    rows = deliveries(send)
    rows[1].status, rows[1].error = "failed", '=HYPERLINK("http://evil")'
    record_event(rows[0], "hard_bounce", detail="-1 bad")
    record_event(rows[0], "click", url="https://example.org/story")
    record_event(rows[0], "click", url="https://example.org/story")
    db.session.flush()
    recount_sends()
    db.session.commit()
    response = admin_client.get(f"/admin/reports/{send.id}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["email"] for r in table] == [r.email for r in rows]
    assert table[0]["bounce"] == "hard" and table[0]["bounce_detail"] == "'-1 bad"
    assert table[0]["clicks"] == "2"
    assert table[1]["error"].startswith("'=") and table[1]["status"] == "failed"
    assert [formula_safe(v) for v in ("@x", "+1", "\tx", "\rx", "a=b", None)] == [
        "'@x",
        "'+1",
        "'\tx",
        "'\rx",
        "a=b",
        "",
    ]


def test_report_of_unknown_send_is_404_and_editors_can_read_reports(app, editor_client) -> None:
    send = make_send(1)
    assert editor_client.get(f"/admin/reports/{send.id}").status_code == 200
    assert editor_client.get("/admin/reports/999").status_code == 404
    assert editor_client.get("/admin/reports/").status_code == 200
    waiting = make_send(2, slug="later", status="scheduled")
    waiting.started_at = None
    db.session.commit()
    page = editor_client.get(f"/admin/reports/{waiting.id}")
    assert page.status_code == 200 and "No activity recorded yet" in page.get_data(as_text=True)


def test_charts_are_valid_svg_with_text_alternatives_and_thresholds(app) -> None:
    svg = bar_chart(
        title="Bounce <rate>",
        desc="1.5% of sent",
        labels=["a & b"],
        series=[Series("Rate", [0.015])],
        thresholds=[Threshold(0.04, "auto-pause 4%")],
    )
    root = ET.fromstring(str(svg))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img" and "Bounce <rate>" in root.get("aria-label")
    assert root.find(f"{ns}title").text == "Bounce <rate>" and root.find(f"{ns}desc").text == "1.5% of sent"
    threshold = root.find(f"{ns}line[@class='threshold']")
    bar = root.find(f"{ns}rect[@class='series-1']")
    # the 4% line sits above the 1.5% bar (smaller y is higher)
    assert float(threshold.get("y1")) < float(bar.get("y"))


def test_dashboard_shows_last_issues_and_list_growth(app, admin_client) -> None:
    send = make_send(4)
    rows = deliveries(send)
    record_event(rows[0], "hard_bounce")
    subscription = db.session.get(Subscription, (rows[1].subscriber_id, rows[1].list_id))
    subscription.status, subscription.unsubscribed_at = "unsubscribed", utcnow()
    db.session.commit()
    from app.reports.growth import list_growth

    (growth,) = list_growth(weeks=8)
    assert growth.size[-1] == 3 and max(growth.size) == 4 and growth.size[0] == 0
    assert sum(growth.subscribes) == 4
    assert sum(growth.unsubscribes) == 1 and sum(growth.bounces) == 1
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert "Last issues" in page and f"/admin/reports/{send.id}" in page
    assert page.count('role="img"') >= 3 and "Readers: size per week" in page


def test_demo_report_is_self_contained_and_loads_once(app, admin_client) -> None:
    from app.reports.demo import load_demo_reports
    from app.sending.models import Send

    assert len(load_demo_reports()) == 1 and load_demo_reports() == []
    send = db.session.scalar(select(Send))
    counts = funnel_on_page(admin_client, send.id)
    assert counts["sent"] == send.recipient_count > 0
    assert 0 < counts["click"] < counts["open"] < counts["delivered"] < counts["sent"]
    assert counts["hard_bounce"] > 0 and counts["unsubscribed"] > 0
    assert admin_client.get("/admin/").status_code == 200
