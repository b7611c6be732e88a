"""One complete MIME message per recipient, from an issue rendered once.

:func:`prepare_issue_message` does all the expensive work once per send: the
parts are cut at the rendering's slots (unsubscribe, open pixel, every link;
see :mod:`app.rendering.render`) and every fixed chunk is quoted-printable
encoded up front. :func:`build_message` then only encodes the recipient's own
short values and joins bytes. Slots are found by their exact text (they carry
the rendering's random nonce), so content can never be mistaken for one;
chunks are joined with QP soft line breaks, so the result is valid QP whatever
the values are."""

from __future__ import annotations

import binascii
import email.policy
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from html import escape

from app.mail.message import HeaderInjectionError, OutgoingMessage, check_header, strip_line_breaks
from app.rendering.render import SAMPLE_SLOT_TEXT, RenderedIssue

__all__ = ["PreparedMessage", "Recipient", "build_message", "prepare_issue_message"]

_ADDRESS = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+\.[^\s@<>,;:\"()\[\]\\]+$")
_SOFT_BREAK = b"=\r\n"
Segments = tuple[bytes | str, ...]  # fixed QP chunks and slot names between them


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    unsubscribe_url: str
    delivery_id: int | None = None
    # Other named slots (e.g. "pixel": this reader's open-pixel URL).
    values: Mapping[str, str] = field(default_factory=dict)
    # Which of the send's lists this reader is on (its List-Id); None: the default line.
    list_key: int | None = None


@dataclass(frozen=True)
class PreparedMessage:
    """Everything about an issue's message that does not depend on the reader."""

    subject: str
    envelope_sender: str
    static_headers: bytes  # From, Subject, MIME-Version, List-Unsubscribe-Post, Content-Type
    text_segments: Segments
    html_segments: Segments
    links: tuple[str, ...]  # link slot n -> original URL
    text_head: bytes
    html_head: bytes
    closing: bytes
    msgid_domain: str
    mailto: str
    list_id: bytes = b""  # the List-Id header line, or nothing
    list_ids: Mapping[int, bytes] = field(default_factory=dict)  # list key -> its List-Id line
    tags: dict[str, str] = field(default_factory=dict)


