"""Turning a send and one recipient into an OutgoingMessage.

The rendering domain (``app.rendering.message``) owns the email itself; this
module freezes its output into the Send row when the send starts and builds
one message per recipient from it. Until that module is present a plain
fallback keeps the engine usable (same headers, simpler body)."""

from __future__ import annotations

import hashlib
import hmac
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Any

from flask import current_app

from app.sending.models import Delivery, Send
from app.sending.transport import OutgoingMessage
from app.subscribers.tokens import unsubscribe_url


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


def _rendering() -> Any | None:
    try:
        return importlib.import_module("app.rendering.message")
    except ModuleNotFoundError as exc:
        if exc.name not in ("app.rendering.message", "app.rendering"):
            raise
        return None


def frozen_placeholder(send_id: int) -> str:
    """The unsubscribe slot in a frozen send's HTML and text. Derived from the
    secret key, so issue content cannot forge it."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"send:{send_id}".encode(), hashlib.sha256)
    return f"https://unsubscribe.invalid/{digest.hexdigest()[:24]}"


def freeze(send: Send) -> None:
    """Store the rendered issue in the Send row: every recipient gets the
    content as it was when the send started, even if the issue is edited."""
    rendering = _rendering()
    issue = send.issue
    if rendering is not None:
        from app.rendering.render import render_issue

        rendered = render_issue(issue)
        placeholder = frozen_placeholder(send.id)
        send.subject = rendered.subject
        send.html_body = rendered.email_html.replace(rendered.unsubscribe_placeholder, placeholder)
        send.text_body = rendered.text.replace(rendered.unsubscribe_placeholder, placeholder)
        return
    from app.rendering.markdown import render_markdown

    base_url = current_app.config["BASE_URL"]
    send.subject = issue.subject or issue.title
    send.html_body = render_markdown(issue.body, base_url)
    send.text_body = issue.body


def click_tracking() -> Callable[[Any], Any] | None:
    """The reports domain's ``click_url_factory(delivery)`` when that module
    exists and click tracking is on, else None. Read once per send."""
    from app.settings import get_setting

    try:
        tracking = importlib.import_module("app.reports.tracking")
    except ModuleNotFoundError:
        return None
    factory = getattr(tracking, "click_url_factory", None)
    if factory is None or not get_setting("track_clicks"):
        return None
    return factory


class Composer:
    """Built once per send per worker; ``compose`` runs in pool threads
    (inside an app context) and never touches the database session."""

    def __init__(self, send: Send) -> None:
        self.send_id, self.issue_id = send.id, send.issue_id
        lists = sorted(send.lists, key=lambda lst: lst.id)
        from_address = next((lst.from_address for lst in lists if lst.from_address), None)
        self.sender_header = from_address or current_app.config["FROM"]
        self.sender = parseaddr(self.sender_header)[1]
        self.domain = self.sender.split("@")[-1] or "localhost"
        self.subject, self.html, self.text = send.subject, send.html_body, send.text_body
        self.tags = {"send": str(send.id), "issue": str(send.issue_id)}
        self.rendering = _rendering()
        self.prepared = None
        if self.rendering is not None:
            from app.rendering.render import RenderedIssue, web_url_for

            rendered = RenderedIssue(
                slug=send.issue.slug, subject=send.subject, preheader=send.issue.preheader or "",
                email_html=send.html_body, text=send.text_body, web_html="",
                web_url=web_url_for(send.issue.slug), unsubscribe_placeholder=frozen_placeholder(send.id),
                key=f"send-{send.id}")
            self.prepared = self.rendering.prepare_issue_message(rendered, sender=self.sender_header,
                                                                 tags=self.tags)

    def compose(self, row: RecipientRow, click_url: Any | None = None) -> OutgoingMessage:
        if self.rendering is not None and row.subscriber_id is not None:
            recipient = self.rendering.Recipient(email=row.email, name=row.name,
                                                 subscriber_id=row.subscriber_id, list_id=row.list_id,
                                                 delivery_id=row.delivery_id)
            message = self.rendering.build_message(self.prepared, recipient, click_url=click_url)
            tags = {**message.tags, **self.tags}
            return OutgoingMessage(sender=message.sender, recipient=message.recipient, raw=message.raw,
                                   tags=tags)
        return OutgoingMessage(sender=self.sender, recipient=row.email, raw=self._fallback(row),
                               tags=self.tags)

    def _fallback(self, row: RecipientRow) -> bytes:
        base = current_app.config["BASE_URL"].rstrip("/")
        unsubscribe = (unsubscribe_url(row.subscriber_id, row.list_id) if row.subscriber_id is not None
                       else f"{base}/unsubscribe")
        message = EmailMessage()
        message["From"] = self.sender_header
        message["To"] = formataddr((row.name, row.email)) if row.name else row.email
        message["Subject"] = self.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.domain)
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["X-Pressroom-Send"] = str(self.send_id)
        message.set_content(f"{self.text}\n\n--\nUnsubscribe: {unsubscribe}\n")
        message.add_alternative(f"{self.html}<p><a href=\"{unsubscribe}\">Unsubscribe</a></p>",
                                subtype="html")
        return message.as_bytes()


def recipient_of(delivery: Delivery, name: str = "") -> RecipientRow:
    return RecipientRow(delivery.id, delivery.subscriber_id, delivery.list_id, delivery.email, name)
