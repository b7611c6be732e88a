"""What an issue's opening says, for a derived subject or preheader.

An inbox shows the subject and the preheader, so neither may be "Hello!", an
image's caption or an image: the archive's issues open with a greeting ("Hello!
In this week's newsletter, ..."), and a ``#####`` line under an image is its
caption, not a section. Subjects are cut to 78 characters (what inboxes show
whole, and RFC 5322's line length) at a word boundary, with an ellipsis.
"""

from __future__ import annotations

import re

from lxml import html as lxml_html

SUBJECT_LIMIT = 78
PREHEADER_LIMIT = 140

_GREETING_WORD = re.compile(
    r"(?:hello|hi|hiya|hey|howdy|greetings|dear|good (?:morning|afternoon|evening))"
    r"\b",
    re.IGNORECASE,
)
# A greeting clause in front of the real sentence: "Hi all, ...", "Dear readers, ...".
_GREETING_CLAUSE = re.compile(rf"{_GREETING_WORD.pattern}[^,.!?:;]{{0,30}}[,:;]\s+", re.IGNORECASE)
_WELCOME = re.compile(r"(?:and )?welcome\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")
_GREETING_MAX_WORDS = 6


def is_greeting(text: str) -> bool:
    """A whole greeting: "Hello!", "Hi all,", "Dear readers", "Greetings from Brooklyn,
    NY!", "Hello, and welcome to the newsletter." ("Hi all, this week ..." is not)."""
    text = text.strip()
    if not _GREETING_WORD.match(text):
        return False
    clause = _GREETING_CLAUSE.match(text)
    if clause is None:
        return len(text.split()) <= _GREETING_MAX_WORDS
    rest = text[clause.end() :]
    return bool(_WELCOME.match(rest)) or len(rest.split()) < 2


def without_greeting(text: str) -> str:
    """``text`` from its first sentence that is not a greeting."""
    text = " ".join(text.split())
    while text:
        parts = _SENTENCE_END.split(text, maxsplit=1)
        if not is_greeting(parts[0]):
            break
        text = parts[1] if len(parts) == 2 else ""
    clause = _GREETING_CLAUSE.match(text)
    if clause and len(text) > clause.end():
        text = text[clause.end()].upper() + text[clause.end() + 1 :]
    return text


def first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text, maxsplit=1)[0]


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-\u2013\u2014") + "\u2026"


def opening_prose(body_html: str, limit: int = PREHEADER_LIMIT) -> str:
    """The first paragraph of prose of a rendered body, greeting left out; "" if none.
    Images, figures and their captions, headings, lists, quotes and code are skipped."""
    if not body_html.strip():
        return ""
    root = lxml_html.fragment_fromstring(body_html, create_parent="div")
    for marker in root.xpath("//sup"):  # footnote markers
        marker.drop_tree()
    for block in root:
        if block.tag != "p":  # headings, lists, quotes, tables, code, figures: not prose
            continue
        text = without_greeting(block.text_content())
        if len(text) >= 3:
            return shorten(text, limit)
    return ""
