"""Double opt-in signup: outbox mail, confirm, replay/tamper refusal, no
enumeration through the response."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db import db
from app.subscribers.lists import create_list
from app.subscribers.models import Subscriber, Subscription
from app.subscribers.suppression import suppress
from app.tokens import unsubscribe_token
from tests.support.jobs import run_jobs


def outbox(app) -> Path:
    return Path(app.config["TRANSPORT"].removeprefix("outbox:"))


def mails(app) -> list:
    folder = outbox(app)
    if not folder.exists():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]


def confirm_path(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(/confirm/\S+)", body)
    assert match, body
    return match.group(1)


def strip_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


@pytest.fixture
def news(app):
    return create_list("News", public=True)


def subscription(email: str) -> Subscription | None:
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == email))
    return subscriber.subscriptions[0] if subscriber and subscriber.subscriptions else None


def test_signup_confirm_activates_and_replay_is_refused(app, client, news):
    page = client.get("/subscribe")
    assert page.status_code == 200 and b'name="website"' in page.data
    response = client.post("/subscribe", data={"email": "  Reader@Example.COM ", "name": "Rea Der"})
    run_jobs(app)
    assert response.status_code == 200
    assert subscription("reader@example.com").status == "pending"
    [message] = mails(app)
    assert message["To"] == "reader@example.com"
    path = confirm_path(message)

    # Opening the link (as a mail scanner would) only shows a button.
    looked = client.get(path)
    assert looked.status_code == 200 and b"Yes, subscribe me" in looked.data
    assert subscription("reader@example.com").status == "pending"

    confirmed = client.post(path)
    assert confirmed.status_code == 200 and b"News" in confirmed.data
    sub = subscription("reader@example.com")
    assert sub.status == "active" and sub.confirmed_at is not None

    replay = client.post(path)
    assert replay.status_code == 400 and b"already been used" in replay.data

    tampered = client.get(path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb"))
    assert tampered.status_code == 400 and b"not valid" in tampered.data


def test_old_confirm_link_cannot_resubscribe_after_unsubscribe(app, client, news):
    from app.subscribers.service import unsubscribe

    client.post("/subscribe", data={"email": "a@example.com"})
    run_jobs(app)
    path = confirm_path(mails(app)[0])
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == "a@example.com"))
    unsubscribe(subscriber, news)
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    assert subscription("a@example.com").status == "unsubscribed"


def test_expired_confirm_link(app, client, news):
    client.post("/subscribe", data={"email": "late@example.com"})
    run_jobs(app)
    path = confirm_path(mails(app)[0])
    app.config["CONFIRM_TOKEN_MAX_AGE"] = -1
    response = client.get(path)
    assert response.status_code == 400 and b"expired" in response.data
    assert subscription("late@example.com").status == "pending"


def test_existing_address_looks_like_a_new_one(app, client, news):
    fresh = client.post("/subscribe", data={"email": "new@example.com"})
    run_jobs(app)
    app.config["SIGNUP_ADDRESS_INTERVAL"] = 0
    client.post("/subscribe", data={"email": "old@example.com"})
    run_jobs(app)
    client.post(confirm_path(mails(app)[-1]))
    assert subscription("old@example.com").status == "active"
    again = client.post("/subscribe", data={"email": "old@example.com"})
    run_jobs(app)
    suppress("gone@example.com", "complaint")
    blocked = client.post("/subscribe", data={"email": "gone@example.com"})
    run_jobs(app)
    for other in (again, blocked):
        assert other.status_code == fresh.status_code
        assert strip_csrf(other.get_data(as_text=True)) == strip_csrf(fresh.get_data(as_text=True))
    subjects = [m["Subject"] for m in mails(app)]
    assert any("already subscribed" in s for s in subjects)
    assert not any(m["To"] == "gone@example.com" for m in mails(app))
    assert subscription("old@example.com").status == "active"
    assert db.session.scalar(select(Subscriber).where(Subscriber.email == "gone@example.com")) is None


def test_honeypot_invalid_address_and_list_choice(app, client, news):
    create_list("Events", public=True)
    bot = client.post("/subscribe", data={"email": "bot@example.com", "website": "http://spam", "list": [str(news.id)]})
    run_jobs(app)
    assert bot.status_code == 200
    assert db.session.scalar(select(Subscriber)) is None and mails(app) == []
    bad = client.post("/subscribe", data={"email": "not-an-address", "list": [str(news.id)]})
    run_jobs(app)
    assert bad.status_code == 400 and b"not a valid email" in bad.data
    nolist = client.post("/subscribe", data={"email": "x@example.com"})
    run_jobs(app)
    assert nolist.status_code == 400
    page = client.get("/subscribe").get_data(as_text=True)
    assert page.count('name="list"') == 2


def test_per_address_rate_limit_sends_one_mail(app, client, news):
    for _ in range(3):
        assert client.post("/subscribe", data={"email": "hammer@example.com"}).status_code == 200
        run_jobs(app)
    assert len(mails(app)) == 1


@pytest.fixture
def tight_limit(app_config):
    app_config["SIGNUP_RATE_LIMIT"] = "2 per hour"


def test_per_ip_rate_limit(tight_limit, app, client, news):
    codes = [client.post("/subscribe", data={"email": f"ip{i}@example.com"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_readers_see_a_lists_display_name_everywhere(app, client, admin_client) -> None:
    tag = create_list("ffl-monthly", public=True)
    created = admin_client.post(
        f"/admin/subscribers/lists/{tag.id}",
        data={"name": "ffl-monthly", "display_name": "Fast Forward Labs — monthly research digest", "public": "on"},
    )
    assert created.status_code in (302, 303)
    assert "Fast Forward Labs — monthly research digest" in client.get("/subscribe").get_data(as_text=True)
    client.post("/subscribe", data={"email": "reader@example.com"})
    run_jobs(app)
    [message] = mails(app)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "subscribe this address to “Fast Forward Labs — monthly research digest”" in text
    path = confirm_path(message)
    assert "<strong>Fast Forward Labs — monthly research digest</strong>" in client.get(path).get_data(as_text=True)
    client.post(path)
    reader = db.session.scalar(select(Subscriber).where(Subscriber.email == "reader@example.com"))
    page = client.get(f"/unsubscribe/{unsubscribe_token(reader.id, tag.id, reader.token_nonce)}")
    html = page.get_data(as_text=True)
    assert "Stop receiving Fast Forward Labs — monthly research digest?" in html
    assert "ffl-monthly" not in html  # the short name is the team's, not the readers'


def test_two_lists_are_named_as_a_sentence_and_nothing_is_pre_ticked(app, client) -> None:
    research = create_list("research", public=True)
    weekly = create_list("weekly", public=True)
    page = client.get("/subscribe").get_data(as_text=True)
    assert re.findall(r'name="list" value="\d+" ?(checked)?', page) == ["", ""]  # the reader's own choice
    assert "Choose a newsletter" in client.post("/subscribe", data={"email": "a@example.com"}).get_data(as_text=True)
    client.post("/subscribe", data={"email": "a@example.com", "list": [research.id, weekly.id]})
    run_jobs(app)
    [message] = mails(app)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "subscribe this address to “research” and “weekly”." in text


def test_signup_records_the_browser_s_time_zone_and_language_for_a_new_reader_only(app, client, news):
    page = client.get("/subscribe")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]  # the hint script runs here only
    assert "script-src 'none'" in client.get("/issues/").headers["Content-Security-Policy"]
    client.post(
        "/subscribe",
        data={"email": "new@example.com", "time_zone": "Europe/Berlin"},
        headers={"Accept-Language": "pt-br,pt;q=0.8,en;q=0.5"},
    )
    client.post("/subscribe", data={"email": "odd@example.com", "time_zone": "Mars/Olympus"})
    run_jobs(app)
    new = db.session.scalar(select(Subscriber).where(Subscriber.email == "new@example.com"))
    assert new.attributes == {"time_zone": "Europe/Berlin", "language": "pt-BR"}
    odd = db.session.scalar(select(Subscriber).where(Subscriber.email == "odd@example.com"))
    assert odd.attributes == {}  # an unknown zone is dropped, not stored
    # Anyone can type a known address: the form never changes an existing reader's attributes.
    client.post("/subscribe", data={"email": "new@example.com", "time_zone": "Asia/Tokyo"})
    run_jobs(app)
    db.session.expire_all()
    assert new.attributes["time_zone"] == "Europe/Berlin"
