"""One complete MIME message per recipient, from an issue rendered once.

:func:`prepare_issue_message` does all the expensive work once per issue:
the parts are split around per-recipient slots (unsubscribe URL, each link
the reports work may track) and every fixed chunk is quoted-printable
encoded up front. :func:`build_message` then only encodes the recipient's own
short values and joins bytes. Slots are found by their exact text before
encoding (the unsubscribe placeholder carries a random nonce), so content can
never be mistaken for a slot; chunks are joined with QP soft line breaks, so
the result is valid QP whatever the values are."""

from __future__ import annotations

import binascii
import email.policy
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from html import escape, unescape
from typing import TYPE_CHECKING

from flask import current_app

from app.mail.message import (
    HeaderInjectionError,
    OutgoingMessage,
    check_header,
    header_is_unsafe,
    strip_line_breaks,
)
from app.rendering.render import TEXT_LINKS_HEADING, UNSUBSCRIBE_PLACEHOLDER, RenderedIssue, render_issue
from app.subscribers.tokens import unsubscribe_url

_ADDRESS = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+\.[^\s@<>,;:\"()\[\]\\]+$")
# Per-recipient URL slots in the HTML: every link, and the open-tracking pixel
# (only the sentinel image a send inserts, never the issue's own images).
OPEN_PIXEL_SENTINEL = "https://open-pixel.invalid/o.gif"
_HTML_HREF = re.compile(
    r'(<a\b[^>]*?\bhref="|<img\b[^>]*?\bsrc="(?=' + re.escape(OPEN_PIXEL_SENTINEL) + r'"))([^"]*)(")',
    re.IGNORECASE)
_TEXT_LINK = re.compile(r"^(\[\d+\] )(\S+)$", re.MULTILINE)
_SOFT_BREAK = b"=\r\n"
_PLACEHOLDER = re.compile(re.escape(UNSUBSCRIBE_PLACEHOLDER) + r"[0-9a-f]{24}")
if TYPE_CHECKING:
    from app.issues.models import Issue

UNSUBSCRIBE = -1    # slot id of the unsubscribe URL; links use their index (>= 0)


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    subscriber_id: int | None
    list_id: int | None
    delivery_id: int | None = None
    # Normally computed from the ids; a caller that already has it may pass it.
    unsubscribe_url: str | None = None


@dataclass(frozen=True)
class PreparedMessage:
    """Everything about an issue's message that does not depend on the reader."""

    subject: str
    html: str                      # email HTML with the unsubscribe placeholder (freeze this)
    text: str
    envelope_sender: str
    static_headers: bytes          # From, Subject, MIME-Version, List-Unsubscribe-Post, Content-Type
    text_segments: tuple[bytes | int, ...]
    html_segments: tuple[bytes | int, ...]
    links: tuple[str, ...]         # slot index -> original URL
    encoded_links_text: tuple[bytes, ...]
    encoded_links_html: tuple[bytes, ...]
    text_head: bytes
    html_head: bytes
    closing: bytes
    msgid_domain: str
    mailto: str
    tags: dict[str, str] = field(default_factory=dict)


