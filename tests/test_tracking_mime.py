"""Click tracking through the real pipeline: send + worker (outbox transport)
+ message builder. Content links become /r/ links that lead back to the
issue's URL; the unsubscribe links are never rewritten."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from app.db import db
from app.sending.models import FeedbackEvent
from tests.support.sending import make_issue, make_list


def test_sent_mime_tracks_content_links_but_not_unsubscribe(app, runner) -> None:
    issue = make_issue()
    make_list("Readers", 2)
    assert runner.invoke(args=["send", issue.slug, "--list", "Readers"]).exit_code == 0
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    outbox = Path(app.config["TRANSPORT"].removeprefix("outbox:"))
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]
    assert len(messages) == 2
    client = app.test_client()
    tracked_paths = set()
    for message in messages:
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        hrefs = re.findall(r'href="([^"]+)"', html)
        tracked = [h for h in hrefs if "/r/" in h]
        unsubscribe = [h for h in hrefs if "/unsubscribe/" in h]
        assert tracked and unsubscribe
        assert "https://example.org/x" not in html and "https://example.org/x" not in text
        assert "/unsubscribe/" in message["List-Unsubscribe"] and "/r/" not in message["List-Unsubscribe"]
        assert any("/unsubscribe/" in line for line in text.splitlines())
        tracked_paths.add(urlsplit(tracked[0].replace("&amp;", "&")).path)
    assert len(tracked_paths) == 2  # one token per recipient
    for path in tracked_paths:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "https://example.org/x"
    clicks = db.session.scalars(select(FeedbackEvent).where(FeedbackEvent.kind == "click")).all()
    assert len({c.delivery_id for c in clicks}) == 2


def test_open_pixel_per_recipient_when_opens_are_tracked(app, runner) -> None:
    from app.settings import set_setting

    set_setting("track_opens", True)
    set_setting("track_clicks", False)
    issue = make_issue()
    make_list("Readers", 2)
    assert runner.invoke(args=["send", issue.slug, "--list", "Readers"]).exit_code == 0
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    outbox = Path(app.config["TRANSPORT"].removeprefix("outbox:"))
    pixels = set()
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        html = message.get_body(("html",)).get_content()
        assert "open-pixel.invalid" not in html
        assert "/r/" not in html  # clicks are not tracked here; content links stay as written
        [pixel] = re.findall(r'<img src="([^"]+/o/[^"]+\.gif)" width="1" height="1"', html)
        pixels.add(urlsplit(pixel).path)
    assert len(pixels) == 2  # one pixel per recipient
    client = app.test_client()
    for path in pixels:
        assert client.get(path).status_code == 200
    opens = db.session.scalars(select(FeedbackEvent).where(FeedbackEvent.kind == "open")).all()
    assert len({o.delivery_id for o in opens}) == 2


def test_no_pixel_by_default(app, runner) -> None:
    issue = make_issue()
    make_list("Readers", 1)
    runner.invoke(args=["send", issue.slug, "--list", "Readers"])
    runner.invoke(args=["worker", "--once"])
    outbox = Path(app.config["TRANSPORT"].removeprefix("outbox:"))
    [path] = outbox.glob("*.eml")
    assert "/o/" not in path.read_text() and "open-pixel" not in path.read_text()


def test_a_link_that_shows_its_address_is_not_rewritten(app) -> None:
    """Tracked, "https://colab.example/x" would lead to our click host: SpamAssassin's
    HTTPS_HTTP_MISMATCH (2020-04-23-client) and a phishing look to readers."""
    from lxml import html as lxml_html

    from tests.support.rendering import make_issue, render

    rendered = render(
        make_issue("See [https://colab.example/x](https://colab.example/x) and [this](https://b.example/).")
    )
    hrefs = lxml_html.document_fromstring(rendered.email_html).xpath("//div//a/@href | //td//a/@href")
    assert "https://colab.example/x" in hrefs
    assert rendered.links == ("https://b.example/",)  # the other link is still tracked
