"""One-off emails (signup confirmation, test sends) through the app's carrier."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app

from app.mail import get_transport
from app.mail.message import HeaderInjectionError, OutgoingMessage, header_is_unsafe


def send_transactional(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    *,
    sender: str | None = None,
) -> str:
    """Build and send one message. Any header value carrying a line break (of any
    Unicode kind, or encoded in an RFC 2047 word) or NUL is refused with
    :class:`HeaderInjectionError` before anything is built, so nothing can be injected."""
    sender = sender or current_app.config["FROM"]
    values = [("From", sender), ("To", to), ("Subject", subject), *(headers or {}).items()]
    for name, value in values:
        if header_is_unsafe(value):
            raise HeaderInjectionError(f"The {name} header must not contain line breaks or NUL characters.")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))  # numeric zone, not the obsolete "GMT"
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].split("@")[-1] or "localhost")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return get_transport().send(
        OutgoingMessage(sender=parseaddr(sender)[1], recipient=parseaddr(to)[1], raw=message.as_bytes())
    )
