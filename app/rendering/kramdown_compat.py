"""Python-Markdown, read the way the archive's kramdown read it.

The archive (2017-2020) was built by GitHub Pages: Jekyll 3 with kramdown, whose
options there were Jekyll's defaults plus GitHub's: ``input: GFM``,
``hard_wrap: false`` (a newline inside a paragraph is a space; the archive's
hand-wrapped paragraphs confirm it), ``gfm_quirks: paragraph_end``,
``smart_quotes: lsquo,rsquo,ldquo,rdquo``, typographic symbols on. This extension
makes Python-Markdown agree with that on everything the archive uses:

- lists and paragraphs (:mod:`app.rendering.kramdown_lists`);
- ``#`` headings need a space, rules only start a block;
- a blank line ends a block quote (Python-Markdown joined two quotes into one);
- a backslash at the end of a line is a line break, and it escapes the
  characters GFM adds (``" ' | : < = ~ $``);
- quotes, dashes and ellipses (:mod:`app.rendering.kramdown_typography`);
- link and image text found in linear time (:mod:`app.rendering.linear_links`).

``tests/test_kramdown_parity.py`` compares the result page by page with kramdown's
own rendering of the corpus (``tests/fixtures/kramdown/``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown import Markdown
from markdown.blockprocessors import BlockQuoteProcessor
from markdown.extensions import Extension
from markdown.inlinepatterns import SubstituteTagInlineProcessor

from app.rendering.kramdown_lists import (
    GfmHashHeaderProcessor,
    KramdownListProcessor,
    KramdownRuleProcessor,
)
from app.rendering.kramdown_typography import KramdownTypography
from app.rendering.linear_links import use_linear_links

__all__ = ["KramdownCompatExtension"]


MAX_QUOTE_DEPTH = 24


class SeparateQuoteProcessor(BlockQuoteProcessor):
    """A quote after a blank line is a new blockquote, as in kramdown (Python-Markdown
    appends it to the quote before; that sibling lookup is all ``lastChild`` does here).
    Quotes nest at most 24 deep: deeper ``>`` stay text, so thousands of them cannot
    recurse without end or build a tree the HTML parser downstream truncates."""

    depth = 0

    def lastChild(self, parent: etree.Element) -> etree.Element | None:
        return None

    def test(self, parent: etree.Element, block: str) -> bool:
        return self.depth < MAX_QUOTE_DEPTH and super().test(parent, block)

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        self.depth += 1
        try:
            super().run(parent, blocks)
        finally:
            self.depth -= 1


class KramdownCompatExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        blocks = md.parser.blockprocessors
        for name in ("indent", "olist", "ulist"):
            # kramdown lists own their indented content; an indented block after a
            # list that does not belong to it is code, as in kramdown.
            blocks.deregister(name, strict=False)
        blocks.register(KramdownListProcessor(md.parser), "kramdown_list", 72)
        blocks.register(GfmHashHeaderProcessor(md.parser), "hashheader", 70)
        blocks.register(KramdownRuleProcessor(md.parser), "hr", 50)
        blocks.register(SeparateQuoteProcessor(md.parser), "quote", 20)
        # GFM lets a backslash escape these too (kramdown's ESCAPED_CHARS_GFM).
        md.ESCAPED_CHARS.extend(char for char in "<:|\"'$=~" if char not in md.ESCAPED_CHARS)
        # Before "escape" (180), whose pattern never spans a newline.
        md.inlinePatterns.register(SubstituteTagInlineProcessor(r"\\\\?\n", "br"), "gfm_break", 185)
        use_linear_links(md)
        if "footnote" in md.inlinePatterns:
            # Bounded: "[^" repeated along a line made every search walk to its end (1 s for 16 KB).
            md.inlinePatterns["footnote"].compiled_re = re.compile(r"\[\^([^\]\n]{1,200})\]", re.DOTALL)
        md.treeprocessors.register(KramdownTypography(md), "kramdown_typography", 6)
