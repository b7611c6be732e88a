"""The HTML an issue may contain, enforced by nh3 as the LAST step.

Everything that shapes an issue's HTML (links made absolute, images resolved
and sized, figures, inline styles, link slots) happens on the parsed tree
*before* this runs; its output is final and is only ever inserted whole into
the email or page around it, never edited. So no rewriting can turn text the
sanitiser escaped (say ``<abbr title="<img src=x>">``) back into markup."""

from __future__ import annotations

import nh3

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_STYLES", "ALLOWED_TAGS", "URL_SCHEMES", "sanitize"]

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "table": {"role", "width", "cellpadding", "cellspacing", "border"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "ol": {"start"},
}
# Inline CSS that can only lay text out: nothing positions, overlays, loads a
# URL or hides the footer (no position, background-image, content, url()...).
ALLOWED_STYLES = {
    "background-color",
    "border",
    "border-bottom",
    "border-collapse",
    "border-color",
    "border-left",
    "border-right",
    "border-spacing",
    "border-style",
    "border-top",
    "border-width",
    "color",
    "display",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "height",
    "line-height",
    "list-style-type",
    "margin",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "margin-top",
    "max-width",
    "min-width",
    "overflow-wrap",
    "overflow-x",
    "padding",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "padding-top",
    "text-align",
    "text-decoration",
    "vertical-align",
    "white-space",
    "width",
    "word-break",
    "word-wrap",
}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitize(html: str) -> str:
    """The safe fragment (scripts and styles removed with their content)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        filter_style_properties=ALLOWED_STYLES,
        strip_comments=True,
    )
