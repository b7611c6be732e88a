"""XSS payloads and hostile content in every editor-controlled field, created
through the real domain functions. Shared by tests/test_security_xss.py (parsed
HTML and email) and tests/e2e/test_xss_browser.py (real Chromium).

Every payload either sets ``window.__xss`` (also on ``parent``/``top``) or calls
``alert``, so a browser run can tell whether any of them executed."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from unittest import mock

from PIL import Image

from app.db import db, utcnow
from tests.support.sending import recount_sends

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "<svg onload=window.__xss=1>",
    '<a href="javascript:window.__xss=1">click me</a>',
    "javascript:alert(1)",
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>window.__xss=1</script>",
    "</title><script>window.__xss=1</script>",
    "<details open ontoggle=alert(1)>",
    "{{ 7*7 }}{% if 1 %}<script>window.__xss=1</script>{% endif %}",
    "<img src=x onerror=alert(1)",
    "<scr<script>ipt>window.__xss=1</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<a href="jAvAsCrIpT&colon;alert(1)">x</a>',
    "<input autofocus onfocus=alert(1)>",
    "<body onload=alert(1)>",
]
# File names cannot contain "/": these are the payloads an upload name can carry.
NAME_PAYLOADS = ["<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>', "'onmouseover='alert(1)"]
URL_PAYLOADS = [
    'https://e.example/"><svg/onload=alert(1)>',
    "https://e.example/?q=</a><script>alert(1)</script>",
    "https://e.example/'onmouseover='alert(1)",
]

# Markdown body: every payload as raw HTML, plus Markdown-level link and image tricks.
BODY = "\n\n".join(
    [
        "# Hostile issue",
        *PAYLOADS,
        "[link](javascript:window.__xss=1) and [ref][evil] and ![img](javascript:alert(1))",
        '<a href="data:text/html,<script>alert(1)</script>">data</a>',
        "[evil]: javascript:alert(1)",
        "```\n</code></pre><script>window.__xss=1</script>\n```",
        "[[events]]",
    ]
)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Hostile:
    issue_ids: list[int] = field(default_factory=list)
    issue_slugs: list[str] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    media_ids: list[int] = field(default_factory=list)
    list_ids: list[int] = field(default_factory=list)
    subscriber_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    send_id: int = 0
    unsubscribe_path: str = ""
    fields: dict[str, int] = field(default_factory=dict)  # field -> payloads stored in it


def seed(users: dict[str, Any], *, count: int | None = None) -> Hostile:
    """Store ``count`` payloads (all by default) in every field; returns the ids."""
    from app.auth.service import create_user
    from app.events.service import EventData, create_event
    from app.issues.rendering import freeze
    from app.issues.service import create_issue
    from app.media.service import set_alt_text, upload
    from app.sending.models import Delivery, FeedbackEvent, Send
    from app.subscribers.lists import create_list
    from app.subscribers.service import add_subscriber
    from app.subscribers.service import unsubscribe_token_for as unsubscribe_token

    payloads = PAYLOADS[:count] if count else PAYLOADS
    out = Hostile()
    tally = out.fields
    lists = []
    for index, payload in enumerate(payloads):
        # List names collapse whitespace and must be unique; a suffix keeps them apart.
        lists.append(create_list(f"{payload} #{index}", public=True, description=payload))
        tally["list name"] = tally.get("list name", 0) + 1
        tally["list description"] = tally.get("list description", 0) + 1
    out.list_ids = [m.id for m in lists]
    # argon2 takes ~0.17 s a user: hash once, the rest of create_user runs as is.
    fixed_hash = users["editor"].password_hash
    with mock.patch("app.auth.service.hash_password", lambda _password: fixed_hash):
        for index, payload in enumerate(payloads):
            subscriber = add_subscriber(f"reader{index}@example.com", payload, lists[index])
            out.subscriber_ids.append(subscriber.id)
            tally["subscriber name"] = tally.get("subscriber name", 0) + 1
            user = create_user(f"hostile{index}@example.com", "x" * 12, "editor", payload)
            db.session.commit()
            out.user_ids.append(user.id)
            tally["user name"] = tally.get("user name", 0) + 1
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    for index, payload in enumerate(payloads):
        url = URL_PAYLOADS[index % len(URL_PAYLOADS)]
        event = create_event(
            EventData(
                title=payload,
                url=url,
                start=start + timedelta(hours=index),
                location=payload,
                speakers=payload,
                description=payload,
                list_ids=[lists[0].id],
            )
        )
        out.event_ids.append(event.id)
        for name in ("event title", "event location", "event speakers", "event description"):
            tally[name] = tally.get(name, 0) + 1
    tally["event URL"] = len(payloads)
    for index, payload in enumerate(payloads):
        name = NAME_PAYLOADS[index % len(NAME_PAYLOADS)]
        item = upload(f"{name}{index}.png", _png(), users["editor"])
        set_alt_text(item, payload)
        out.media_ids.append(item.id)
        tally["media alt text"] = tally.get("media alt text", 0) + 1
    tally["media file name"] = len(payloads)
    for index, payload in enumerate(payloads):
        issue = create_issue(
            f"{payload} {index}",
            user=users["editor"],
            slug=f"hostile-{index}",
            subject=payload,
            preheader=payload,
            lists=[lists[0]],
            body=BODY if index == 0 else f"Hello {payload}\n\n{payload}",
        )
        out.issue_ids.append(issue.id)
        out.issue_slugs.append(issue.slug)
        for name in ("issue title", "issue subject", "issue preheader"):
            tally[name] = tally.get(name, 0) + 1
    tally["issue body (Markdown + raw HTML)"] = len(PAYLOADS) + 5
    db.session.commit()

    # The first two issues were "sent" to the public list: archive, feed, sends pages, report.
    first = db.session.get(type(issue), out.issue_ids[0])
    rendering = freeze(first)
    started = utcnow() - timedelta(hours=2)
    send = Send(
        issue=first,
        status="finished",
        scheduled_at=started,
        started_at=started,
        finished_at=started + timedelta(minutes=1),
        recipient_count=len(payloads),
        subject=first.subject,
        rendering=rendering,
        pause_reason=payloads[0],
    )
    send.lists.append(lists[0])
    db.session.add(send)
    db.session.flush()
    for index, payload in enumerate(payloads):
        delivery = Delivery(
            send_id=send.id,
            subscriber_id=out.subscriber_ids[index],
            list_id=lists[0].id,
            email=f"reader{index}@example.com",
            status="failed" if index % 2 else "sent",
            error=payload if index % 2 else None,
            attempts=1,
            sent_at=started,
            message_id=f"hostile-{index}",
        )
        db.session.add(delivery)
        db.session.flush()
        db.session.add(
            FeedbackEvent(
                send_id=send.id,
                delivery_id=delivery.id,
                email=delivery.email,
                kind="click" if index % 2 == 0 else "hard_bounce",
                detail=payload,
                url=URL_PAYLOADS[index % len(URL_PAYLOADS)],
                occurred_at=started,
            )
        )
    for issue_id in out.issue_ids[:2]:
        db.session.get(type(issue), issue_id).status = "sent"
    recount_sends()
    db.session.commit()
    out.send_id = send.id
    out.unsubscribe_path = f"/unsubscribe/{unsubscribe_token(out.subscriber_ids[0], lists[0].id)}"
    return out


def admin_pages(h: Hostile) -> list[str]:
    """Every admin page that shows the hostile fields."""
    return [
        "/admin/",
        "/admin/issues",
        f"/admin/issues/{h.issue_ids[0]}",
        f"/admin/issues/{h.issue_ids[1]}",
        f"/admin/issues/{h.issue_ids[2]}",
        f"/admin/issues/{h.issue_ids[0]}/revisions",
        f"/admin/issues/{h.issue_ids[0]}/preview-window",
        f"/admin/events/issue/{h.issue_ids[0]}",
        "/admin/events",
        "/admin/events?tab=past",
        f"/admin/events/{h.event_ids[0]}/edit",
        f"/admin/events/{h.event_ids[1]}/edit",
        "/admin/media",
        "/admin/subscribers",
        f"/admin/subscribers/{h.subscriber_ids[0]}",
        f"/admin/subscribers/{h.subscriber_ids[1]}",
        "/admin/subscribers/lists",
        f"/admin/subscribers/lists/{h.list_ids[0]}",
        "/admin/subscribers/import",
        "/admin/sends",
        f"/admin/sends/{h.send_id}",
        f"/admin/sends/new?issue={h.issue_ids[2]}",
        "/admin/reports/",
        f"/admin/reports/{h.send_id}",
        "/admin/users",
        "/admin/settings",
    ]


def public_pages(h: Hostile) -> list[str]:
    return [
        "/issues/",
        f"/issues/{h.issue_slugs[0]}",
        f"/issues/{h.issue_slugs[1]}",
        "/feed.xml",
        "/events",
        "/events.ics",
        "/subscribe",
        h.unsubscribe_path,
    ]
