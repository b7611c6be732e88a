"""Link and image text found in linear time.

Python-Markdown finds the text of ``[text](url)``, ``![alt](src)`` and
``[text][ref]`` by walking from each ``[`` to its matching ``]``
(``LinkInlineProcessor.getText``). Each ``[`` of a long run of unmatched ones
walks to the end of the paragraph: 8 KB of ``[`` took 15 s, ``![`` 8 s. Here the
brackets of a text are matched once, with a stack, and the result is reused for
every ``[`` of that text. The destination after ``](`` is checked in C before
Python-Markdown walks it (:meth:`_LinearText.getLink`).

When a link is found, Python-Markdown replaces it by a placeholder and scans the
new string from just after the placeholder. The part after the link is the old
text unchanged, so the matching is carried over with an offset instead of being
redone (redoing it would make a paragraph of many links quadratic again).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown import Markdown, inlinepatterns
from markdown.inlinepatterns import (
    ImageInlineProcessor,
    ImageReferenceInlineProcessor,
    InlineProcessor,
    LinkInlineProcessor,
    ReferenceInlineProcessor,
    ShortImageReferenceInlineProcessor,
    ShortReferenceInlineProcessor,
)

_BRACKET = re.compile(r"[\[\]]")
MAX_LINK_PARENS = 32  # cmark's limit on parentheses nested in a link destination


class _Brackets:
    """For each ``[`` of one text, where its matching ``]`` is."""

    def __init__(self, data: str) -> None:
        self.closing: dict[int, int] = {}
        stack: list[int] = []
        for match in _BRACKET.finditer(data):
            if match.group(0) == "[":
                stack.append(match.start())
            elif stack:
                self.closing[stack.pop()] = match.start()
        self.current = data
        self.offset = 0  # position in ``current`` + offset = position in the text matched
        self.valid_from = 0  # positions before this were rewritten since
        self.replaced: tuple[str, int, int] | None = None

    def follow(self, data: str) -> bool:
        """Take ``data`` as the text after the last replacement, if it is."""
        if data is self.current:
            return True
        if self.replaced is None:
            return False
        old, start, end = self.replaced
        resume = len(data) - (len(old) - end)  # where the unchanged rest begins in ``data``
        if old is not self.current or resume < start or data[resume:] != old[end:]:
            return False
        self.offset += end - resume
        self.valid_from = resume
        self.current = data
        self.replaced = None
        return True

    def close_of(self, opening: int) -> int | None:
        close = self.closing.get(opening + self.offset)
        return None if close is None else close - self.offset


class _LinearText(LinkInlineProcessor):
    """``getText`` from a bracket table; ``handleMatch`` tells the table about replacements."""

    _brackets: _Brackets | None = None

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:
        brackets = self._brackets
        if brackets is None or not brackets.follow(data) or index - 1 < brackets.valid_from:
            brackets = self._brackets = _Brackets(data)
        close = brackets.close_of(index - 1)
        if close is None:
            return "", len(data), False
        return data[index:close], close + 1, True

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:
        # Python-Markdown walks the destination in Python up to its closing ")".
        # A run of "[a](" never closes: each opener walked to the end. Deciding in C
        # first: no ")" at all, or more nested "(" before it than cmark allows, is
        # not a link.
        close = data.find(")", index)
        if close < 0 or data.count("(", index, close) > MAX_LINK_PARENS:
            return "", None, index, False
        return super().getLink(data, index)

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element | None, int | None, int | None]:
        element, start, end = super().handleMatch(m, data)
        if element is not None and start is not None and end is not None and self._brackets is not None:
            self._brackets.replaced = (data, start, end)
        return element, start, end


class LinearLink(_LinearText):
    pass


class LinearImage(_LinearText, ImageInlineProcessor):
    pass


class LinearReference(_LinearText, ReferenceInlineProcessor):
    pass


class LinearShortReference(_LinearText, ShortReferenceInlineProcessor):
    pass


class LinearImageReference(_LinearText, ImageReferenceInlineProcessor):
    pass


class LinearShortImageReference(_LinearText, ShortImageReferenceInlineProcessor):
    pass


# name: (class, pattern, priority), as Python-Markdown registers the originals.
_REPLACEMENTS: dict[str, tuple[type[InlineProcessor], str, int]] = {
    "reference": (LinearReference, inlinepatterns.REFERENCE_RE, 170),
    "link": (LinearLink, inlinepatterns.LINK_RE, 160),
    "image_link": (LinearImage, inlinepatterns.IMAGE_LINK_RE, 150),
    "image_reference": (LinearImageReference, inlinepatterns.IMAGE_REFERENCE_RE, 140),
    "short_reference": (LinearShortReference, inlinepatterns.REFERENCE_RE, 130),
    "short_image_ref": (LinearShortImageReference, inlinepatterns.IMAGE_REFERENCE_RE, 125),
}


def use_linear_links(md: Markdown) -> None:
    for name, (cls, pattern, priority) in _REPLACEMENTS.items():
        md.inlinePatterns.register(cls(pattern, md), name, priority)
