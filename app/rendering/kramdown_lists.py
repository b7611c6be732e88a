"""kramdown's block rules for lists and paragraphs, as Python-Markdown block processors.

The archive was published by GitHub Pages: Jekyll with kramdown, input ``GFM``,
``hard_wrap: false``, ``gfm_quirks: paragraph_end``. Python-Markdown reads lists
differently in three ways that turned hundreds of archive list items into run-on
paragraphs with a literal ``* ``:

- a list may start on the line right under a paragraph (the ``paragraph_end``
  quirk: a list marker, like a ``#`` heading or a ``>`` quote, ends a paragraph);
- an item's content is every following line indented at least to the item's
  content column (marker plus the spaces after it, so two spaces under ``* ``),
  not by a fixed four spaces, so ``* a`` / ``  * b`` nests;
- whether an item's first paragraph is wrapped in ``<p>`` follows kramdown's
  "transparent paragraph" rule, item by item.

:func:`scan_list` transcribes ``parse_list`` from kramdown 2.4
(``lib/kramdown/parser/kramdown/list.rb``) line for line; the processors build
the elements with Python-Markdown's own block parser for each item's content.
Every line is looked at once per nesting level and nesting is capped, so the
work is linear in the input (see ``bench/markdown.py``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field

from markdown.blockparser import BlockParser
from markdown.blockprocessors import BlockProcessor, HashHeaderProcessor
from markdown.util import HTML_PLACEHOLDER_RE

# kramdown's LIST_START without its PATTERN_TAIL quirk (``[\t| ]``: a ``|`` right
# after a marker also starts a list there; nobody writes "-|" meaning a list).
_UL_START = re.compile(r"( {0,3}[+*-])([ \t].*)$", re.ASCII)
_OL_START = re.compile(r"( {0,3}[0-9]+\.)([ \t].*)$", re.ASCII)
LIST_START = re.compile(r" {0,3}(?:[+*-]|[0-9]+\.)[ \t]", re.ASCII)
# kramdown's HR_START: a rule is tested before a list, so "* * *" is a rule.
_HR = re.compile(r" {0,3}([*_-])[ \t]*\1[ \t]*\1(?:\1|[ \t])*$", re.MULTILINE)
# A line a lazy continuation may not be (kramdown's lazy_re): an attribute list or
# a block-level HTML tag. Python-Markdown has already replaced raw HTML blocks by
# placeholder lines, which end a list item the same way.
_SPAN_TAGS = (
    "a|abbr|acronym|b|big|bdo|br|button|cite|code|del|dfn|em|i|img|input|ins|kbd|label|"
    "mark|option|q|rb|rbc|rp|rt|rtc|ruby|samp|select|small|span|strong|sub|sup|tt|u|var|"
    "script"
)
_NOT_LAZY = re.compile(rf" {{0,3}}(?:\{{:|</?(?!(?:{_SPAN_TAGS})\b)[A-Za-z])")
_GFM_ATX = re.compile(r"(?:^|\n)(#{1,6})[ \t]+([^\n]*)")
_CLOSING_HASHES = re.compile(r"[ \t]#+$")
# Nesting deeper than this is read as text: kramdown has no limit, but each
# level is a recursion of the block parser and 8 KB of "* " would exhaust the stack.
MAX_DEPTH = 24


def _sibling_pattern(ordered: bool, indentation: int) -> re.Pattern[str]:
    """kramdown's fetch_pattern: a next item may be indented less than the content."""
    spaces = min(indentation - 1, 3)
    marker = r"[0-9]+\." if ordered else r"[+*-]"
    return re.compile(rf"( {{0,{spaces}}}{marker})([ \t].*)$", re.ASCII)


class _Lines:
    """The lines of the current block and, on demand, of the blocks after it.

    Python-Markdown hands block processors blank-line separated blocks; a list
    runs on across blank lines, so the next block is taken only when the scan
    reaches it, and whatever the list does not use goes back in front."""

    def __init__(self, blocks: list[str]) -> None:
        self.blocks = blocks
        self.lines = blocks.pop(0).split("\n")
        self.position = 0

    def peek(self) -> str | None:
        if self.position == len(self.lines):
            if not self.blocks:
                return None
            # The split on "\n\n" ate one blank line between the two blocks.
            self.lines = ["", *self.blocks.pop(0).split("\n")]
            self.position = 0
        return self.lines[self.position]

    def advance(self) -> None:
        self.position += 1

    def give_back(self) -> None:
        rest = self.lines[self.position :]
        if any(line.strip() for line in rest):
            self.blocks.insert(0, "\n".join(rest))


