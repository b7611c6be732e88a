"""Render an issue once into subject, preheader, email HTML, text and web HTML.

``render_issue(issue, context)`` is pure: the same issue and context give the
same result, and nothing is queried (the caller's context carries settings,
events and the image resolver). The result is cached in-process by a hash of
everything that goes into it, so previews and a send's preparation run
Markdown once.

Per-reader values are *slots*: URLs under ``https://slot.invalid/<nonce>/``
(the reserved .invalid TLD resolves nowhere, should one ever leak) that the
message builder replaces for each reader: ``unsubscribe``, ``pixel`` and
``l<n>`` for the n-th link (``RenderedIssue.links[n]`` is its original URL).
The nonce is random per rendering, so issue content can never forge a slot."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import astuple, dataclass
from functools import lru_cache
from html import escape
from typing import Any

from app.i18n import force_locale, gettext
from app.rendering.context import IssueSource, RenderContext
from app.rendering.email import email_document
from app.rendering.email_styles import safe_accent
from app.rendering.events_section import events_markdown, has_marker, insert_events
from app.rendering.markdown import clean_source, to_html
from app.rendering.sanitize import sanitize
from app.rendering.summary import opening_prose
from app.rendering.text import html_to_text
from app.rendering.transform import LinkSlots, email_fragment, image_sources, web_fragment

__all__ = ["SLOT_HOST", "RenderedIssue", "clear_cache", "markdown_fragment", "render_issue"]

SLOT_HOST = "https://slot.invalid/"
# What a slot reads where no reader fills it (previews, test sends); a send
# fills "reason" per reader: "... you subscribed to <list> on <date>."
SAMPLE_SLOT_TEXT = {"reason": "You are receiving this email because you subscribed to this newsletter."}
CACHE_SIZE = 32
TEXT_LINKS_HEADING = "\nLinks:\n\n"


@dataclass(frozen=True)
class RenderedIssue:
    slug: str
    subject: str
    preheader: str
    email_html: str  # with slots (see the module docstring)
    text: str  # with slots
    web_html: str  # the sanitised fragment of the web version
    web_url: str
    nonce: str
    links: tuple[str, ...]  # slot l<n> -> original URL
    key: str  # content hash the cache is keyed by

    @property
    def slot_prefix(self) -> str:
        return f"{SLOT_HOST}{self.nonce}/"

    def slot(self, name: str) -> str:
        return self.slot_prefix + name

    @property
    def unsubscribe_slot(self) -> str:
        return self.slot("unsubscribe")

    def slot_pattern(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.slot_prefix) + r"([a-z0-9]+)")

    def filled(self, part: str, values: dict[str, str], *, html: bool) -> str:
        """``part`` ("email" or "text") with every slot filled: ``values`` for
        named slots, the original URLs for links (previews, test sends)."""
        source = self.email_html if part == "email" else self.text

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("l") and name[1:].isascii() and name[1:].isdigit() and int(name[1:]) < len(self.links):
                url = self.links[int(name[1:])]
            else:
                url = values.get(name, SAMPLE_SLOT_TEXT.get(name, ""))
            return escape(url, quote=True) if html else url

        return self.slot_pattern().sub(value, source)


_CACHE_LOCK = threading.Lock()  # worker threads may render concurrently
_cache: OrderedDict[str, RenderedIssue] = OrderedDict()


def clear_cache() -> None:
    with _CACHE_LOCK:
        _cache.clear()
    markdown_fragment.cache_clear()


@lru_cache(maxsize=64)
def markdown_fragment(body: str, base: str) -> str:
    """Unsanitised Markdown output of a body (with its events section placed)."""
    return to_html(clean_source(body, base))


def _body_with_events(issue: IssueSource, context: RenderContext) -> str:
    body = issue.body or ""
    if context.auto_events or has_marker(body):
        return insert_events(body, events_markdown(context.events, context.events_heading))
    return body


def _key(issue: IssueSource, context: RenderContext, body: str, fragment: str) -> str:
    keyed: dict[str, Any] = {
        "slug": issue.slug,
        "subject": issue.subject or "",
        "preheader": issue.preheader or "",
        "body": body,
        "base": context.base,
        "brand": astuple(context.brand),
        "test_banner": context.test_banner,
        "track_opens": context.track_opens,
        "web_key": context.web_key,
        "boxes": context.missing_images_as_boxes,
        "language": context.language,
        # What the media library says about the images: uploading one or editing
        # its alt text shows up at once.
        "images": [
            [src, astuple(ref) if (ref := context.resolve_image(src)) else None]
            for src in image_sources(fragment, context.base)
        ],
    }
    return hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()


def render_issue(issue: IssueSource, context: RenderContext) -> RenderedIssue:
    """Render (or fetch from the cache) every form of ``issue``. Works on an
    unsaved Issue too (``--file``, previews)."""
    body = _body_with_events(issue, context)
    fragment = markdown_fragment(body, context.base)
    key = _key(issue, context, body, fragment)
    with _CACHE_LOCK:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    with force_locale(context.language):
        rendered = _render(issue, context, fragment, key)
    with _CACHE_LOCK:
        _cache[key] = rendered
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return rendered


def _render(issue: IssueSource, context: RenderContext, fragment: str, key: str) -> RenderedIssue:
    base, page_url = context.base, context.web_url(issue.slug)
    nonce = secrets.token_hex(12)
    prefix = f"{SLOT_HOST}{nonce}/"
    slots = LinkSlots(prefix, [])
    resolve = _memo(context)
    email_body = sanitize(
        email_fragment(
            fragment,
            base=base,
            page_url=page_url,
            resolve=resolve,
            slots=slots,
            accent=safe_accent(context.brand.accent_color),
        )
    )
    web_html = sanitize(
        web_fragment(fragment, base=base, page_url=page_url, resolve=resolve, boxes=context.missing_images_as_boxes)
    )
    text_body, text_links = html_to_text(email_body)
    subject = issue.subject or ""
    preheader = issue.preheader or opening_prose(web_html)
    email_html = email_document(
        context,
        subject=subject,
        preheader=preheader,
        web_url=page_url,
        unsubscribe_url=prefix + "unsubscribe",
        reason=prefix + "reason",
        pixel_url=prefix + "pixel" if context.track_opens else None,
        body_html=email_body,
    )
    text = _text_part(context, page_url, prefix, text_body, text_links)
    return RenderedIssue(
        slug=issue.slug or "preview",
        subject=subject,
        preheader=preheader,
        email_html=email_html,
        text=text,
        web_html=web_html,
        web_url=page_url,
        nonce=nonce,
        links=tuple(slots.links),
        key=key,
    )


def _memo(context: RenderContext):  # noqa: ANN202 (a resolver)
    seen: dict[str, Any] = {}

    def resolve(src: str):  # noqa: ANN202
        if src not in seen:
            seen[src] = context.resolve_image(src)
        return seen[src]

    return resolve


def _text_part(context: RenderContext, page_url: str, prefix: str, body: str, links: list[str]) -> str:
    name = context.brand.newsletter_name
    lines = []
    if context.test_banner:
        lines += ["*** " + gettext("Test send: this is a preview, not the real issue.").upper() + " ***", ""]
    lines += [name, gettext("View this issue in your browser") + f": {page_url}", "", body, ""]
    if links:
        lines += [TEXT_LINKS_HEADING.strip(), ""]
        lines += [f"[{number}] {url}" for number, url in enumerate(links, start=1)]
        lines.append("")
    lines += ["--", prefix + "reason"]
    if context.brand.footer_text:
        lines.append(context.brand.footer_text)
    if context.brand.postal_address:
        lines.append(context.brand.postal_address)
    lines.append(gettext("Unsubscribe or manage your subscription") + f": {prefix}unsubscribe")
    return "\n".join(lines) + "\n"
