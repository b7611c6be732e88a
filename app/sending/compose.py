"""Turning a send and one recipient into an OutgoingMessage.

The rendering domain (``app.rendering.message``) owns the email itself; this
module freezes its output into the Send row when the send starts and builds
one message per recipient from it, with the reader's tracking URLs."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from app.mail import OutgoingMessage, PermanentError
from app.rendering.message import OPEN_PIXEL_SENTINEL, Recipient, build_message, prepare_issue_message
from app.sending.models import Send


@dataclass(frozen=True)
class RecipientRow:
    """What a worker knows about a claimed delivery."""

    delivery_id: int
    subscriber_id: int | None
    list_id: int | None
    email: str
    name: str = ""

    @property
    def id(self) -> int:
        """Duck-types a Delivery for hooks that only need its id (click tracking)."""
        return self.delivery_id


def frozen_placeholder(send_id: int) -> str:
    """The unsubscribe slot in a frozen send's HTML and text. Derived from the
    secret key, so issue content cannot forge it."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"send:{send_id}".encode(), hashlib.sha256)
    return f"https://unsubscribe.invalid/{digest.hexdigest()[:24]}"


def freeze(send: Send) -> None:
    """Store the rendered issue in the Send row: every recipient gets the
    content as it was when the send started, even if the issue is edited."""
    from app.rendering.render import render_issue
    from app.settings import get_setting

    rendered = render_issue(send.issue)
    placeholder = frozen_placeholder(send.id)
    html = rendered.email_html.replace(rendered.unsubscribe_placeholder, placeholder)
    if get_setting("track_opens"):
        # A per-recipient slot the builder fills with that reader's pixel URL.
        pixel = (f'<img src="{OPEN_PIXEL_SENTINEL}" width="1" height="1" alt=""'
                 ' style="display:block;border:0">')
        html = html.replace("</body>", f"{pixel}\n</body>", 1) if "</body>" in html else html + pixel
    send.subject = rendered.subject
    send.html_body = html
    send.text_body = rendered.text.replace(rendered.unsubscribe_placeholder, placeholder)


def link_tracking() -> Callable[[Any], Callable[[str], str] | None] | None:
    """Per-recipient URL mapping for the builder's link slots, or None when
    neither clicks nor opens are tracked. Read once per send. Clicks go
    through ``/r/`` redirects; the open-pixel slot becomes the reader's pixel."""
    from app.sending.tracking import click_url_factory, open_pixel_url
    from app.settings import get_setting

    clicks, opens = bool(get_setting("track_clicks")), bool(get_setting("track_opens"))
    if not clicks and not opens:
        return None

    def for_recipient(row: Any) -> Callable[[str], str]:
        click_url = click_url_factory(row) if clicks else None
        pixel = open_pixel_url(row) if opens else OPEN_PIXEL_SENTINEL

        def url_for(url: str) -> str:
            if url == OPEN_PIXEL_SENTINEL:
                return pixel
            return click_url(url) if click_url else url

        return url_for

    return for_recipient


class Composer:
    """Built once per send per worker; ``compose`` runs in pool threads
    (inside an app context) and never touches the database session."""

    def __init__(self, send: Send) -> None:
        from app.rendering.render import RenderedIssue, web_url_for

        self.send_id = send.id
        lists = sorted(send.lists, key=lambda lst: lst.id)
        from_address = next((lst.from_address for lst in lists if lst.from_address), None)
        self.tags = {"send": str(send.id), "issue": str(send.issue_id)}
        rendered = RenderedIssue(
            slug=send.issue.slug, subject=send.subject, preheader=send.issue.preheader or "",
            email_html=send.html_body, text=send.text_body, web_html="",
            web_url=web_url_for(send.issue.slug), unsubscribe_placeholder=frozen_placeholder(send.id),
            key=f"send-{send.id}")
        self.prepared = prepare_issue_message(rendered, sender=from_address or current_app.config["FROM"],
                                              tags=self.tags)

    def compose(self, row: RecipientRow, click_url: Callable[[str], str] | None = None) -> OutgoingMessage:
        if row.subscriber_id is None:
            raise PermanentError("the subscriber was deleted; no unsubscribe link can be made")
        recipient = Recipient(email=row.email, name=row.name, subscriber_id=row.subscriber_id,
                              list_id=row.list_id, delivery_id=row.delivery_id)
        message = build_message(self.prepared, recipient, click_url=click_url)
        return OutgoingMessage(sender=message.sender, recipient=message.recipient, raw=message.raw,
                               tags={**message.tags, **self.tags})
