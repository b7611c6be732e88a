"""Find unfinished markers an editor left in a draft.

Words: TODO, TODOS, TBD, FIXME in any case as whole words (so "a to-do
list" or "todolist" are prose, but "(TODO: link)", "[TODO]", "##TODO" are
found); an upper-case TK word (journalists' "to come"); empty link targets
``[text]()`` and ``[text](#)``. Occurrences inside a URL are not markers."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"(?<![A-Za-z0-9_])(todos?|tbd|fixme)(?![A-Za-z0-9_])", re.IGNORECASE)
_TK = re.compile(r"(?<![A-Za-z0-9_])(?:TK)+(?![A-Za-z0-9_])")
_EMPTY_LINK = re.compile(r"\]\(\s*(?:#\s*)?\)")
_URL = re.compile(r"(?:[a-zA-Z][a-zA-Z0-9+.-]*://|www\.|mailto:)[^\s)>\]\"']+")


@dataclass(frozen=True)
class Placeholder:
    line: int    # 1-based
    col: int     # 1-based
    code: str    # "placeholder" (a marker word) or "empty-link"
    text: str    # what was found


def scan_line(line: str, number: int) -> list[Placeholder]:
    url_spans = [m.span() for m in _URL.finditer(line)]

    def in_url(position: int) -> bool:
        return any(start <= position < end for start, end in url_spans)

    found = []
    for pattern in (_WORD, _TK):
        for match in pattern.finditer(line):
            if not in_url(match.start()):
                found.append(Placeholder(number, match.start() + 1, "placeholder", match.group(0)))
    for match in _EMPTY_LINK.finditer(line):
        found.append(Placeholder(number, match.start() + 1, "empty-link", match.group(0)))
    return sorted(found, key=lambda p: (p.line, p.col))


def scan(text: str) -> list[Placeholder]:
    """Every placeholder in ``text``, in reading order."""
    found: list[Placeholder] = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        found.extend(scan_line(line, number))
    return found
