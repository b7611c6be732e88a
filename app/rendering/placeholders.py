"""Find unfinished markers an editor left in a draft, not words in a sentence.

A marker word (TODO, TODOS, TBD, FIXME) is a placeholder where it is used as a
marker, the way the archive's drafts use it:

- followed by a colon, in any case: ``TODO: add intro``, ``(Also todo: links)``,
  ``##TODO: add updates``, ``tbd:``;
- alone in brackets, in any case: ``[TODO]``, ``(tbd)``, ``[FixMe](https://...)``;
- in capitals, where a marker stands: opening a bracket (``(TODO write intro)``),
  opening the line after any list, heading or quote markup (``* TBD``,
  ``TODO add intro``), after a label's colon (``Date: TBD``) or in emphasis
  (``**TBD**``).

So "the date is still TBD", "my todo list" and a section called "Aspirational
TODOS" are prose. A marker can name who should fill it, right after the word
and before the colon: ``TODO(@ryan): add the licensing article`` or
``TODO @ryan: …`` (the placeholder's ``owner``, the handle in lower case).
Also found: an upper-case TK word (journalists' "to come") and empty link
targets ``[text]()`` and ``[text](#)``. Nothing inside a URL counts.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_MARKER = r"(?:todos?|tbd|fixme)"
_WORD = re.compile(rf"(?<![A-Za-z0-9_]){_MARKER}(?![A-Za-z0-9_])", re.IGNORECASE)
_COLON_AFTER = re.compile(r"[ \t]*:")
_CLOSE_AFTER = re.compile(r"[ \t]*[)\]]")
_OPEN_BEFORE = re.compile(r"[(\[][ \t]*$")
_CAPITALS = re.compile(r"TODOS?|TBD|FIXME")
# Where a marker in capitals stands: after a label's colon or emphasis markup, or
# at the start of the line after any quote, list or heading markup.
_LABEL_OR_EMPHASIS_BEFORE = re.compile(r"(?::|[*_])[ \t]*$")
_LINE_MARKUP = re.compile(r"[ \t>]*(?:(?:[*+-]|[0-9]+[.)]|#{1,6})[ \t]*)?")
_TK = re.compile(r"(?<![A-Za-z0-9_])(?:TK)+(?![A-Za-z0-9_])")
_EMPTY_LINK = re.compile(r"\]\(\s*(?:#\s*)?\)")
# "(@ryan)" or " @ryan" between a marker and its colon.
# A handle as written after @ (any case; app.auth.handles keeps them lower case).
HANDLE = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,38}[A-Za-z0-9])?"
_OWNER = re.compile(rf"(?:\(@({HANDLE})\)|[ \t]+@({HANDLE}))(?=[ \t]*:)")
# A scheme only where a word starts (and possessive): tried at every letter of a
# 60 KB line, "[a-z][a-z0-9+.-]*://" walked to its end each time (quadratic).
_URL = re.compile(r"(?:(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]*+://|www\.|mailto:)[^\s)>\]\"']+")


@dataclass(frozen=True)
class Placeholder:
    line: int  # 1-based
    col: int  # 1-based
    code: str  # "placeholder" (a marker word) or "empty-link"
    text: str  # what was found
    owner: str | None = None  # the handle it names, lower case (``TODO(@ryan): ...``)


def _owner(line: str, end: int) -> re.Match[str] | None:
    return _OWNER.match(line, end)


def _is_marker(line: str, match: re.Match[str]) -> bool:
    start, end = match.span()
    owner = _owner(line, end)
    if _COLON_AFTER.match(line, owner.end() if owner else end):
        return True
    # Only a few characters before it matter: a bounded window keeps a line of
    # thousands of markers linear.
    before = line[max(0, start - 16) : start]
    if _OPEN_BEFORE.search(before) and _CLOSE_AFTER.match(line, end):
        return True
    if not _CAPITALS.fullmatch(match.group(0)):
        return False
    return bool(
        _OPEN_BEFORE.search(before)
        or _LABEL_OR_EMPHASIS_BEFORE.search(before)
        or (start <= 16 and _LINE_MARKUP.fullmatch(line, 0, start))
    )


def scan_line(line: str, number: int) -> list[Placeholder]:
    url_spans = [m.span() for m in _URL.finditer(line)]
    url_starts = [start for start, _ in url_spans]

    def in_url(position: int) -> bool:
        index = bisect.bisect_right(url_starts, position) - 1  # URLs do not overlap
        return index >= 0 and position < url_spans[index][1]

    found = []
    for match in _WORD.finditer(line):
        if not in_url(match.start()) and _is_marker(line, match):
            owner = _owner(line, match.end())
            handle = (owner.group(1) or owner.group(2)).lower() if owner else None
            found.append(Placeholder(number, match.start() + 1, "placeholder", match.group(0), handle))
    for match in _TK.finditer(line):
        if not in_url(match.start()):
            found.append(Placeholder(number, match.start() + 1, "placeholder", match.group(0)))
    for match in _EMPTY_LINK.finditer(line):
        found.append(Placeholder(number, match.start() + 1, "empty-link", match.group(0)))
    return sorted(found, key=lambda p: (p.line, p.col))


def lines_of(text: str | None) -> list[str]:
    """The text's lines, as numbered by :func:`scan` (line N is item N - 1)."""
    return (text or "").replace("\r\n", "\n").split("\n")


def scan(text: str) -> list[Placeholder]:
    """Every placeholder in ``text``, in reading order."""
    found: list[Placeholder] = []
    for number, line in enumerate(lines_of(text), start=1):
        found.extend(scan_line(line, number))
    return found
