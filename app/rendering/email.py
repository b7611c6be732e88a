"""The email document around an issue's body: masthead, footer, the hidden
preheader, dark-mode and small-screen rules.

The template (``templates/email/issue.html``) is ours: premailer inlines its
<style> into the chrome, then the sanitised body goes in whole where the
template left a mark. The body is never parsed or edited again."""

from __future__ import annotations

import logging
import re
import secrets
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from premailer import Premailer

from app.i18n import gettext, ngettext
from app.rendering.context import RenderContext
from app.rendering.email_styles import safe_accent

__all__ = ["EMAIL_TEMPLATE", "email_document", "inline_css"]

# premailer copies a rule's width/height into an attribute (``height:auto`` becomes
# height="auto", which no HTML allows: the attributes take pixels, or a percentage on
# tables and cells). It only ever sees the template's chrome, so this runs on our own
# markup; the body is never parsed again.
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_SIZE = re.compile(r'\s(width|height)="([^"]*)"')
_PERCENT_ALLOWED = {"table", "td", "th"}


def _valid_size(tag: str, value: str) -> bool:
    if value.isdigit():
        return True
    return tag in _PERCENT_ALLOWED and value.endswith("%") and value[:-1].isdigit()


def _drop_invalid_sizes(markup: str) -> str:
    def tag(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        return _SIZE.sub(lambda a: a.group(0) if _valid_size(name, a.group(2)) else "", match.group(0))

    return _START_TAG.sub(tag, markup)


TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"
EMAIL_TEMPLATE = "issue.html"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # The chrome speaks the language the render runs in (force_locale, app/i18n.py).
    environment.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    return environment


def inline_css(document: str) -> str:
    """premailer with everything remote switched off; rules it cannot inline
    (media queries for dark mode and small screens) stay in a <style>. Size
    attributes premailer derives from values HTML has no attribute for go."""
    inlined = Premailer(
        document,
        remove_classes=False,
        strip_important=False,
        keep_style_tags=False,
        disable_validation=True,
        allow_network=False,
        allow_loading_external_files=False,
        cssutils_logging_level=logging.CRITICAL,
    ).transform(pretty_print=False)
    return _drop_invalid_sizes(inlined)


def email_document(
    context: RenderContext,
    *,
    subject: str,
    preheader: str,
    web_url: str,
    unsubscribe_url: str,
    pixel_url: str | None,
    body_html: str,
    reason: str = "",
) -> str:
    """The whole HTML email. ``body_html`` must already be sanitised."""
    mark = f"pressroom-body-{secrets.token_hex(8)}"
    chrome = (
        _environment()
        .get_template(EMAIL_TEMPLATE)
        .render(
            subject=subject,
            preheader=preheader,
            brand=context.brand,
            newsletter_name=context.brand.newsletter_name,
            postal_address=context.brand.postal_address,
            web_url=web_url,
            unsubscribe_url=unsubscribe_url,
            reason=reason,
            accent=safe_accent(context.brand.accent_color),
            pixel_url=pixel_url,
            body_html=mark,
            test_banner=context.test_banner,
            language=context.language,
        )
    )
    inlined = inline_css(chrome)
    if not inlined.lstrip().lower().startswith("<!doctype"):
        inlined = "<!doctype html>\n" + inlined  # premailer drops it
    head, found, tail = inlined.partition(mark)
    if not found:  # pragma: no cover - the template always has the mark
        raise RuntimeError(f"{EMAIL_TEMPLATE} lost the body mark")
    return head + body_html + tail
