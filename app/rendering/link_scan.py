"""Links, images, footnote references and code spans of one Markdown line, found
in linear time (preflight reads every line of every preview).

Regular expressions such as ``\\[(...)*\\]\\(`` restart at each ``[`` and walk to
the end of the line when nothing closes it: 16 KB of ``[`` took 0.7 s, a long
run of backticks or ``[^`` more. Here brackets are matched once with a stack,
code spans by pairing backtick runs of equal length, and every look-ahead
after a bracket is a bounded match."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Bracketed", "blank_code_spans", "bracketed"]

_BRACKET = re.compile(r"\\.|[\[\]]")
_TICKS = re.compile(r"`+")
MAX_TARGET = 2048
_INLINE_TARGET = re.compile(rf"\(\s{{0,16}}<?([^)\s>]{{0,{MAX_TARGET}}})>?")
_LABEL = re.compile(r"\[([^\]\n]{0,999})\]")


@dataclass(frozen=True)
class Bracketed:
    start: int  # of the "[" (or the "!" of an image)
    image: bool
    text: str  # between the brackets
    kind: str  # "inline" ``[t](url)``, "reference" ``[t][ref]``, "footnote" ``[^n]``, "bare" ``[t]``
    target: str = ""  # the URL (inline) or the reference label ("" for ``[t][]``)


def bracketed(line: str) -> list[Bracketed]:
    """Every ``[...]`` of the line with what follows it, nested ones included."""
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    for match in _BRACKET.finditer(line):
        if match.group(0) == "[":
            stack.append(match.start())
        elif match.group(0) == "]" and stack:
            pairs.append((stack.pop(), match.start()))
    found = []
    for open_at, close_at in sorted(pairs):
        text = line[open_at + 1 : close_at]
        image = open_at > 0 and line[open_at - 1] == "!"
        start = open_at - 1 if image else open_at
        after = close_at + 1
        if text.startswith("^") and not image:
            if not line.startswith(":", after):
                found.append(Bracketed(start, False, text[1:], "footnote"))
            continue
        if line.startswith("(", after):
            target = _INLINE_TARGET.match(line, after)
            found.append(Bracketed(start, image, text, "inline", target.group(1) if target else ""))
        elif line.startswith("[", after):
            label = _LABEL.match(line, after)
            if label is not None:
                found.append(Bracketed(start, image, text, "reference", label.group(1)))
        else:
            found.append(Bracketed(start, image, text, "bare"))
    return found


def blank_code_spans(line: str) -> str:
    """``line`` with every code span replaced by spaces (columns kept), so
    ``a[i][j]`` in code is not taken for a reference link. A span opens and
    closes with backtick runs of the same length (CommonMark)."""
    runs = [(m.start(), m.end()) for m in _TICKS.finditer(line)]
    if len(runs) < 2:
        return line
    following: dict[int, int] = {}  # run index -> next run index of the same length
    next_of_length: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1] - runs[index][0]
        if length in next_of_length:
            following[index] = next_of_length[length]
        next_of_length[length] = index
    chars = list(line)
    index = 0
    while index < len(runs):
        closing = following.get(index)
        if closing is None:
            index += 1
            continue
        start, end = runs[index][0], runs[closing][1]
        chars[start:end] = " " * (end - start)
        index = closing + 1
    return "".join(chars)
