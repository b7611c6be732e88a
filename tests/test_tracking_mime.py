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
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
                for p in sorted(outbox.glob("*.eml"))]
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
