"""Render an issue once into subject, preheader, email HTML, text and web HTML.

The result is cached in-process by a hash of everything that goes into it
(issue content, the events section, settings, base URL), so a send with ten
thousand recipients runs Markdown and premailer once. Per-recipient values
(the unsubscribe URL) appear as :attr:`RenderedIssue.unsubscribe_placeholder`
and are substituted by :mod:`app.rendering.message`."""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app
from premailer import Premailer

from app.events.section import events_markdown
from app.media.lookup import resolve_image
from app.rendering.events_placement import insert_events
from app.rendering.markdown import render_markdown, substitute_site_variables
from app.rendering.summary import opening_prose
from app.rendering.text import html_to_text
from app.settings import get_setting

if TYPE_CHECKING:
    from app.issues.models import Issue

EMAIL_TEMPLATE = "email/issue.html"
COLUMN_WIDTH = 660
IMAGE_MAX_WIDTH = COLUMN_WIDTH - 48   # the content cell has 24px padding each side
CACHE_SIZE = 32
# The reserved .invalid TLD: should a placeholder ever leak, it resolves nowhere.
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/"
TEXT_LINKS_HEADING = "\nLinks:\n\n"
_IMG = re.compile(r"<img\b([^>]*)>", re.IGNORECASE)
_A_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', re.IGNORECASE)
_ATTR = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)"')
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class RenderedIssue:
    slug: str
    subject: str
    preheader: str
    email_html: str
    text: str
    web_html: str
    web_url: str
    unsubscribe_placeholder: str   # appears in email_html and text; replaced per recipient
    key: str                       # content hash the cache is keyed by


def web_url_for(slug: str | None) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/issues/{slug or 'preview'}"


def _absolute(url: str, base: str, page_url: str) -> str:
    raw = html.unescape(url)
    if raw.startswith("#"):
        return html.escape(page_url + raw, quote=True)
    if raw.startswith("//"):
        return html.escape("https:" + raw, quote=True)
    if _SCHEME.match(raw):
        return url
    if raw.startswith("/"):
        return html.escape(base + raw, quote=True)
    return html.escape(f"{base}/{raw}", quote=True)


def _rewrite_links(body: str, base: str, page_url: str, *, keep_fragments: bool) -> str:
    def fix(match: re.Match[str]) -> str:
        url = match.group(2)
        if keep_fragments and url.startswith("#"):
            return match.group(0)
        return match.group(1) + _absolute(url, base, page_url) + match.group(3)

    return _A_HREF.sub(fix, body)


def _rewrite_images(body: str, base: str, *, email: bool) -> str:
    """Absolute sources, library sizes and alt text; in email an explicit
    width no wider than the column, max-width:100% and height:auto."""

    def fix(match: re.Match[str]) -> str:
        attrs = dict(_ATTR.findall(match.group(1)))
        src = html.unescape(attrs.get("src", ""))
        if src and not _SCHEME.match(src):
            src = base + src if src.startswith("/") else f"{base}/{src}"
        ref = resolve_image(src) if src else None
        alt = html.unescape(attrs.get("alt", "")).strip() or (ref.alt_text if ref else "")
        width: int | None = ref.width if ref else None
        if width is None and attrs.get("width", "").isdigit():
            width = int(attrs["width"])
        out = {"src": (ref.email_url if email else ref.url) if ref else src, "alt": alt}
        if email:
            out["width"] = str(min(width or IMAGE_MAX_WIDTH, IMAGE_MAX_WIDTH))
            out["style"] = "display:block;max-width:100%;height:auto;border:0;"
        elif width:
            out["width"] = str(width)
            if ref:
                out["height"] = str(ref.height)
        if attrs.get("title"):
            out["title"] = html.unescape(attrs["title"])
        rendered = " ".join(f'{name}="{html.escape(value, quote=True)}"' for name, value in out.items())
        return f"<img {rendered}>"

    return _IMG.sub(fix, body)


def _email_body(body: str) -> str:
    """Markup every mail client understands: figures become a div with a
    caption paragraph; Markdown tables get a class the template styles."""
    body = body.replace("<figure>", '<div class="figure">').replace("</figure>", "</div>")
    body = body.replace("<figcaption>", '<p class="caption">').replace("</figcaption>", "</p>")
    return body.replace("<table>", '<table class="md" role="presentation">')


def inline_css(document: str) -> str:
    """premailer with everything remote switched off; rules it cannot inline
    (media queries for dark mode and small screens) stay in a <style>."""
    return Premailer(
        document,
        remove_classes=False,
        strip_important=False,
        keep_style_tags=False,
        disable_validation=True,
        allow_network=False,
        allow_loading_external_files=False,
        cssutils_logging_level=logging.CRITICAL,
    ).transform(pretty_print=False)


