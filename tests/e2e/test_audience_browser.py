"""The audience in Chromium: map a CSV's columns, build a segment with the
builder while the live count follows, send an issue to it; the signup page
tells the server the reader's time zone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.db import db
from app.segments.models import Segment
from app.sending.models import Send
from app.subscribers.models import Subscriber
from tests.conftest import browser_login, eventually, screenshot, screenshots
from tests.support.sending import make_issue
from tests.test_audience import CSV

pytestmark = pytest.mark.browser


def test_map_columns_build_a_segment_and_send_to_it(app, users, live_server, page, job_loop, tmp_path):
    browser_login(page, live_server, "admin@example.com")
    csv = tmp_path / "people.csv"
    csv.write_text(CSV, encoding="utf-8")
    page.goto(f"{live_server.url}/admin/subscribers/import")
    page.set_input_files("input[name=file]", str(csv))
    page.fill("input[name=list_name]", "News")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/subscribers/import/columns/*")
    assert page.get_by_label("Type of Age").input_value() == "number"
    assert page.get_by_label("Attribute name for Timezone").input_value() == "time_zone"
    page.get_by_label("Type of Tags").select_option("list")
    page.get_by_label("Skip Postcode").check()
    screenshots(page, "import-columns")
    page.get_by_role("button", name="Import as active").click()
    page.wait_for_selector("[data-field=state]:text('done')")
    assert page.locator("[data-field=imported]").inner_text() == "5"

    page.goto(f"{live_server.url}/admin/segments/new")
    page.fill("input[name=name]", "Engaged Europeans")
    page.get_by_label("News").check()
    page.get_by_label("Field").select_option("attribs.country")
    page.get_by_label("Test").select_option("in")
    page.get_by_label("Value").fill("DE, FR")
    page.get_by_role("button", name="Add to the condition").click()
    assert page.locator("#expression").input_value() == 'attribs.country in ["DE", "FR"]'
    expect(page.locator("#preview-count")).to_have_text("4")
    assert page.locator("#preview-sample li").all_inner_texts() == [
        "ada@example.org",
        "bob@example.com",
        "dee@example.org",
        "eve@example.com",
    ]
    page.get_by_label("Field").select_option("attribs.vip")
    page.get_by_label("Test").select_option("= true")
    page.get_by_role("button", name="Add to the condition").click()
    assert page.locator("#expression").input_value() == 'attribs.country in ["DE", "FR"] and attribs.vip = true'
    expect(page.locator("#preview-count")).to_have_text("2")
    assert page.locator("#preview-unit").inner_text() == "readers"

    # A typing mistake: the problem is named with its column, under the condition.
    page.locator("#expression").fill('attribs.country in ["DE", "FR"] and attribs.vip = yes')
    problem = page.locator("#expression-problem")
    problem.filter(has_text="column").wait_for()
    assert "(column 51)" in problem.inner_text() and problem.inner_text().rstrip().endswith("^")
    assert page.locator("#expression").get_attribute("aria-invalid") == "true"
    screenshots(page, "segment-editor-error")
    page.locator("#expression").fill('attribs.country in ["DE", "FR"] and attribs.vip = true')
    expect(page.locator("#expression-problem")).to_have_text("")
    screenshots(page, "segment-editor")
    page.get_by_role("button", name="Save segment").click()
    page.wait_for_selector("text=Segment “Engaged Europeans” saved.")
    page.goto(f"{live_server.url}/admin/segments")
    screenshots(page, "segments")
    # The subscriber list filtered by the segment: rows at once, the count fetched after.
    segment_id = db.session.scalar(select(Segment.id).where(Segment.name == "Engaged Europeans"))
    page.goto(f"{live_server.url}/admin/subscribers?segment={segment_id}")
    expect(page.locator("#total-count")).to_have_text("2")
    expect(page.locator("#all-count")).to_have_text("2")

    issue = make_issue("for-europe")
    page.goto(f"{live_server.url}/admin/sends/new?issue={issue.id}")
    page.get_by_label("Only a segment").check()
    page.get_by_label("Segment", exact=True).select_option(label="Engaged Europeans (News)")
    screenshots(page, "send-form-segment")
    page.get_by_role("button", name="Review").click()
    assert page.locator("#confirm-recipients").inner_text() == "2"
    assert page.locator("#confirm-segment").inner_text() == "Engaged Europeans"
    screenshot(page, "send-confirm-segment-1280")
    page.get_by_role("button", name="Send now").click()
    page.wait_for_url("**/admin/sends/*")
    assert "segment: Engaged Europeans" in page.locator("#send-when").inner_text()
    send = eventually(lambda: db.session.scalar(select(Send).where(Send.issue_id == issue.id)))
    assert send.segment_expression == 'attribs.country in ["DE", "FR"] and attribs.vip = true'
    assert page.js_errors == []


def test_the_signup_page_tells_the_readers_time_zone(app, live_server, browser, job_loop):
    from app.subscribers.lists import create_list

    create_list("News", public=True)
    db.session.commit()
    context = browser.new_context(timezone_id="America/Sao_Paulo", locale="pt-BR")
    page = context.new_page()
    page.goto(f"{live_server.url}/subscribe")
    assert page.locator("input[name=time_zone]").input_value() == "America/Sao_Paulo"
    page.fill("input[name=email]", "leitora@example.com")
    page.click("button[type=submit]")
    subscriber = eventually(
        lambda: db.session.scalar(select(Subscriber).where(Subscriber.email == "leitora@example.com"))
    )
    assert subscriber.attributes == {"time_zone": "America/Sao_Paulo", "language": "pt-BR"}
    context.close()


def test_the_segments_page_counts_each_segment_now(app, users, live_server, page, runner):
    from tests.test_audience import import_people

    import_people(app, runner)
    runner.invoke(args=["segments", "create", "Pros", "--list", "News", "--where", 'attribs.plan = "pro"'])
    runner.invoke(args=["segments", "create", "Gold", "--list", "News", "--where", 'attribs.plan = "gold"'])
    browser_login(page, live_server, "admin@example.com")
    page.goto(f"{live_server.url}/admin/segments")
    counts = page.locator("td.count")
    expect(counts.nth(0)).to_have_text("1")  # Gold (by name)
    expect(counts.nth(1)).to_have_text("3")  # Pros
    assert page.js_errors == []