@dataclass
class ScannedList:
    ordered: bool
    start: int
    items: list[list[str]] = field(default_factory=list)  # each item's content, indentation removed


def scan_list(lines: _Lines) -> ScannedList:
    """kramdown's parse_list over lines; the first line is a list start."""
    first = lines.peek() or ""
    ordered = not _UL_START.match(first)
    number = re.match(r" *([0-9]+)", first)
    scanned = ScannedList(ordered, int(number.group(1)) if ordered and number else 1)
    sibling = _OL_START if ordered else _UL_START
    item: list[str] = []
    indentation = 0
    nested = last_blank = False
    while (line := lines.peek()) is not None:
        if last_blank and _HR.match(line):
            break
        if match := sibling.match(line):
            tail = match.group(2)
            content = tail.lstrip(" \t")
            indentation = len(match.group(1)) + len(tail) - len(content)
            item = [content]
            scanned.items.append(item)
            sibling = _sibling_pattern(ordered, indentation)
            nested = bool(LIST_START.match(content))
            last_blank = False
        elif line.strip() and (
            line.startswith(" " * indentation)
            or (not last_blank and not _NOT_LAZY.match(line) and not HTML_PLACEHOLDER_RE.match(line.strip()))
        ):
            indented = line.startswith(" " * indentation)
            text = line[indentation:] if indented else line
            if not nested and indented and LIST_START.match(text):
                nested = True
            elif nested and not indented and LIST_START.match(text):
                # kramdown pushes a lazy list line under a nested list into that list.
                text = " " * (indentation + 4) + text
            item.append(text)
            last_blank = False
        elif not line.strip():
            nested = last_blank = True
            item.append("")
        else:
            break
        lines.advance()
    return scanned


def _starts_list(line: str) -> bool:
    return bool(LIST_START.match(line)) and not _HR.match(line)


_QUOTE_START = re.compile(r" {0,3}>")
_LINE_START_OF_LIST = re.compile(r"\n(?= {0,3}(?:[+*-]|[0-9]+\.)[ \t])", re.ASCII)


def _list_start_inside(block: str) -> int | None:
    """Where (the newline before) a list starts under other lines of this block.
    A quote's lazy lines take list lines in, so a block starting with ``>`` has none."""
    if _QUOTE_START.match(block):
        return None
    for match in _LINE_START_OF_LIST.finditer(block):
        if not _HR.match(block, match.end()):
            return match.start()
    return None


def _is_placeholder(element: etree.Element) -> bool:
    """A raw HTML block or fenced code stands in a <p> as a placeholder until output."""
    return bool(element.text and HTML_PLACEHOLDER_RE.fullmatch(element.text.strip()))


@dataclass
class _Shape:
    """What kramdown's transparency rule asks about an item's parsed content."""

    first_is_paragraph: bool = False
    blank_after_first: bool = False  # the first paragraph is followed by a blank line
    only_blank_after: bool = False  # ... and by nothing else
    transparent: bool = False


