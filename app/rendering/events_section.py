"""The "Upcoming events" section: its Markdown, and where it goes in an issue.

The events domain decides *which* events an issue lists and formats their
times for readers (:class:`app.rendering.context.EventView`); this module
writes them as Markdown, escaping every user-entered field so an event title
cannot inject HTML or links, and places the section:

A line ``[[events]]`` marks the place explicitly (the line is removed even
when there are no events). Without it the section goes at the end, before the
sign-off. The sign-off heuristic: walking back from the end, skipping link and
footnote definitions, the trailing run of at most three short plain
paragraphs (each under 300 characters; not a heading, list, quote, image,
table or HTML block) is the sign-off ("As always, thanks...", "All the best,",
"The Team"). If a ``---`` rule sits right before that run, the section goes
before the rule and gets its own rule, so the sign-off stays its own section."""

from __future__ import annotations

import re
from urllib.parse import quote

from app.rendering.context import EventView

EVENTS_MARKER = "[[events]]"
# Characters Python-Markdown treats specially; backslash escapes keep them literal.
# (``.``, ``-`` and ``+`` only matter at a line start, which user text never is.)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~])")

SIGN_OFF_MAX_BLOCKS = 3
SIGN_OFF_MAX_CHARS = 300
_DEFINITION = re.compile(r"^\s{0,3}\[\^?[^\]]+\]:")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_NOT_PLAIN = re.compile(r"^\s*(#|[*+-]\s|\d+[.)]\s|>|\||!\[|<|```|~~~|\[\[)")


def _blocks(body: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of blank-line separated blocks."""
    spans = []
    for match in re.finditer(r"(?:^[ \t]*\S.*(?:\n|$))+", body, re.MULTILINE):
        spans.append((match.start(), match.end()))
    return spans


def insert_events(body: str, events_md: str) -> str:
    lines = body.split("\n")
    marker_lines = [i for i, line in enumerate(lines) if line.strip() == EVENTS_MARKER]
    events_md = events_md.strip()
    if marker_lines:
        for index in marker_lines:
            lines[index] = f"\n{events_md}\n" if index == marker_lines[0] and events_md else ""
        return "\n".join(lines)
    if not events_md:
        return body
    blocks = _blocks(body)
    position = len(body)
    sign_off = 0
    with_rule = False
    for start, end in reversed(blocks):
        text = body[start:end].strip()
        if _DEFINITION.match(text):
            continue
        if _RULE.match(text) and sign_off:
            position, with_rule = start, True
            break
        if (
            sign_off < SIGN_OFF_MAX_BLOCKS
            and len(text) <= SIGN_OFF_MAX_CHARS
            and not _NOT_PLAIN.match(text)
            and not _RULE.match(text)
        ):
            sign_off += 1
            position = start
            continue
        break
    if not sign_off:
        return body.rstrip("\n") + "\n\n" + events_md + "\n"
    section = ("---\n\n" if with_rule else "") + events_md + "\n\n"
    return body[:position] + section + body[position:]


def escape_markdown(text: str) -> str:
    """Literal text inside Markdown: HTML-escape then backslash-escape Markdown syntax.

    ``<`` and ``&`` become entities (Markdown passes entities through), so
    ``<script>`` or a raw link in an event title stays text."""
    text = " ".join((text or "").split())  # no newlines: one bullet stays one bullet
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_link_target(url: str) -> str:
    """Percent-encode what could end a Markdown link target or open HTML."""
    return quote(url, safe=":/?#@!$&'*+,;=%~-._")


def event_bullet(event: EventView) -> str:
    title = escape_markdown(event.title)
    head = f"[{title}]({safe_link_target(event.url)})" if event.url else title
    parts = [escape_markdown(event.when)]
    if event.location:
        parts.append(escape_markdown(event.location))
    line = f"* {head}: {', '.join(parts)}"
    if event.speakers:
        line += f" — {escape_markdown(event.speakers)}"
    return line


def events_markdown(events: tuple[EventView, ...] | list[EventView], heading: str) -> str:
    """Markdown for the section ("" when there are no events)."""
    if not events:
        return ""
    lines = [f"## {escape_markdown(heading or 'Upcoming events')}", ""]
    lines += [event_bullet(event) for event in events]
    return "\n".join(lines) + "\n"


def has_marker(body: str) -> bool:
    return any(line.strip() == EVENTS_MARKER for line in body.split("\n"))
