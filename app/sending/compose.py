"""Turning a send and one recipient into an OutgoingMessage.

The send delivers its frozen rendering (the issue as approved); this module
prepares the message once per send and fills each reader's slots: their
unsubscribe link, their open pixel and, with click tracking, their tracked
links. Sends started by v0.1 froze their HTML differently; they are converted
once, when the composer is built, so they finish as they began."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape

from babel.dates import format_date
from flask import current_app

from app.i18n import force_locale, gettext
from app.issues.rendering import frozen
from app.mail import OutgoingMessage, PermanentError
from app.rendering.message import PreparedMessage, Recipient, build_message, prepare_issue_message
from app.rendering.render import SLOT_HOST, RenderedIssue
from app.sending.models import Send
from app.sending.ports import RecipientRow
from app.sending.tracking import click_url_factory, open_pixel_url
from app.settings import get_setting, newsletter_sender, reply_to
from app.tokens import unsubscribe_token


@dataclass(frozen=True)
class Tracking:
    clicks: bool
    opens: bool


class Composer:
    """Built once per send per worker; ``compose`` runs in pool threads
    (inside an app context) and never touches the database session."""

    def __init__(self, send: Send) -> None:
        self.send_id = send.id
        self.base = current_app.config["BASE_URL"].rstrip("/")
        lists = sorted(send.lists, key=lambda lst: lst.id)
        self.list_names = {lst.id: lst.public_name for lst in lists}
        self.list_languages = {lst.id: lst.language or "en" for lst in lists}
        self.newsletter = str(get_setting("newsletter_name"))
        self._reasons: dict[str, tuple[str, str]] = {}
        sender = next((lst.from_address for lst in lists if lst.from_address), None) or newsletter_sender()
        self.tags = {"send": str(send.id), "issue": str(send.issue_id)}
        rendered = frozen(send.rendering, send.issue.slug) if send.rendering is not None else legacy_rendering(send)
        self.tracking = Tracking(clicks=bool(get_setting("track_clicks")), opens=bool(get_setting("track_opens")))
        self.prepared: PreparedMessage = prepare_issue_message(
            rendered,
            sender=sender,
            unsubscribe_mailto=current_app.config.get("UNSUBSCRIBE_MAILTO"),
            tags=self.tags,
            subject=send.subject or rendered.subject,
            reply_to=reply_to(),
            lists={lst.id: (lst.public_name, lst.slug) for lst in lists},
        )

    def reason(self, row: RecipientRow) -> str:
        """Why this reader gets the email, in the footer (CAN-SPAM asks for it, and
        readers who forgot signing up stop reporting the mail as spam)."""
        name = self.list_names.get(row.list_id or 0) or self.newsletter
        language = self.list_languages.get(row.list_id or 0, "en")
        if language not in self._reasons:  # gettext needs a context: once per language, not per reader
            with force_locale(language):
                self._reasons[language] = (
                    gettext("You are receiving this email because you subscribed to %(list)s on %(date)s."),
                    gettext("You are receiving this email because you subscribed to %(name)s."),
                )
        dated, undated = self._reasons[language]
        if row.subscribed_at is None:
            return undated % {"name": name}
        return dated % {"list": name, "date": format_date(row.subscribed_at.date(), "long", locale=language)}

    def compose(self, row: RecipientRow) -> OutgoingMessage:
        if row.subscriber_id is None:
            raise PermanentError("the subscriber was deleted; no unsubscribe link can be made")
        unsubscribe = f"{self.base}/unsubscribe/{unsubscribe_token(row.subscriber_id, row.list_id, row.nonce)}"
        pixel = open_pixel_url(row.delivery_id) if self.tracking.opens else f"{self.base}/static/pixel.gif"
        link_url: Callable[[str], str] | None = click_url_factory(row.delivery_id) if self.tracking.clicks else None
        recipient = Recipient(
            email=row.email,
            name=row.name or "",
            unsubscribe_url=unsubscribe,
            delivery_id=row.delivery_id,
            list_key=row.list_id,
            values={"pixel": pixel, "reason": self.reason(row)},
        )
        message = build_message(self.prepared, recipient, link_url=link_url)
        return OutgoingMessage(
            sender=message.sender, recipient=message.recipient, raw=message.raw, tags={**message.tags, **self.tags}
        )


# --- sends frozen by v0.1 ---------------------------------------------------------

_V01_HREF = re.compile(
    r'(<a\b[^>]*?\bhref="|<img\b[^>]*?\bsrc="(?=https://open-pixel\.invalid/o\.gif"))([^"]*)(")', re.IGNORECASE
)
_V01_PIXEL = "https://open-pixel.invalid/o.gif"
_V01_TEXT_LINK = re.compile(r"^(\[\d+\] )(\S+)$", re.MULTILINE)


def _v01_placeholder(send_id: int) -> str:
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"send:{send_id}".encode(), hashlib.sha256)
    return f"https://unsubscribe.invalid/{digest.hexdigest()[:24]}"


def legacy_rendering(send: Send) -> RenderedIssue:
    """A send started by v0.1 froze its email with an HMAC-derived unsubscribe
    placeholder and plain links; give it slots once so it finishes exactly as
    it began (this runs on v0.1 data only, never on anything rendered since)."""
    nonce = secrets.token_hex(12)
    prefix = f"{SLOT_HOST}{nonce}/"
    links: list[str] = []
    web_url = f"{current_app.config['BASE_URL'].rstrip('/')}/issues/{send.issue.slug}"
    placeholder = _v01_placeholder(send.id)

    def slot(url: str) -> str | None:
        if url == _V01_PIXEL:
            return prefix + "pixel"
        if url in (placeholder, web_url) or not url.lower().startswith(("http://", "https://")):
            return None
        if url not in links:
            links.append(url)
        return f"{prefix}l{links.index(url)}"

    def html_link(match: re.Match[str]) -> str:
        target = slot(unescape(match.group(2)))
        return match.group(0) if target is None else match.group(1) + target + match.group(3)

    def text_link(match: re.Match[str]) -> str:
        target = slot(match.group(2))
        return match.group(0) if target is None else match.group(1) + target

    html = _V01_HREF.sub(html_link, send.html_body).replace(placeholder, prefix + "unsubscribe")
    links_at = send.text_body.rfind("\nLinks:\n\n")
    head, tail = (send.text_body[:links_at], send.text_body[links_at:]) if links_at >= 0 else (send.text_body, "")
    text = (head + _V01_TEXT_LINK.sub(text_link, tail)).replace(placeholder, prefix + "unsubscribe")
    return RenderedIssue(
        slug=send.issue.slug,
        subject=send.subject,
        preheader=send.issue.preheader or "",
        email_html=html,
        text=text,
        web_html="",
        web_url=web_url,
        nonce=nonce,
        links=tuple(links),
        key=f"v01-send-{send.id}",
    )
