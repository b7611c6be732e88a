"""Our own click and open tracking, for transports where SES does not do it
(outbox, SMTP) or when preferred.

A click link is ``/r/<token>``, the token signed over (delivery id, URL), so it
is per recipient and per link and cannot be forged. The redirect only goes to a
URL that appears in that send's frozen HTML or in the issue body: a valid token
for any other URL is refused, so this is no open redirect. The message builder
applies ``click_url`` to content links only, never to the unsubscribe or
view-in-browser links; as a second guard this module leaves our own
``/unsubscribe/`` links alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.db import db
from app.errors import InvalidInput, NotFound
from app.sending.models import Delivery, Send

__all__ = ["InvalidTracking", "click_url_factory", "open_pixel_url", "read_click_token",
           "read_open_token", "allowed_links"]

CLICK_SALT = "pressroom.click.v1"
OPEN_SALT = "pressroom.open.v1"
TRACKED_SCHEMES = ("http://", "https://")
_MARKDOWN_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+(?:\([^\s<>\"'()]*\)[^\s<>\"'()\[\]]*)*")


class InvalidTracking(InvalidInput):
    """A tampered, foreign or truncated tracking token."""


class UnknownTarget(InvalidTracking, NotFound):
    """A well-signed token whose delivery is gone or whose URL is not in that send."""


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _base() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def click_url_factory(delivery: Delivery) -> Callable[[str], str]:
    """``click_url`` for one recipient: maps a link in the message to its
    tracked ``/r/<token>`` URL (mailto:, anchors and our own pages unchanged)."""
    serializer = _serializer(CLICK_SALT)
    base = _base()
    own = (f"{base}/unsubscribe/", f"{base}/r/", f"{base}/o/")

    def click_url(url: str) -> str:
        if not url.startswith(TRACKED_SCHEMES) or url.startswith(own):
            return url
        return f"{base}/r/{serializer.dumps([delivery.id, url])}"

    return click_url


def open_pixel_url(delivery: Delivery) -> str:
    """The 1x1 open pixel of one recipient (add it only when ``track_opens`` is on)."""
    return f"{_base()}/o/{_serializer(OPEN_SALT).dumps(delivery.id)}.gif"


def read_click_token(token: str) -> tuple[int, str]:
    try:
        delivery_id, url = _serializer(CLICK_SALT).loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise InvalidTracking("This link is not valid.") from exc
    if not isinstance(delivery_id, int) or not isinstance(url, str):
        raise InvalidTracking("This link is not valid.")
    return delivery_id, url


def read_open_token(token: str) -> int:
    try:
        delivery_id = _serializer(OPEN_SALT).loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise InvalidTracking("This pixel is not valid.") from exc
    if not isinstance(delivery_id, int):
        raise InvalidTracking("This pixel is not valid.")
    return delivery_id


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "area"):
            for name, value in attrs:
                if name == "href" and value:
                    self.hrefs.add(value.strip())


@lru_cache(maxsize=64)
def _links_of(html: str, markdown: str) -> frozenset[str]:
    parser = _Links()
    parser.feed(html)
    parser.close()
    # "unsubscribe.invalid" is the frozen send's per-recipient unsubscribe slot, never a destination.
    found = {href for href in parser.hrefs
             if href.startswith(TRACKED_SCHEMES) and urlsplit(href).hostname != "unsubscribe.invalid"}
    # A bare URL may end a sentence: accept it with and without the trailing punctuation.
    for match in _MARKDOWN_URL.findall(markdown):
        found.update((match, match.rstrip(".,;:!?")))
    return frozenset(found)


def allowed_links(send: Send) -> frozenset[str]:
    """Every http(s) link of the send: hrefs of its frozen HTML and URLs in the
    issue body (the content is frozen, so the result is cached by content)."""
    return _links_of(send.html_body or "", send.issue.body if send.issue is not None else "")


def resolve_click(token: str) -> tuple[Delivery, str]:
    """The delivery and destination of a click token, refusing any URL that is
    not in that send."""
    delivery_id, url = read_click_token(token)
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        raise UnknownTarget("This link has expired.")
    send = db.session.get(Send, delivery.send_id)
    if send is None or url not in allowed_links(send):
        raise UnknownTarget("This link does not point into the newsletter it came from.")
    return delivery, url