def _qp(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _split(body: str, pattern: re.Pattern[str]) -> Segments:
    """``body`` as QP chunks with the slot names between them."""
    segments: list[bytes | str] = []
    cursor = 0
    for match in pattern.finditer(body):
        segments += [_qp(body[cursor : match.start()]), match.group(1)]
        cursor = match.end()
    segments.append(_qp(body[cursor:]))
    return tuple(segments)


def _fold(name: str, value: str) -> bytes:
    """One header line, RFC 2047-encoded and folded by the stdlib policy."""
    policy = email.policy.SMTP
    return policy.fold(*policy.header_store_parse(name, check_header(value, name).strip())).encode("ascii")


def list_id_value(name: str, list_slug: str, domain: str) -> str:
    """``List-Id: "Name" <slug.domain>`` (RFC 2919)."""
    label = re.sub(r"[^A-Za-z0-9-]", "-", list_slug)[:60].strip("-") or "newsletter"
    phrase = strip_line_breaks(name).replace('"', "'")[:80]
    return f'"{phrase}" <{label}.{domain}>' if phrase else f"<{label}.{domain}>"


def prepare_issue_message(
    rendered: RenderedIssue,
    *,
    sender: str,
    unsubscribe_mailto: str | None = None,
    tags: dict[str, str] | None = None,
    subject: str | None = None,
    list_id: str | None = None,
    reply_to: str | None = None,
    lists: Mapping[int, tuple[str, str]] | None = None,
) -> PreparedMessage:
    """Per-send work: the headers shared by every recipient and the encoded
    parts with their slots. ``subject`` replaces the rendered one (a subject
    variant); ``list_id`` is a ready ``List-Id`` value. ``lists`` maps a list
    key to its (display name, slug): each reader gets their own list's
    ``List-Id`` (a send can go to several lists, and readers filter by it)."""
    subject = rendered.subject if subject is None else subject
    check_header(sender, "sender")
    envelope = parseaddr(sender)[1]
    if "@" not in envelope:
        raise HeaderInjectionError(f"The sender {sender!r} is not an email address.")
    mailto = unsubscribe_mailto or envelope
    check_header(mailto, "unsubscribe address")
    check_header(subject, "subject")
    if reply_to:
        check_header(reply_to, "reply-to address")
    pattern = rendered.slot_pattern()
    boundary = f"=_pressroom_{secrets.token_hex(16)}"  # "=_" can never occur in QP text
    static = b"".join(
        [
            _fold("From", sender),
            _fold("Subject", subject),
            _fold("Reply-To", reply_to) if reply_to else b"",
            b"MIME-Version: 1.0\r\n",
            # No "Precedence: bulk": it was never standardised (RFC 2076 lists it as
            # non-standard and discouraged), Gmail's and Yahoo's bulk-sender rules do
            # not ask for it, and what it is for, keeping vacation responders quiet,
            # List-Id and List-Unsubscribe already signal (RFC 3834 responders skip
            # mail from lists).
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'.encode("ascii"),
        ]
    )
    part_head = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    return PreparedMessage(
        subject=subject,
        envelope_sender=envelope,
        static_headers=static,
        text_segments=_split(rendered.text, pattern),
        html_segments=_split(rendered.email_html, pattern),
        links=rendered.links,
        text_head=f"\r\n--{boundary}\r\n{part_head.format('plain')}".encode("ascii"),
        html_head=f"\r\n--{boundary}\r\n{part_head.format('html')}".encode("ascii"),
        closing=f"\r\n--{boundary}--\r\n".encode("ascii"),
        msgid_domain=envelope.rsplit("@", 1)[1],
        mailto=mailto,
        list_id=_fold("List-Id", list_id) if list_id else b"",
        list_ids={
            key: _fold("List-Id", list_id_value(name, slug, envelope.rsplit("@", 1)[1]))
            for key, (name, slug) in (lists or {}).items()
        },
        tags={"issue": rendered.slug[:200], **(tags or {})},
    )


def _recipient_to(recipient: Recipient) -> tuple[str, bytes]:
    """The bare address and the folded ``To`` header line."""
    address = check_header(recipient.email.strip(), "recipient address")
    if not _ADDRESS.match(address):
        raise HeaderInjectionError(f"{address!r} is not a single email address.")
    # A name is the reader's own data: neutralise line breaks and control
    # characters rather than refuse the whole delivery. Capped so an encoded name
    # keeps the header line far below 998 characters.
    name = strip_line_breaks(recipient.name or "")[:100]
    if "=?" in name:  # an encoded word could hide a line break: keep it as plain text
        name = name.replace("=?", "= ?")
    # formataddr quotes specials and RFC 2047-encodes non-ASCII names.
    value = formataddr((name, address), charset="utf-8")
    return address, f"To: {value}\r\n".replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii")


def _fill(segments: Segments, values: Callable[[str], bytes]) -> bytes:
    out = []
    for segment in segments:
        if isinstance(segment, bytes):
            out.append(segment)
        else:
            out += [_SOFT_BREAK, values(segment), _SOFT_BREAK]
    return b"".join(out)


def build_message(
    prepared: PreparedMessage, recipient: Recipient, *, link_url: Callable[[str], str] | None = None
) -> OutgoingMessage:
    """The complete message for one recipient. ``link_url`` maps an original
    link to this recipient's tracked URL (default: unchanged)."""
    address, to_line = _recipient_to(recipient)
    unsubscribe = check_header(recipient.unsubscribe_url, "unsubscribe URL")
    urls = [link_url(url) if link_url else url for url in prepared.links]
    named = {**recipient.values, "unsubscribe": unsubscribe}

    def value_of(slot: str) -> str:
        if slot.startswith("l") and slot[1:].isdigit() and int(slot[1:]) < len(urls):
            return urls[int(slot[1:])]
        return named.get(slot, SAMPLE_SLOT_TEXT.get(slot, ""))

    cache: dict[tuple[str, bool], bytes] = {}

    def encoded(slot: str, html: bool) -> bytes:
        if (slot, html) not in cache:
            value = value_of(slot)
            cache[slot, html] = _qp(escape(value, quote=True) if html else value)
        return cache[slot, html]

    idstring = f"d{recipient.delivery_id}" if recipient.delivery_id is not None else None
    headers = b"".join(
        [
            prepared.static_headers,
            prepared.list_ids.get(recipient.list_key, prepared.list_id)
            if recipient.list_key is not None
            else prepared.list_id,
            to_line,
            f"Date: {format_datetime(datetime.now(UTC))}\r\n".encode("ascii"),
            f"Message-ID: {make_msgid(idstring=idstring, domain=prepared.msgid_domain)}\r\n".encode("ascii"),
            # Written by hand: the URLs must stay intact, never RFC 2047-encoded.
            f"List-Unsubscribe: <{unsubscribe}>,\r\n <mailto:{prepared.mailto}?subject=unsubscribe>\r\n".encode(
                "ascii"
            ),
        ]
    )
    raw = b"".join(
        [
            headers,
            prepared.text_head,
            _fill(prepared.text_segments, lambda slot: encoded(slot, False)),
            prepared.html_head,
            _fill(prepared.html_segments, lambda slot: encoded(slot, True)),
            prepared.closing,
        ]
    )
    tags = dict(prepared.tags)
    if recipient.delivery_id is not None:
        tags["delivery"] = str(recipient.delivery_id)
    return OutgoingMessage(sender=prepared.envelope_sender, recipient=address, raw=raw, tags=tags)
