"""The mail transport seam: one neutral outgoing message, several carriers.

Production uses SES; ``make run`` and tests use the file outbox; SMTP is for
self-hosted relays. The engine only ever sees this protocol."""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app


@dataclass(frozen=True)
class OutgoingMessage:
    sender: str                 # envelope sender (bare address)
    recipient: str              # envelope recipient (bare address)
    raw: bytes                  # the complete RFC 5322 message
    tags: dict[str, str] = field(default_factory=dict)   # e.g. send / issue ids for SES


class TransportError(Exception):
    """Base of delivery errors; the class says what the engine should do."""


class InvalidHeaderError(ValueError):
    """A one-off message whose header would carry CR, LF or NUL (typed or RFC 2047-encoded)."""


_UNSAFE_HEADER = re.compile(r"[\r\n\x00]")


class TransientError(TransportError):
    """Throttling, timeouts, 5xx: try this recipient again later."""


class ThrottledError(TransientError):
    """The provider said "too many requests": slow the whole account down."""


class UncertainError(TransportError):
    """The request may or may not have been delivered (read timeout after the
    request went out): never retried blindly, the recipient is marked unknown."""


class PermanentError(TransportError):
    """This recipient cannot be delivered (rejected, invalid address)."""


class AccountPausedError(TransportError):
    """The provider stopped the whole account: pause the send."""


class Transport(Protocol):
    def send(self, message: OutgoingMessage) -> str:
        """Deliver one message; return the provider's message id."""
        ...


class OutboxTransport:
    """Writes each message as an .eml file: the whole flow works with no AWS account."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def send(self, message: OutgoingMessage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        message_id = uuid.uuid4().hex
        safe_rcpt = re.sub(r"[^A-Za-z0-9@._-]", "_", message.recipient)[:100]
        final = self.directory / f"{message_id}-{safe_rcpt}.eml"
        temporary = final.with_suffix(".tmp")
        temporary.write_bytes(message.raw)
        os.replace(temporary, final)  # readers never see half a message
        return f"outbox-{message_id}"


def transport_from_config(spec: str) -> Transport:
    if spec.startswith("outbox:"):
        return OutboxTransport(spec.removeprefix("outbox:"))
    if spec == "ses":
        from app.sending.ses import SesTransport

        return SesTransport.from_environment(current_app.config.get("SES_CONFIGURATION_SET"))
    if spec.startswith("smtp://"):
        from app.sending.smtp import SmtpTransport

        return SmtpTransport.from_url(spec)
    raise ValueError(f"Unknown PRESSROOM_TRANSPORT {spec!r}: use outbox:DIR, ses or smtp://host:port")


def get_transport(app: Flask | None = None) -> Transport:
    """The configured transport, built once per app."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    transport = app.extensions.get("pressroom.transport")
    if transport is None:
        with app.app_context():
            transport = transport_from_config(app.config["TRANSPORT"])
        app.extensions["pressroom.transport"] = transport
    return transport


def send_transactional(to: str, subject: str, text: str, html: str | None = None,
                       headers: dict[str, str] | None = None) -> str:
    """A one-off email (confirmation, test send) through the configured transport.

    EmailMessage refuses raw CR/LF in header values; encoded line breaks and NUL
    are refused here with :class:`InvalidHeaderError`, so nothing can be injected."""
    from email.utils import parseaddr

    message = EmailMessage()
    for name, value in (("From", current_app.config["FROM"]), ("To", to), ("Subject", subject),
                        *(headers or {}).items()):
        if _UNSAFE_HEADER.search(value):
            raise InvalidHeaderError(f"The {name} header must not contain line breaks or NUL characters.")
    message["From"] = current_app.config["FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(current_app.config["FROM"])[1].split("@")[-1])
    for name, value in (headers or {}).items():
        message[name] = value
    for name, value in message.items():
        # str() of a header is its decoded value: an encoded word such as
        # =?utf-8?q?x=0D=0ABcc:_a@b?= would be folded out as a real header.
        if _UNSAFE_HEADER.search(str(value)):
            raise InvalidHeaderError(f"The {name} header must not contain line breaks or NUL characters.")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    sender = parseaddr(current_app.config["FROM"])[1]
    return get_transport().send(OutgoingMessage(sender=sender, recipient=parseaddr(to)[1],
                                                raw=message.as_bytes()))