def _qp(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _split(body: str, pattern: re.Pattern[str], slot_for: Callable[[str], int | None],
           placeholder: str, start: int = 0) -> tuple[bytes | int, ...]:
    """Cut ``body`` at the unsubscribe placeholder and at every URL matched
    by ``pattern`` (group 2) that ``slot_for`` maps to a slot."""
    pieces: list[str | int] = []
    cursor = 0
    for match in pattern.finditer(body, start):
        slot = slot_for(match.group(2))
        if slot is None:
            continue
        pieces += [body[cursor:match.start(2)], slot]
        cursor = match.end(2)
    pieces.append(body[cursor:])
    segments: list[bytes | int] = []
    for piece in pieces:
        if isinstance(piece, int):
            segments.append(piece)
            continue
        chunks = piece.split(placeholder)
        for index, chunk in enumerate(chunks):
            if index:
                segments.append(UNSUBSCRIBE)
            segments.append(_qp(chunk))
    return tuple(segments)


def _fold(name: str, value: str) -> bytes:
    """One header line, RFC 2047-encoded and folded by the stdlib policy."""
    policy = email.policy.SMTP
    return policy.fold(*policy.header_store_parse(name, check_header(value, name).strip())).encode("ascii")


def prepare_issue_message(rendered: RenderedIssue | Issue, *, sender: str | None = None,
                          unsubscribe_mailto: str | None = None, tags: dict[str, str] | None = None,
                          subject: str | None = None, html: str | None = None,
                          text: str | None = None) -> PreparedMessage:
    """Per-issue work: headers shared by every recipient and the encoded
    parts with slots. ``sender`` defaults to the FROM setting (pass the
    list's ``from_address`` when it has one). An Issue is rendered first.
    ``subject``/``html``/``text`` replace the rendered ones: a send freezes
    ``prepared.subject/html/text`` when it starts and prepares from them later,
    so edits to the issue never reach a running send."""
    if not isinstance(rendered, RenderedIssue):
        rendered = render_issue(rendered)
    if subject is not None or html is not None or text is not None:
        frozen_html = rendered.email_html if html is None else html
        found = _PLACEHOLDER.search(frozen_html)
        rendered = replace(
            rendered,
            subject=rendered.subject if subject is None else subject,
            email_html=frozen_html,
            text=rendered.text if text is None else text,
            unsubscribe_placeholder=found.group(0) if found else rendered.unsubscribe_placeholder,
        )
    sender = sender or current_app.config["FROM"]
    check_header(sender, "sender")
    envelope = parseaddr(sender)[1]
    if "@" not in envelope:
        raise HeaderInjectionError(f"The sender {sender!r} is not an email address.")
    mailto = unsubscribe_mailto or current_app.config.get("UNSUBSCRIBE_MAILTO") or envelope
    check_header(mailto, "unsubscribe address")
    check_header(rendered.subject, "subject")

    links: list[str] = []
    index_of: dict[str, int] = {}
    fixed = {rendered.unsubscribe_placeholder, rendered.web_url}

    def slot_for(url: str) -> int | None:
        url = unescape(url)
        if url in fixed or not url.lower().startswith(("http://", "https://")):
            return None
        if url not in index_of:
            index_of[url] = len(links)
            links.append(url)
        return index_of[url]

    html_segments = _split(rendered.email_html, _HTML_HREF, slot_for, rendered.unsubscribe_placeholder)
    # In the text part only the numbered list at the end holds link URLs.
    links_at = rendered.text.rfind(TEXT_LINKS_HEADING)
    text_segments = _split(rendered.text, _TEXT_LINK, slot_for, rendered.unsubscribe_placeholder,
                           start=links_at if links_at >= 0 else len(rendered.text))

    boundary = f"=_pressroom_{secrets.token_hex(16)}"   # "=_" can never occur in QP text
    static = b"".join([
        _fold("From", sender),
        _fold("Subject", rendered.subject),
        b"MIME-Version: 1.0\r\n",
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'.encode("ascii"),
    ])
    part_head = ('Content-Type: text/{}; charset="utf-8"\r\n'
                 "Content-Transfer-Encoding: quoted-printable\r\n\r\n")
    return PreparedMessage(
        subject=rendered.subject,
        html=rendered.email_html,
        text=rendered.text,
        envelope_sender=envelope,
        static_headers=static,
        text_segments=text_segments,
        html_segments=html_segments,
        links=tuple(links),
        encoded_links_text=tuple(_qp(url) for url in links),
        encoded_links_html=tuple(_qp(escape(url, quote=True)) for url in links),
        text_head=f"\r\n--{boundary}\r\n{part_head.format('plain')}".encode("ascii"),
        html_head=f"\r\n--{boundary}\r\n{part_head.format('html')}".encode("ascii"),
        closing=f"\r\n--{boundary}--\r\n".encode("ascii"),
        msgid_domain=envelope.rsplit("@", 1)[1],
        mailto=mailto,
        tags={"issue": rendered.slug[:200], **(tags or {})},
    )


def _recipient_to(recipient: Recipient) -> tuple[str, bytes]:
    """The bare address and the folded ``To`` header line."""
    address = check_header(recipient.email.strip(), "recipient address")
    if not _ADDRESS.match(address):
        raise HeaderInjectionError(f"{address!r} is not a single email address.")
    # A name is the reader's own data: neutralise control characters rather
    # than refuse the whole delivery.
    # Capped so an encoded name keeps the header line far below 998 characters.
    name = strip_line_breaks(recipient.name or "")[:100]
    if header_is_unsafe(name):  # an encoded word hiding a line break: keep it as plain text
        name = name.replace("=?", "= ?")
    # formataddr quotes specials and RFC 2047-encodes non-ASCII names (a
    # fraction of the cost of the header registry's full parse).
    value = formataddr((name, address), charset="utf-8")
    return address, f"To: {value}\r\n".replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii")


def _fill(segments: tuple[bytes | int, ...], unsubscribe: bytes,
          links: tuple[bytes, ...] | list[bytes]) -> bytes:
    out = []
    for segment in segments:
        if isinstance(segment, bytes):
            out.append(segment)
        else:
            value = unsubscribe if segment == UNSUBSCRIBE else links[segment]
            out += [_SOFT_BREAK, value, _SOFT_BREAK]
    return b"".join(out)


def build_message(prepared: PreparedMessage, recipient: Recipient, *,
                  click_url: Callable[[str], str] | None = None) -> OutgoingMessage:
    """The complete message for one recipient. ``click_url`` maps an original
    link to this recipient's tracked URL (never the unsubscribe or the
    view-in-browser link)."""
    address, to_line = _recipient_to(recipient)
    if recipient.unsubscribe_url:
        unsubscribe = recipient.unsubscribe_url
    elif recipient.subscriber_id is not None:
        unsubscribe = unsubscribe_url(recipient.subscriber_id, recipient.list_id)
    else:
        raise ValueError("A recipient needs a subscriber id or an unsubscribe URL.")
    if click_url is None:
        text_links: tuple[bytes, ...] | list[bytes] = prepared.encoded_links_text
        html_links: tuple[bytes, ...] | list[bytes] = prepared.encoded_links_html
    else:
        tracked = [click_url(url) for url in prepared.links]
        text_links = [_qp(url) for url in tracked]
        html_links = [_qp(escape(url, quote=True)) for url in tracked]
    idstring = f"d{recipient.delivery_id}" if recipient.delivery_id is not None else None
    headers = b"".join([
        prepared.static_headers,
        to_line,
        f"Date: {format_datetime(datetime.now(UTC))}\r\n".encode("ascii"),
        f"Message-ID: {make_msgid(idstring=idstring, domain=prepared.msgid_domain)}\r\n".encode("ascii"),
        # Written by hand: the URLs must stay intact, never RFC 2047-encoded.
        f"List-Unsubscribe: <{check_header(unsubscribe, 'unsubscribe URL')}>,\r\n"
        f" <mailto:{prepared.mailto}?subject=unsubscribe>\r\n".encode("ascii"),
    ])
    raw = b"".join([
        headers,
        prepared.text_head,
        _fill(prepared.text_segments, _qp(unsubscribe), text_links),
        prepared.html_head,
        _fill(prepared.html_segments, _qp(escape(unsubscribe, quote=True)), html_links),
        prepared.closing,
    ])
    tags = dict(prepared.tags)
    if recipient.delivery_id is not None:
        tags["delivery"] = str(recipient.delivery_id)
    return OutgoingMessage(sender=prepared.envelope_sender, recipient=address, raw=raw, tags=tags)
