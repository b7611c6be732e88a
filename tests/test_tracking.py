"""Own click and open tracking: /r/<token> and /o/<token>.gif."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from app.db import db
from app.sending.models import FeedbackEvent
from app.sending.tracking import click_url_factory, open_pixel_url
from app.settings import set_setting
from tests.support.reports import deliveries, make_send


def path(url: str) -> str:
    return urlsplit(url).path


def test_click_redirects_to_the_issue_link_and_counts_it(app, client) -> None:
    delivery = deliveries(make_send(2))[1]
    click_url = click_url_factory(delivery.id)
    tracked = click_url("https://example.org/other?a=1&b=2")
    assert tracked.startswith("http://127.0.0.1:5000/r/")
    assert client.head(path(tracked)).status_code == 302  # a link checker's probe: not counted
    response = client.get(path(tracked))
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.org/other?a=1&b=2"
    events = db.session.execute(select(FeedbackEvent.kind, FeedbackEvent.url, FeedbackEvent.delivery_id)).all()
    assert events == [("click", "https://example.org/other?a=1&b=2", delivery.id)]
    assert client.get(path(tracked)).status_code == 302
    assert [e.is_first for e in db.session.scalars(select(FeedbackEvent).order_by(FeedbackEvent.id))] == [True, False]


def test_links_outside_the_issue_and_tampered_tokens_are_refused(app, client) -> None:
    delivery = deliveries(make_send(1))[0]
    click_url = click_url_factory(delivery.id)
    foreign = click_url("https://evil.example/phish")
    assert client.get(path(foreign)).status_code == 404
    good = path(click_url("https://example.org/story"))
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 400
    assert client.get("/r/not-a-token").status_code == 400
    assert db.session.scalars(select(FeedbackEvent)).all() == []
    # a link present only in the issue's Markdown body is allowed too
    assert client.get(good).status_code == 302


def test_unsubscribe_and_non_http_links_are_never_rewritten(app) -> None:
    click_url = click_url_factory(deliveries(make_send(1))[0].id)
    for url in ("http://127.0.0.1:5000/unsubscribe/abc", "mailto:editor@example.com", "#top"):
        assert click_url(url) == url


def test_open_pixel_counts_only_when_open_tracking_is_on(app, client) -> None:
    delivery = deliveries(make_send(1))[0]
    pixel = path(open_pixel_url(delivery.id))
    response = client.get(pixel)
    assert response.status_code == 200 and response.mimetype == "image/gif"
    assert db.session.scalars(select(FeedbackEvent)).all() == []  # off by default
    set_setting("track_opens", True)
    client.get(pixel)
    assert db.session.scalar(select(FeedbackEvent.kind)) == "open"
    assert client.get(pixel.replace(".gif", "x.gif")).status_code == 400
