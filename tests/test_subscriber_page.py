"""A subscriber's page as the admin sees it (HTML parsed): name and address
editing with the refusals shown beside the field, type-aware attribute inputs
with per-field errors (4xx, nothing saved, nothing typed lost), and the
timeline of everything that happened to them, in time order."""

from __future__ import annotations

from datetime import timedelta

import lxml.html
from sqlalchemy import select

from app.audit import AuditEvent
from app.db import db, utcnow
from app.sending.models import FeedbackEvent
from app.subscribers.attributes import define
from app.subscribers.lists import create_list
from app.subscribers.models import Subscriber, Subscription
from app.subscribers.service import add_subscriber
from app.subscribers.suppression import suppress
from tests.support.sending import recount_sends, sent_delivery


def doc_of(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def test_name_and_address_are_edited_and_refusals_shown_beside_the_field(admin_client, app):
    news = create_list("News")
    ada = add_subscriber("ada@example.org", "Ada", news)
    add_subscriber("taken@example.org", "", news)
    suppress("blocked@example.org", "complaint", "ses")
    db.session.commit()
    url = f"/admin/subscribers/{ada.id}/details"

    for email, status, message in (
        ("taken@example.org", 409, "belongs to another subscriber"),
        ("blocked@example.org", 400, "suppression list"),
        ("not an address", 400, "not a valid email address"),
    ):
        response = admin_client.post(url, data={"name": "Ada L", "email": email})
        assert response.status_code == status
        doc = doc_of(response)
        field = doc.get_element_by_id("detail-email")
        assert field.get("value") == email and field.get("aria-invalid") == "true"  # what was typed stays
        assert message in doc.get_element_by_id("detail-email-error").text_content()
        assert doc.get_element_by_id("detail-name").get("value") == "Ada L"
        db.session.refresh(ada)
        assert (ada.email, ada.name) == ("ada@example.org", "Ada")  # nothing half-saved

    response = admin_client.post(url, data={"name": "Ada Lovelace", "email": "ADA.L@Example.org"})
    assert response.status_code == 302
    db.session.refresh(ada)
    assert (ada.email, ada.name) == ("ada.l@example.org", "Ada Lovelace")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.subject_id == ada.id)).all()
    assert {(e.action, e.actor_email) for e in events} == {
        ("name", "admin@example.com"),
        ("email", "admin@example.com"),
    }
    timeline = doc_of(admin_client.get(f"/admin/subscribers/{ada.id}")).cssselect("ol.timeline li")
    changed = [li.text_content() for li in timeline if li.get("data-kind") == "email"]
    assert len(changed) == 1 and "ada@example.org → ada.l@example.org" in changed[0]


