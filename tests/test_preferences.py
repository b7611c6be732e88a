"""The preference centre behind the unsubscribe link (issue 16): every public
list and the reader's own lists as checkboxes, one button saves, the reader's
name, nothing about anyone else; the RFC 8058 one-click POST unchanged; no
private list can be joined by a forged form; a bounced address stays blocked."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.db import db
from app.subscribers.lists import create_list
from app.subscribers.models import MailingList, Subscriber, Subscription, Suppression
from app.subscribers.service import add_subscriber
from app.subscribers.service import unsubscribe_token_for as token_for
from app.subscribers.suppression import is_suppressed, suppress


@pytest.fixture
def reader(app):
    weekly = create_list("weekly", public=True)
    weekly.display_name = "The weekly issue"
    monthly = create_list("monthly", public=True, description="Long reads, once a month.")
    create_list("clients")  # private, the reader is not on it
    subscriber = add_subscriber("reader@example.com", "Rea Der", weekly)
    add_subscriber("other@example.com", "Someone Else", weekly)
    db.session.commit()
    return subscriber.id, weekly.id, monthly.id


def _statuses(subscriber_id: int) -> dict[int, str]:
    rows = db.session.scalars(select(Subscription).where(Subscription.subscriber_id == subscriber_id))
    return {row.list_id: row.status for row in rows}


def test_the_page_lists_the_readers_choices_and_nothing_of_others(app, client, reader) -> None:
    subscriber_id, weekly_id, monthly_id = reader
    page = client.get(f"/unsubscribe/{token_for(subscriber_id, weekly_id)}").get_data(as_text=True)
    assert "For reader@example.com." in page
    boxes = dict(re.findall(r'name="list" value="(\d+)" (checked)?', page))
    assert boxes == {str(weekly_id): "checked", str(monthly_id): ""}  # public lists; not "clients"
    assert "The weekly issue" in page and "Long reads, once a month." in page
    assert 'value="Rea Der"' in page
    assert "other@example.com" not in page and "Someone Else" not in page


def test_save_changes_one_list_and_leaves_the_others(app, client, reader) -> None:
    subscriber_id, weekly_id, monthly_id = reader
    path = f"/unsubscribe/{token_for(subscriber_id, weekly_id)}"
    private_id = create_list("secret-club").id
    saved = client.post(
        path, data={"action": "preferences", "list": [weekly_id, monthly_id, private_id], "name": "  Rea  Dy "}
    )
    assert saved.status_code == 200
    assert "Saved: subscribed to monthly; name updated." in saved.get_data(as_text=True)
    assert _statuses(subscriber_id) == {weekly_id: "active", monthly_id: "active"}  # the forged private id ignored
    assert db.session.get(Subscriber, subscriber_id).name == "Rea Dy"

    client.post(path, data={"action": "preferences", "list": [monthly_id], "name": "Rea Dy"})
    assert _statuses(subscriber_id) == {weekly_id: "unsubscribed", monthly_id: "active"}
    other = db.session.scalar(select(Subscriber).where(Subscriber.email == "other@example.com"))
    assert _statuses(other.id) == {weekly_id: "active"}  # another reader is untouched


def test_one_click_post_keeps_its_behaviour(app, client, reader) -> None:
    subscriber_id, weekly_id, monthly_id = reader
    add_subscriber("reader@example.com", "", db.session.get(MailingList, monthly_id))
    response = client.post(
        f"/unsubscribe/{token_for(subscriber_id, weekly_id)}", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert _statuses(subscriber_id) == {weekly_id: "unsubscribed", monthly_id: "active"}  # that list only
    assert not is_suppressed("reader@example.com")


def test_after_everything_ticking_a_list_lifts_only_the_readers_own_block(app, client, reader) -> None:
    subscriber_id, weekly_id, monthly_id = reader
    path = f"/unsubscribe/{token_for(subscriber_id, weekly_id)}"
    client.post(path, data={"scope": "all"})
    assert is_suppressed("reader@example.com")
    client.post(path, data={"action": "preferences", "list": [monthly_id]})
    assert not is_suppressed("reader@example.com")
    assert _statuses(subscriber_id) == {weekly_id: "unsubscribed", monthly_id: "active"}

    suppress("reader@example.com", "hard-bounce", "ses", unsubscribe_all=True)
    page = client.get(path).get_data(as_text=True)
    assert "bounced or was reported as spam" in page and "disabled" in page
    refused = client.post(path, data={"action": "preferences", "list": [weekly_id]})
    assert refused.status_code == 400
    assert db.session.scalar(select(Suppression.reason)) == "hard-bounce"
    assert _statuses(subscriber_id)[weekly_id] == "unsubscribed"
