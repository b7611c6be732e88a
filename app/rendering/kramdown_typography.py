"""kramdown's typographic symbols and smart quotes, applied to the finished tree.

kramdown (``smart_quotes: lsquo,rsquo,ldquo,rdquo`` and its typographic_syms span
parser, both on in Jekyll's defaults) turns ``--`` into an en dash, ``---`` into an
em dash, ``...`` into an ellipsis, ``<<``/``>>`` into guillemets and straight quotes
into curly ones. Python-Markdown's smarty extension gets most of it but decides
some quotes differently (a closing quote right after a link, ``....``), so the
rules here are kramdown's own (``parser/kramdown/smart_quotes.rb`` and
``typographic_symbol.rb``, 2.4), run the way kramdown's span parser runs them.

kramdown sees the source of a paragraph, this sees the tree: each block's text
is laid out as one string with stand-ins for the markup between text nodes
(``*`` for an emphasis, ``](`` after a link's text, the raw HTML of a stashed
tag), because the rules look ahead into it ("a quote followed by ``*`` opens").
A character that kramdown would have consumed as markup is never the character
in front of a quote. Code, preformatted text and attribute values are untouched.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass

from markdown.treeprocessors import Treeprocessor
from markdown.util import STX, AtomicString

_W = "[A-Za-z0-9_]"  # Ruby's \w and \s are ASCII; its \b is not.
_S = "[ \t\r\n\f\v]"
_PUNCT = r"""[!"#$%'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"""
_CLOSE = r"[^ \\\t\r\n\[{(-]"
_QUOTE_CHAR = {("l", '"'): "\u201c", ("r", '"'): "\u201d", ("l", "'"): "\u2018", ("r", "'"): "\u2019"}
_NAMED = {"ldquo": "\u201c", "rdquo": "\u201d", "lsquo": "\u2018", "rsquo": "\u2019"}
# (pattern, output): an int copies that group, "l1"/"r2" is a left/right quote
# of the kind found in group 1/2, a name is that quote.
_RULES: list[tuple[re.Pattern[str], tuple[int | str, ...]]] = [
    (re.compile(r"""("|')(?=[_*]{1,2}[^ \t\r\n\f\v])"""), ("l1",)),
    (re.compile(rf"""("|')(?={_PUNCT}(?!\.\.)\B)"""), ("r1",)),
    (re.compile(rf"""({_S}?)"'(?={_W})"""), (1, "ldquo", "lsquo")),
    (re.compile(rf"""({_S}?)'"(?={_W})"""), (1, "lsquo", "ldquo")),
    (re.compile(rf"""({_S}?)'(?=[0-9][0-9]s)"""), (1, "rsquo")),
    (re.compile(rf"""({_S})('|")(?={_W})"""), (1, "l2")),
    (re.compile(rf"""({_CLOSE})('|")"""), (1, "r2")),
    (re.compile(rf"""("|')(?={_S}|s\b|$)""", re.MULTILINE), ("r1",)),
    (re.compile(r"""(.?)'""", re.DOTALL), (1, "lsquo")),
    (re.compile(r"""(.?)\"""", re.DOTALL), (1, "ldquo")),
]
_SYMBOLS = re.compile(r"---|--|\.\.\.|\\<<|\\>>|<< | >>|<<|>>")
_SYMBOL_TEXT = {
    "---": "\u2014",
    "--": "\u2013",
    "...": "\u2026",
    "\\<<": "<<",
    "\\>>": ">>",
    "<< ": "\u00ab\u00a0",
    " >>": "\u00a0\u00bb",
    "<<": "\u00ab",
    ">>": "\u00bb",
}
# Characters another kramdown span parser claims before the quote parser sees them.
_TAKEN_BEFORE_QUOTES = "\\*_`["
_PLACEHOLDER = re.compile(STX + r"(?:wzxhzdk:)?([0-9]+)\x03")
# Stand-ins for the source markup around an inline element's content.
_MARKUP = {
    "em": ("*", "*"),
    "strong": ("**", "**"),
    "a": ("[", "]("),
    "sup": ("[^", "]"),
    "br": ("  \n", ""),
    "img": ("![]()", ""),
}
_INLINE = {"a", "abbr", "b", "br", "code", "em", "i", "img", "span", "strong", "sub", "sup"}
_SKIP = {"pre", "code", "script", "style"}


@dataclass
class _Piece:
    text: str  # what the rules see
    node: tuple[etree.Element, str] | None = None  # (element, "text"/"tail") for real text
    keep: str | None = None  # a placeholder, written back unchanged


class _Run:
    """One block's inline text as a single string with markup stand-ins."""

    def __init__(self, stash: list[str]) -> None:
        self.pieces: list[_Piece] = []
        self.stash = stash

    def add_text(self, element: etree.Element, slot: str, text: str) -> None:
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            if match.start() > position:
                self.pieces.append(_Piece(text[position : match.start()], (element, slot)))
            self.pieces.append(_Piece(self._source_of(match), (element, slot), keep=match.group(0)))
            position = match.end()
        if position < len(text) or not text:
            self.pieces.append(_Piece(text[position:], (element, slot)))

    def _source_of(self, placeholder: re.Match[str]) -> str:
        if "wzxhzdk" in placeholder.group(0):
            index = int(placeholder.group(1))
            raw = self.stash[index] if index < len(self.stash) else ""
            return raw if isinstance(raw, str) else "<x>"
        return "\\" + chr(int(placeholder.group(1)))  # a backslash escape

    def add_markup(self, text: str) -> None:
        if text:
            self.pieces.append(_Piece(text))

    def apply(self) -> None:
        source = "".join(piece.text for piece in self.pieces)
        editable = bytearray(len(source))
        offset = 0
        for piece in self.pieces:
            if piece.node is not None and piece.keep is None:
                editable[offset : offset + len(piece.text)] = b"\x01" * len(piece.text)
            offset += len(piece.text)
        output = _typeset(source, editable)
        offset = 0
        rebuilt: dict[tuple[int, str], list[str]] = {}
        targets: dict[tuple[int, str], tuple[etree.Element, str]] = {}
        for piece in self.pieces:
            end = offset + len(piece.text)
            if piece.node is not None:
                key = (id(piece.node[0]), piece.node[1])
                targets[key] = piece.node
                rebuilt.setdefault(key, []).append(
                    piece.keep if piece.keep is not None else "".join(output[offset:end])
                )
            offset = end
        for key, parts in rebuilt.items():
            element, slot = targets[key]
            setattr(element, slot, "".join(parts))


def _typeset(source: str, editable: bytearray) -> list[str]:
    """kramdown's scan: at each position the quote parser first, then the symbols."""
    output = list(source)
    length = len(source)
    position = 0
    while position < length:
        if not editable[position]:
            position += 1
            continue
        char = source[position]
        next_is_quote = (
            position + 1 < length
            and source[position + 1] in "\"'"
            and editable[position + 1]
            and char not in _TAKEN_BEFORE_QUOTES
        )
        if char in "\"'" or next_is_quote:
            position = _quote(source, position, output)
            continue
        symbol = _SYMBOLS.match(source, position)
        if symbol and all(editable[position : symbol.end()]):
            output[position] = _SYMBOL_TEXT[symbol.group(0)]
            for index in range(position + 1, symbol.end()):
                output[index] = ""
            position = symbol.end()
            continue
        position += 1
    return output


def _quote(source: str, position: int, output: list[str]) -> int:
    for pattern, parts in _RULES:
        match = pattern.match(source, position)
        if not match:
            continue
        cursor = position
        for part in parts:
            if isinstance(part, int):
                cursor += len(match.group(part))
                continue
            if part in _NAMED:
                output[cursor] = _NAMED[part]
            else:
                output[cursor] = _QUOTE_CHAR[(part[0], match.group(int(part[1])))]
            cursor += 1
        return match.end()
    return position + 1  # unreachable: the last two rules match any quote


class KramdownTypography(Treeprocessor):
    """Runs after the inline patterns and attribute lists (priority 6, like smarty)."""

    def run(self, root: etree.Element) -> None:
        self._block(root)

    def _block(self, element: etree.Element) -> None:
        stash = [raw if isinstance(raw, str) else "<x>" for raw in self.md.htmlStash.rawHtmlBlocks]
        run = _Run(stash)
        self._inline_text(run, element, "text")
        for child in element:
            if child.tag in _INLINE:
                self._inline(run, child)
                self._inline_text(run, child, "tail")
                continue
            run.apply()
            run = _Run(stash)
            if child.tag not in _SKIP:
                self._block(child)
            self._inline_text(run, child, "tail")
        run.apply()

    def _inline(self, run: _Run, element: etree.Element) -> None:
        opening, closing = _MARKUP.get(element.tag, ("<x>", "</x>"))
        if element.tag == "code" or isinstance(element.text, AtomicString):
            run.add_markup(f"`{element.text or ''}`" if element.tag == "code" else f"<{element.text or ''}>")
            return
        run.add_markup(opening)
        self._inline_text(run, element, "text")
        for child in element:
            self._inline(run, child)
            self._inline_text(run, child, "tail")
        run.add_markup(closing)

    @staticmethod
    def _inline_text(run: _Run, element: etree.Element, slot: str) -> None:
        text = getattr(element, slot)
        if text and not isinstance(text, AtomicString):
            run.add_text(element, slot, text)
