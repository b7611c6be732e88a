"""Markdown -> HTML fragment, tolerant of the Jekyll/kramdown archive.

This module is the dialect: clean the source text (zero-width characters,
site variables, ``---`` always a rule), then Python-Markdown with the
archive's kramdown rules (:mod:`app.rendering.kramdown_compat`). Its output is
*unsanitised*; :mod:`app.rendering.transform` shapes it and
:mod:`app.rendering.sanitize` has the last word, so raw HTML in the source can
never smuggle a script or an event handler out."""

from __future__ import annotations

import re

import markdown as md

from app.rendering.context import no_images
from app.rendering.kramdown_compat import KramdownCompatExtension
from app.rendering.sanitize import sanitize
from app.rendering.transform import web_fragment

# Zero-width characters that sneak in from word processors and web editors.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ZW_LINE_START = re.compile(rf"^[{ZERO_WIDTH}]+[ \t]*(?:([0-9]{{1,9}})\.|([-+*#>]))?", re.MULTILINE)
_ZW_ANY = re.compile(f"[{ZERO_WIDTH}]")

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_DASH_RULE = re.compile(r"^ {0,3}-{3,}\s*$")

# {{ site.github.url }}, {{site.url}}, {{ site.baseurl }} with any spacing.
SITE_VARIABLE = re.compile(r"\{\{\s*site\.(?:github\.url|url|baseurl)\s*\}\}")


def _extensions() -> list[str | md.extensions.Extension]:
    # kramdown_compat replaces Python-Markdown's lists (so no "sane_lists"), headings,
    # rules, quotes and typography with the archive's kramdown rules.
    return ["footnotes", "tables", "fenced_code", "attr_list", KramdownCompatExtension()]


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


def render_markdown(text: str, base_url: str) -> str:
    """Markdown source -> the safe web fragment, with no media library (tests, previews of snippets)."""

    base = base_url.rstrip("/")
    return sanitize(
        web_fragment(to_html(clean_source(text, base)), base=base, page_url=f"{base}/issues/preview", resolve=no_images)
    )
