"""Markdown -> sanitised HTML fragment, tolerant of the Jekyll/kramdown archive.

The pipeline is: clean the source text (zero-width characters, site
variables), run Python-Markdown with the archive's kramdown dialect
(:mod:`app.rendering.kramdown_compat`), turn "image followed by a ``#####`` line"
into a figure with a caption, then sanitise with nh3. Sanitising last means
raw HTML in the source can never smuggle a script or an event handler out,
whatever the Markdown extensions did with it."""

from __future__ import annotations

import re

import markdown as md
import nh3

from app.rendering.kramdown_compat import KramdownCompatExtension

# Zero-width characters that sneak in from word processors and web editors.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ZW_LINE_START = re.compile(rf"^[{ZERO_WIDTH}]+[ \t]*(?:([0-9]{{1,9}})\.|([-+*#>]))?", re.MULTILINE)
_ZW_ANY = re.compile(f"[{ZERO_WIDTH}]")

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_DASH_RULE = re.compile(r"^ {0,3}-{3,}\s*$")

# {{ site.github.url }}, {{site.url}}, {{ site.baseurl }} with any spacing.
SITE_VARIABLE = re.compile(r"\{\{\s*site\.(?:github\.url|url|baseurl)\s*\}\}")

_FIGURE = re.compile(
    r"<p>\s*(<img\b[^>]*>)\s*</p>\s*<h5(?:\s[^>]*)?>(.*?)</h5>", re.DOTALL | re.IGNORECASE
)

def _extensions() -> list[str | md.extensions.Extension]:
    # kramdown_compat replaces Python-Markdown's lists (so no "sane_lists"), headings,
    # rules, quotes and typography with the archive's kramdown rules.
    return ["footnotes", "tables", "fenced_code", "attr_list", KramdownCompatExtension()]

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def clean_source(text: str, base_url: str) -> str:
    """Text-level fixes that must happen before Markdown sees the source."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A zero-width character at the start of a line hid the indentation after
    # it from kramdown, which read the line as text; drop both (or the line would
    # turn into a code block) and escape a list or heading marker now in front.
    text = _ZW_LINE_START.sub(_still_text, text)
    text = _ZW_ANY.sub("", text)
    return substitute_site_variables(_rules_not_headings(text), base_url)


def _still_text(match: re.Match[str]) -> str:
    digits, marker = match.group(1), match.group(2)
    if digits is not None:
        return digits + "\\."
    return "\\" + marker if marker else ""


def _rules_not_headings(text: str) -> str:
    """In this archive ``---`` always separates sections. Directly under a
    line of text Markdown would read it as a setext heading underline, so a
    blank line goes in front of it (outside fenced code)."""
    lines = text.split("\n")
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        opening = _FENCE.match(line)
        if opening and (fence is None or opening.group(1) == fence):
            fence = None if fence else opening.group(1)
        elif fence is None and _DASH_RULE.match(line) and out and out[-1].strip():
            out.append("")
        out.append(line)
    return "\n".join(out)


def substitute_site_variables(text: str, base_url: str) -> str:
    return SITE_VARIABLE.sub(lambda _m: base_url.rstrip("/"), text)


def to_html(source: str) -> str:
    """Unsanitised Markdown output (call :func:`sanitise` on it)."""
    converter = md.Markdown(extensions=_extensions(), output_format="html")
    return converter.convert(source)


def add_captions(html: str) -> str:
    """An image paragraph directly followed by an h5 becomes a figure."""
    return _FIGURE.sub(r"<figure>\1<figcaption>\2</figcaption></figure>", html)


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
    )


def render_markdown(text: str, base_url: str) -> str:
    """Markdown source -> safe HTML fragment with site variables resolved."""
    return sanitise(add_captions(to_html(clean_source(text, base_url))))
