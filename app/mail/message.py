"""The one neutral outgoing message every carrier takes, the error classes a
carrier answers with, and the header-safety rule shared by everything that
writes a mail header.

The error class tells the sending engine what to do: retry later, slow the
account down, give up on this recipient, or record that nobody can know."""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass, field
from typing import Protocol

from app.errors import InvalidInput

__all__ = [
    "AccountPausedError",
    "HeaderInjectionError",
    "OutgoingMessage",
    "PermanentError",
    "ThrottledError",
    "TransientError",
    "Transport",
    "TransportError",
    "UncertainError",
    "check_header",
    "feedback_id_line",
    "header_is_unsafe",
    "strip_line_breaks",
]

# Every character str.splitlines() and the email package treat as a line end,
# not only CR and LF: U+0085, U+2028 and friends in a subject or a name would
# otherwise fold out as a new header line somewhere down the stack. NUL too.
LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00"
_UNSAFE = re.compile(f"[{re.escape(LINE_BREAKS)}]")
_FEEDBACK_FIELD = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class OutgoingMessage:
    sender: str  # envelope sender (bare address)
    recipient: str  # envelope recipient (bare address)
    raw: bytes  # the complete RFC 5322 message
    tags: dict[str, str] = field(default_factory=dict)  # e.g. send / issue ids for SES


class TransportError(Exception):
    """Base of delivery errors; the class says what the engine should do."""


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


class HeaderInjectionError(InvalidInput):
    """A header value (subject, name, address) holds a line break or NUL,
    typed directly or hidden in an RFC 2047 encoded word."""


class Transport(Protocol):
    def send(self, message: OutgoingMessage) -> str:
        """Deliver one message; return the provider's message id."""
        ...


def header_is_unsafe(value: str) -> bool:
    """True when ``value`` holds a line break or NUL, directly or inside an RFC
    2047 encoded word: the stdlib header registry decodes ``=?utf-8?q?a=0D=0ABcc:...?=``
    when a header is set and folds the decoded line break out as a new header."""
    if _UNSAFE.search(value):
        return True
    if "=?" not in value:
        return False
    try:
        decoded = str(email.policy.default.header_factory("X-Check", value))
    except Exception:  # noqa: BLE001 (a value the parser chokes on is no header of ours)
        return True
    return bool(_UNSAFE.search(decoded))


def check_header(value: str, what: str) -> str:
    if header_is_unsafe(value):
        raise HeaderInjectionError(f"The {what} must not contain line breaks or NUL characters.")
    return value


def strip_line_breaks(value: str) -> str:
    """The value on one line: every line break or control character becomes a
    space (for data that belongs to a reader, such as a name, which must not
    block their mail but cannot go into a header as it is)."""
    return " ".join(re.sub(rf"[{re.escape(LINE_BREAKS)}\x01-\x1f\x7f]", " ", value).split())


def feedback_id_line(message: OutgoingMessage) -> bytes:
    """Gmail's ``Feedback-ID: send:issue:newsletter:sender-domain`` header line
    for a newsletter delivery (one with a ``send`` tag), else nothing.

    Gmail's feedback loop counts spam reports per identifier, so each field is
    the same for every reader of a send (never a delivery or a reader) and the
    last one, the sender id, stays the same across sends. Only the SMTP and
    outbox carriers add it: SES writes its own Feedback-ID into every message,
    and a second one would split the counts."""
    send = message.tags.get("send")
    if not send:
        return b""
    domain = message.sender.rsplit("@", 1)[-1]
    fields = [send, message.tags.get("issue", ""), "newsletter", domain]
    return ("Feedback-ID: " + ":".join(_FEEDBACK_FIELD.sub("-", f)[:60] for f in fields) + "\r\n").encode("ascii")