def test_attributes_have_typed_inputs_and_errors_next_to_each_field(admin_client, app):
    news = create_list("News")
    ada = add_subscriber("ada@example.org", "Ada", news)
    for key, type_ in (("age", "number"), ("vip", "boolean"), ("renewal", "date"), ("tags", "list"), ("plan", "text")):
        define(key, type_)
    db.session.commit()
    page = doc_of(admin_client.get(f"/admin/subscribers/{ada.id}"))
    assert page.get_element_by_id("attr-renewal").get("type") == "date"
    assert page.get_element_by_id("attr-age").get("inputmode") == "decimal"
    assert page.get_element_by_id("attr-vip").tag == "select"
    labels = {label.get("for"): label.text_content() for label in page.cssselect("form.attributes label")}
    assert "items separated by ;" in labels["attr-tags"] and set(labels) >= {"attr-time_zone", "attr-language"}

    bad = {
        "attr.age": "forty",
        "attr.time_zone": "Mars/Olympus",
        "attr.plan": "pro",
        "attr.tags": "a; b",
        "attr.vip": "true",
    }
    response = admin_client.post(f"/admin/subscribers/{ada.id}/attributes", data=bad)
    assert response.status_code == 400
    doc = doc_of(response)
    assert "attribs.age" in doc.get_element_by_id("attr-age-error").text_content()
    assert "time zone" in doc.get_element_by_id("attr-time_zone-error").text_content()
    assert not doc.cssselect("#attr-plan-error")
    assert doc.get_element_by_id("attr-age").get("value") == "forty"  # kept as typed
    assert doc.get_element_by_id("attr-plan").get("value") == "pro"
    assert doc.get_element_by_id("attr-age").get("aria-describedby") == "attr-age-error"
    db.session.refresh(ada)
    assert ada.attributes == {}

    good = {**bad, "attr.age": "41", "attr.time_zone": "Europe/Berlin", "attr.renewal": "2026-05-01"}
    assert admin_client.post(f"/admin/subscribers/{ada.id}/attributes", data=good).status_code == 302
    db.session.refresh(ada)
    assert ada.attributes == {
        "age": 41,
        "time_zone": "Europe/Berlin",
        "plan": "pro",
        "tags": ["a", "b"],
        "vip": True,
        "renewal": "2026-05-01",
    }
    page = doc_of(admin_client.get(f"/admin/subscribers/{ada.id}"))
    assert page.get_element_by_id("attr-tags").get("value") == "a; b"
    assert page.cssselect("#attr-vip option[selected]")[0].get("value") == "true"
    # an emptied field removes the attribute
    assert (
        admin_client.post(f"/admin/subscribers/{ada.id}/attributes", data={**good, "attr.plan": ""}).status_code == 302
    )
    db.session.refresh(ada)
    assert "plan" not in ada.attributes
    kinds = [
        li.get("data-kind")
        for li in doc_of(admin_client.get(f"/admin/subscribers/{ada.id}")).cssselect("ol.timeline li")
    ]
    assert kinds.count("attributes") == 2


def test_the_timeline_tells_everything_in_time_order(admin_client, app, editor_client):
    news = create_list("News")
    t0 = utcnow() - timedelta(days=10)
    ada = add_subscriber("ada@example.org", "Ada", news, status="pending", source="signup")
    subscription = db.session.get(Subscription, (ada.id, news.id))
    ada.created_at = subscription.created_at = t0
    subscription.status, subscription.confirmed_at = "active", t0 + timedelta(hours=1)
    delivery = sent_delivery(ada, news, sent_at=t0 + timedelta(days=1))
    for kind, hours, url in (("open", 25, None), ("click", 26, "https://example.org/story"), ("soft_bounce", 30, None)):
        db.session.add(
            FeedbackEvent(
                send_id=delivery.send_id,
                delivery_id=delivery.id,
                email=ada.email,
                kind=kind,
                url=url,
                occurred_at=t0 + timedelta(hours=hours),
            )
        )
    recount_sends()
    db.session.commit()
    assert admin_client.post(f"/admin/subscribers/{ada.id}/unsubscribe", data={"list_id": news.id}).status_code == 302
    assert (
        admin_client.post(
            f"/admin/subscribers/{ada.id}/details", data={"name": "Ada L", "email": ada.email}
        ).status_code
        == 302
    )

    for client in (admin_client, editor_client):  # editors see it too
        doc = doc_of(client.get(f"/admin/subscribers/{ada.id}"))
        items = doc.cssselect("ol.timeline li")
        kinds = [li.get("data-kind") for li in items]
        assert kinds == [
            "created",
            "signup",
            "confirmed",
            "send",
            "open",
            "click",
            "soft_bounce",
            "unsubscribed",
            "name",
        ]
        times = [li.cssselect("time")[0].get("datetime") for li in items]
        assert times == sorted(times)
        text = {li.get("data-kind"): " ".join(li.text_content().split()) for li in items}
        assert "source: signup" in text["signup"] and "Issue one" in text["send"] and "sent" in text["send"]
        assert "https://example.org/story" in text["click"]
        assert "Unsubscribed from News" in text["unsubscribed"]
        assert "Ada → Ada L" in text["name"]
        assert "No IP address is recorded" in doc.text_content()
    assert db.session.scalar(select(Subscriber.name).where(Subscriber.id == ada.id)) == "Ada L"