_IMAGE_SOURCES = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)|<img\b[^>]*?\bsrc=[\"']?([^\"'\s>]+)|"
                            r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?\.(?:png|jpe?g|gif|webp|svg))>?", re.I | re.M)


def _library_state(body: str, base: str) -> list[Any]:
    """What the media library says about the body's images: part of the cache
    key, so uploading an image or editing its alt text shows up at once."""
    # Substitute first: ``{{ site.github.url }}`` holds spaces the pattern stops at.
    body = substitute_site_variables(body, base)
    sources = {next(group for group in match.groups() if group) for match in _IMAGE_SOURCES.finditer(body)}
    state = []
    for src in sorted(sources):
        ref = resolve_image(src if _SCHEME.match(src) else f"{base}/{src.lstrip('/')}")
        state.append([src, list(astuple(ref)) if ref else None])
    return state


def _context_key(issue: Issue, body: str, test_banner: bool) -> tuple[str, dict[str, Any]]:
    base = current_app.config["BASE_URL"].rstrip("/")
    context = {
        "slug": issue.slug,
        "subject": issue.subject or "",
        "preheader": issue.preheader or "",
        "body": body,
        "newsletter_name": get_setting("newsletter_name"),
        "postal_address": get_setting("postal_address"),
        "base_url": base,
        "test_banner": test_banner,
    }
    keyed = {**context, "library": _library_state(body, base)}
    digest = hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()
    return digest, context


_CACHE_LOCK = threading.Lock()   # worker threads may render concurrently


def _cache() -> OrderedDict[str, RenderedIssue]:
    return current_app.extensions.setdefault("pressroom.render_cache", OrderedDict())


def render_issue(issue: Issue, *, test_banner: bool = False) -> RenderedIssue:
    """Render (or fetch from the cache) every form of ``issue``. Works on an
    unsaved Issue too (``--file``, previews)."""
    body = insert_events(issue.body or "", events_markdown(issue))
    key, context = _context_key(issue, body, test_banner)
    cache = _cache()
    with _CACHE_LOCK:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    rendered = _render(context, key)
    with _CACHE_LOCK:
        cache[key] = rendered
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return rendered


def _render(context: dict[str, Any], key: str) -> RenderedIssue:
    base = context["base_url"]
    page_url = web_url_for(context["slug"])
    safe = render_markdown(context["body"], base)

    web_html = _rewrite_images(_rewrite_links(safe, base, page_url, keep_fragments=True), base, email=False)
    absolute = _rewrite_links(safe, base, page_url, keep_fragments=False)
    email_body = _rewrite_images(_email_body(absolute), base, email=True)

    text_body, links = html_to_text(absolute)
    preheader = context["preheader"] or opening_prose(safe)
    placeholder = UNSUBSCRIBE_PLACEHOLDER + secrets.token_hex(12)
    template = current_app.jinja_env.get_template(EMAIL_TEMPLATE)
    document = template.render(
        subject=context["subject"], preheader=preheader,
        newsletter_name=context["newsletter_name"], postal_address=context["postal_address"],
        web_url=page_url, unsubscribe_url=placeholder, body_html=email_body,
        test_banner=context["test_banner"],
    )
    email_html = inline_css(document)
    if not email_html.lstrip().lower().startswith("<!doctype"):
        email_html = "<!doctype html>\n" + email_html   # premailer drops it

    text = _text_part(context, page_url, placeholder, text_body, links)
    return RenderedIssue(
        slug=context["slug"] or "preview", subject=context["subject"], preheader=preheader,
        email_html=email_html, text=text, web_html=web_html, web_url=page_url,
        unsubscribe_placeholder=placeholder, key=key,
    )


def _text_part(context: dict[str, Any], page_url: str, placeholder: str, body: str,
               links: list[str]) -> str:
    lines = []
    if context["test_banner"]:
        lines += ["*** TEST SEND: this is a preview, not the real issue. ***", ""]
    lines += [context["newsletter_name"], f"View this issue in your browser: {page_url}", "", body, ""]
    if links:
        lines += [TEXT_LINKS_HEADING.strip(), ""]
        lines += [f"[{number}] {url}" for number, url in enumerate(links, start=1)]
        lines.append("")
    lines += ["--", f"You are receiving this email because you subscribed to {context['newsletter_name']}."]
    if context["postal_address"]:
        lines.append(context["postal_address"])
    lines.append(f"Unsubscribe or manage your subscription: {placeholder}")
    return "\n".join(lines) + "\n"


def web_html(issue: Issue) -> str:
    """Body HTML of the web version (for the archive and the admin preview)."""
    return render_issue(issue).web_html
