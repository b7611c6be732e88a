"""Our own click and open tracking, for transports where SES does not do it
(outbox, SMTP) or when preferred.

A click link is ``/r/<token>``, the token signed over (delivery id, URL), so it
is per recipient and per link and cannot be forged. The redirect only goes to a
URL that is one of that send's links (or appears in the issue body): a valid
token for any other URL is refused, so this is no open redirect. The message
builder applies ``click_url`` to the body's link slots only, never to the
unsubscribe or view-in-browser links; as a second guard this module leaves our
own pages alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask import current_app

from app.db import db
from app.errors import NotFound
from app.sending.models import Delivery, Send
from app.tokens import InvalidToken, click_token, open_token, read_click_token, read_open_token

__all__ = [
    "InvalidTracking",
    "UnknownTarget",
    "allowed_links",
    "click_url_factory",
    "open_pixel_url",
    "read_open_token",
    "resolve_click",
]

TRACKED_SCHEMES = ("http://", "https://")
_MARKDOWN_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+(?:\([^\s<>\"'()]*\)[^\s<>\"'()\[\]]*)*")
InvalidTracking = InvalidToken


class UnknownTarget(InvalidToken, NotFound):
    """A well-signed token whose delivery is gone or whose URL is not in that send."""


def _base() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def click_url_factory(delivery_id: int) -> Callable[[str], str]:
    """``click_url`` for one recipient: maps a link of the message to its
    tracked ``/r/<token>`` URL (mailto:, anchors and our own pages unchanged)."""
    base = _base()
    own = (f"{base}/unsubscribe/", f"{base}/r/", f"{base}/o/")

    def click_url(url: str) -> str:
        if not url.startswith(TRACKED_SCHEMES) or url.startswith(own):
            return url
        return f"{base}/r/{click_token(delivery_id, url)}"

    return click_url


def open_pixel_url(delivery_id: int) -> str:
    """The 1x1 open pixel of one recipient (used when ``track_opens`` is on)."""
    return f"{_base()}/o/{open_token(delivery_id)}.gif"


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
def _links_of(links: tuple[str, ...], legacy_html: str, markdown: str) -> frozenset[str]:
    found = {url for url in links if url.startswith(TRACKED_SCHEMES)}
    if legacy_html:  # a send frozen by v0.1 kept its links in its HTML
        parser = _Links()
        parser.feed(legacy_html)
        parser.close()
        found |= {
            href
            for href in parser.hrefs
            if href.startswith(TRACKED_SCHEMES)
            and urlsplit(href).hostname not in ("unsubscribe.invalid", "slot.invalid")
        }
    # A bare URL may end a sentence: accept it with and without the trailing punctuation.
    for match in _MARKDOWN_URL.findall(markdown):
        found.update((match, match.rstrip(".,;:!?")))
    return frozenset(found)


def allowed_links(send: Send) -> frozenset[str]:
    """Every http(s) link of the send: its rendering's links (or a v0.1 send's
    frozen HTML) and URLs in the issue body. Cached by content (it is frozen)."""
    links = tuple(send.rendering.links or ()) if send.rendering is not None else ()
    legacy = send.html_body if send.rendering is None else ""
    return _links_of(links, legacy or "", send.issue.body if send.issue is not None else "")


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