class KramdownListProcessor(BlockProcessor):
    """Lists by kramdown's rules (replaces Python-Markdown's olist and ulist)."""

    def __init__(self, parser: BlockParser) -> None:
        super().__init__(parser)
        self.depth = 0

    def test(self, parent: etree.Element, block: str) -> bool:
        return self.depth < MAX_DEPTH and (
            _starts_list(block.split("\n", 1)[0]) or _list_start_inside(block) is not None
        )

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        inside = _list_start_inside(blocks[0]) if not _starts_list(blocks[0].split("\n", 1)[0]) else None
        if inside is not None:
            # The lines above the list are parsed on their own first (GFM
            # paragraph_end: a list start ends a paragraph), before Python-Markdown's
            # heading or quote processors split this block somewhere inside the list.
            block = blocks.pop(0)
            blocks.insert(0, block[inside + 1 :])
            self.parser.parseBlocks(parent, [block[:inside]])
            return
        lines = _Lines(blocks)
        scanned = scan_list(lines)
        lines.give_back()
        element = etree.SubElement(parent, "ol" if scanned.ordered else "ul")
        if scanned.ordered and scanned.start != 1:
            element.set("start", str(scanned.start))
        self.depth += 1
        try:
            shapes = [self._item(element, content) for content in scanned.items]
        finally:
            self.depth -= 1
        for index, (li, shape) in enumerate(zip(element, shapes, strict=True)):
            shape.transparent = _transparent(shape, index, shapes)
            if shape.transparent:
                _unwrap_first_paragraph(li)

    def _item(self, element: etree.Element, content: list[str]) -> _Shape:
        li = etree.SubElement(element, "li")
        blank = content.index("") if "" in content else len(content)
        head, rest = content[:blank], content[blank + 1 :]
        self._parse(li, head)
        shape = _Shape(first_is_paragraph=len(li) > 0 and li[0].tag == "p" and not _is_placeholder(li[0]))
        if len(li) == 1 and blank < len(content):
            shape.blank_after_first = True
            shape.only_blank_after = not any(line.strip() for line in rest)
        if rest:
            self._parse(li, rest)
        return shape

    def _parse(self, li: etree.Element, lines: list[str]) -> None:
        # Fenced code inside an item: Python-Markdown's fence preprocessor only
        # saw the document's unindented lines, so run it on the item's content.
        preprocessors = self.parser.md.preprocessors
        if "fenced_code_block" in preprocessors and any(line.lstrip().startswith(("```", "~~~")) for line in lines):
            lines = preprocessors["fenced_code_block"].run(lines)
        self.parser.parseChunk(li, "\n".join(lines).rstrip("\n"))


def _transparent(shape: _Shape, index: int, shapes: list[_Shape]) -> bool:
    """kramdown: an item's first paragraph is bare (no <p>) when it is not followed
    by a blank line, or it ends the list; the last item is bare only if an earlier
    one was (or the list has one item)."""
    if not shape.first_is_paragraph:
        return False
    last = index == len(shapes) - 1
    if shape.blank_after_first and not (last and shape.only_blank_after):
        return False
    if not last or len(shapes) == 1:
        return True
    return any(not earlier.first_is_paragraph or earlier.transparent for earlier in shapes[:-1])


def _unwrap_first_paragraph(li: etree.Element) -> None:
    paragraph = li[0]
    li.remove(paragraph)
    li.text = paragraph.text
    for position, child in enumerate(list(paragraph)):
        li.insert(position, child)


class GfmHashHeaderProcessor(HashHeaderProcessor):
    """kramdown GFM headings: ``#`` needs a space after it ("##TODO" is text) and
    closing hashes go only after a space ("C#" keeps its hash)."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return self._find(block) is not None

    @staticmethod
    def _find(block: str) -> tuple[re.Match[str], str] | None:
        for match in _GFM_ATX.finditer(block):
            text = _CLOSING_HASHES.sub("", match.group(2).rstrip()).rstrip()
            if text:
                return match, text
        return None

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        block = blocks.pop(0)
        found = self._find(block)
        if found is None:  # test() said yes on this very block
            blocks.insert(0, block)
            return
        match, text = found
        before, after = block[: match.start()], block[match.end() :].lstrip("\n")
        if before:
            self.parser.parseBlocks(parent, [before])
        heading = etree.SubElement(parent, f"h{len(match.group(1))}")
        heading.text = text
        if after:
            blocks.insert(0, after)


class KramdownRuleProcessor(BlockProcessor):
    """A rule only where a block starts: kramdown reads ``***`` under a line of
    text as part of that paragraph (``---`` lines get a blank line in front of them
    in :func:`app.rendering.markdown.clean_source`, so they always are rules)."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return bool(_HR.match(block.split("\n", 1)[0]))

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        rest = blocks.pop(0).split("\n", 1)
        etree.SubElement(parent, "hr")
        if len(rest) == 2 and rest[1].strip():
            blocks.insert(0, rest[1])
