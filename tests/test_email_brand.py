"""The newsletter's brand in every email (issue 16): the accent colour on links
and the rule under the masthead, the footer text and postal address, and each
reader's own line saying why they get it ("... subscribed to The weekly issue
on 4 March 2026"), filled per reader at send time."""

from __future__ import annotations

from datetime import datetime

from lxml import html as lxml_html
from sqlalchemy import update

from app.db import db
from app.sending import service
from app.sending.worker import worker_for
from app.settings import set_setting
from app.subscribers.models import Subscription
from tests.support.outbox import outbox_mails
from tests.support.rendering import make_issue as body_issue
from tests.support.rendering import render
from tests.support.sending import make_issue, make_list


def test_each_reader_is_told_why_and_the_brand_shows(app) -> None:
    set_setting("accent_color", "#b5179e")
    set_setting("footer_text", "Fast Forward Labs is part of Cloudera.")
    readers = make_list("weekly", 2)
    readers.display_name = "The weekly issue"
    db.session.execute(
        update(Subscription)
        .where(Subscription.list_id == readers.id)
        .values(confirmed_at=datetime(2026, 3, 4, 10, 0), created_at=datetime(2026, 3, 1))
    )
    issue = make_issue()
    service.create_send(issue, [readers])
    db.session.commit()
    worker_for(app).run(once=True)

    mails = outbox_mails(app)
    assert len(mails) == 2
    for mail in mails:
        html = mail.get_body(preferencelist=("html",)).get_content()
        doc = lxml_html.fromstring(html)
        footer = " ".join(doc.find_class("footer")[0].text_content().split())
        assert "You are receiving this email because you subscribed to The weekly issue on March 4, 2026." in footer
        assert "Fast Forward Labs is part of Cloudera." in footer and "1 Test Street, Testville" in footer
        assert "background-color:#b5179e" in html.replace(" ", "")  # the rule under the masthead
        link = doc.xpath("//td[contains(@class,'content')]//a")[0]
        assert "color:#b5179e" in link.get("style").replace(" ", "")
        text = mail.get_body(preferencelist=("plain",)).get_content()
        assert "subscribed to The weekly issue on March 4, 2026." in text
        assert "slot.invalid" not in html and "slot.invalid" not in text


def test_an_accent_that_is_not_a_colour_never_reaches_the_style(app) -> None:
    set_setting("accent_color", "red;background:url(https://evil.example/x)")
    html = render(body_issue("A [link](https://example.org/).")).email_html
    assert "evil.example" not in html and "color:#0b57d0" in html.replace(" ", "")


def test_a_sent_issues_preview_shows_what_readers_got(app, admin_client) -> None:
    readers = make_list("weekly", 1)
    issue = make_issue()
    service.create_send(issue, [readers])
    db.session.commit()
    worker_for(app).run(once=True)
    set_setting("newsletter_name", "Renamed Since")  # settings changed after the send
    preview = admin_client.post(
        "/admin/issues/preview", json={"issue_id": issue.id, "body": issue.body, "subject": issue.subject}
    ).get_json()
    assert "Renamed Since" not in preview["email_html"]
    assert "Pressroom Newsletter" in preview["email_html"]  # the name it went out with
    draft = admin_client.post("/admin/issues/preview", json={"body": "Hello", "subject": "S"}).get_json()
    assert "Renamed Since" in draft["email_html"]  # a draft renders with today's settings
