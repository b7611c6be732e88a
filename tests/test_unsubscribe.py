"""Unsubscribe: GET changes nothing, POST (also RFC 8058 one-click with no
session and no CSRF token) unsubscribes, tampered tokens change nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.db import db
from app.subscribers.lists import create_list
from app.subscribers.models import Subscription, Suppression
from app.subscribers.service import add_subscriber
from app.subscribers.service import unsubscribe_token_for as unsubscribe_token
from app.subscribers.suppression import is_suppressed
from app.tokens import unsubscribe_token as raw_token


@pytest.fixture
def csrf_app(app_config):
    app_config["WTF_CSRF_ENABLED"] = True  # as in production: prove the exemption


@pytest.fixture
def member(app):
    news = create_list("News", public=True)
    events = create_list("Events")
    subscriber = add_subscriber("member@example.com", "Mem Ber", news)
    add_subscriber("member@example.com", "", events)
    return subscriber.id, news.id, events.id


def status(subscriber_id: int, list_id: int) -> str:
    return db.session.get(Subscription, (subscriber_id, list_id)).status


def test_get_changes_nothing(csrf_app, app, client, member):
    subscriber_id, news_id, _ = member
    page = client.get(f"/unsubscribe/{unsubscribe_token(subscriber_id, news_id)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "News" in html and "Unsubscribe from everything" in html and 'method="post"' in html
    assert status(subscriber_id, news_id) == "active"


def test_one_click_post_without_session_or_csrf(csrf_app, app, member):
    subscriber_id, news_id, events_id = member
    client = app.test_client(use_cookies=False)
    response = client.post(
        f"/unsubscribe/{unsubscribe_token(subscriber_id, news_id)}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert status(subscriber_id, news_id) == "unsubscribed"
    assert db.session.get(Subscription, (subscriber_id, news_id)).unsubscribed_at is not None
    assert status(subscriber_id, events_id) == "active"
    # an old token keeps working (idempotent)
    again = client.post(
        f"/unsubscribe/{unsubscribe_token(subscriber_id, news_id)}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert again.status_code == 200


def test_tampered_token_gets_400_and_no_change(csrf_app, app, client, member):
    subscriber_id, news_id, _ = member
    token = unsubscribe_token(subscriber_id, news_id)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for method in (client.get, client.post):
        assert method(f"/unsubscribe/{forged}").status_code == 400
    other = raw_token(subscriber_id + 1, news_id, "nonce").split(".")[1]
    assert client.post(f"/unsubscribe/{token.split('.')[0]}.{other}").status_code == 400
    assert status(subscriber_id, news_id) == "active"
    assert "member@example.com" not in token


def test_everything_then_resubscribe(csrf_app, app, client, member):
    subscriber_id, news_id, events_id = member
    done = client.post(f"/unsubscribe/{unsubscribe_token(subscriber_id, news_id)}", data={"scope": "all"})
    assert done.status_code == 200
    assert status(subscriber_id, news_id) == status(subscriber_id, events_id) == "unsubscribed"
    assert is_suppressed("member@example.com")
    from app.subscribers.models import Subscriber

    assert db.session.get(Subscriber, subscriber_id).status == "suppressed"
    row = db.session.scalar(select(Suppression))
    assert row.reason == "unsubscribed-all" and row.email == "member@example.com"
    html = done.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert client.get("/resubscribe").status_code == 405  # no state change from GET
    back = client.post("/resubscribe", data={"token": token})
    assert back.status_code == 200
    assert status(subscriber_id, news_id) == status(subscriber_id, events_id) == "active"
    assert not is_suppressed("member@example.com")
    from app.subscribers.models import Subscriber

    assert db.session.get(Subscriber, subscriber_id).status == "enabled"  # mailable again
    assert client.post("/resubscribe", data={"token": token}).status_code == 400
    assert client.post("/resubscribe", data={"token": token + "x"}).status_code == 400


def test_link_of_a_deleted_list_does_not_unsubscribe_from_everything(app, client, member):
    from app.subscribers.models import MailingList

    subscriber_id, news_id, events_id = member
    token = unsubscribe_token(subscriber_id, news_id)
    db.session.delete(db.session.get(MailingList, news_id))
    db.session.commit()
    assert client.get(f"/unsubscribe/{token}").status_code == 200
    assert (
        client.post(
            f"/unsubscribe/{token}", data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )
    assert status(subscriber_id, events_id) == "active" and not is_suppressed("member@example.com")
