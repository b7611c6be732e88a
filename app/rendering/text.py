"""Plain-text part from the sanitised HTML of the same Markdown source.

Headings are marked (``# Title`` style), links become numbered references
listed at the end, images become their alt text, footnotes stay (they are an
ordered list in the HTML). Working from the HTML rather than the Markdown
means every Markdown construct is already resolved once, by one parser."""

from __future__ import annotations

import re
import textwrap
from html.parser import HTMLParser

WIDTH = 76
_BLOCKS = {
    "p",
    "div",
    "figure",
    "figcaption",
    "table",
    "tr",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "dl",
    "dt",
    "dd",
}


_START = re.compile(r"[0-9]{1,9}")


def _list_start(value: str) -> int:
    """An ``<ol start>`` value: ASCII digits only ("²".isdigit() is True but
    int() refuses it), and no 40-digit counters."""
    return int(value) if _START.fullmatch(value.strip()) else 1


class _TextBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # (text, number of the outermost open list): one list's lines stay together
        self.blocks: list[tuple[str, int | None]] = []
        self.top_lists = 0
        self.current: list[str] = []
        self.links: list[str] = []
        self.link_index: dict[str, int] = {}
        self.href_stack: list[str | None] = []
        self.lists: list[dict[str, int | bool]] = []  # open lists: ordered?, counter, bullet pending
        self.footnotes = 0  # depth inside the footnotes div
        self.skip = 0  # depth inside footnote back-links (the "↩" arrows)
        self.prefix_stack: list[str] = []
        self.pre = 0
        self.heading: int | None = None
        self.skip_close = False

    # -- helpers -----------------------------------------------------------
    def _flush(self) -> None:
        text = "".join(self.current)
        self.current = []
        body = text.strip("\n") if self.pre else re.sub(r"\s+", " ", text).strip()
        if not body:
            return
        quote = "".join(self.prefix_stack)
        if self.pre:
            lines = ["    " + line for line in body.split("\n")]
            self.blocks.append(("\n".join(quote + line for line in lines), self._list_key()))
            return
        if self.heading is not None:
            body = "#" * self.heading + " " + body
        indent = "  " * max(len(self.lists) - 1, 0)
        bullet = ""
        if self.lists and self.lists[-1]["pending"]:
            state = self.lists[-1]
            state["pending"] = False
            if self.footnotes:
                bullet = f"[^{state['n']}] "
            else:
                bullet = f"{state['n']}. " if state["ordered"] else "* "
        first = quote + indent + bullet
        rest = quote + indent + " " * len(bullet)
        wrapped = textwrap.fill(
            body, WIDTH, initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False
        )
        self.blocks.append((wrapped, self._list_key()))

    def _list_key(self) -> int | None:
        return self.top_lists if self.lists else None

    def _link_number(self, href: str) -> int:
        if href not in self.link_index:
            self.links.append(href)
            self.link_index[href] = len(self.links)
        return self.link_index[href]

    # -- parser callbacks --------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag in _BLOCKS:
            self._flush()
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.heading = int(tag[1])
        elif tag == "pre":
            self.pre += 1
        elif tag == "blockquote":
            self.prefix_stack.append("> ")
        elif tag in {"ul", "ol"}:
            start = attr.get("start") or "1"
            if not self.lists:
                self.top_lists += 1
            self.lists.append({"ordered": tag == "ol", "pending": False, "n": (_list_start(start)) - 1})
        elif tag == "li" and self.lists:
            self.lists[-1]["n"] = int(self.lists[-1]["n"]) + 1
            self.lists[-1]["pending"] = True
        elif tag == "div" and (self.footnotes or "footnote" in (attr.get("class") or "").split()):
            self.footnotes += 1
        elif tag == "hr":
            self.blocks.append(("-" * 20, None))
        elif tag == "br":
            self.current.append("\n" if self.pre else " ")
        elif tag == "img":
            alt = (attr.get("alt") or "").strip()
            if alt:
                self.current.append(f"[{alt}]")
        elif tag == "a":
            classes = (attr.get("class") or "").split()
            if "footnote-backref" in classes or self.skip:
                self.skip += 1
                self.href_stack.append(None)
            elif "footnote-ref" in classes:
                self.href_stack.append(None)
                self.current.append("[^")
                self.skip_close = True
            else:
                self.href_stack.append(attr.get("href"))
        elif tag in {"td", "th"}:
            self.current.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.href_stack:
            href = self.href_stack.pop()
            if self.skip:
                self.skip -= 1
                return
            if getattr(self, "skip_close", False):
                self.current.append("]")
                self.skip_close = False
                return
            if href and not href.startswith("#") and not href.startswith("mailto:"):
                self.current.append(f" [{self._link_number(href)}]")
            elif href and href.startswith("mailto:"):
                self.current.append(f" <{href.removeprefix('mailto:')}>")
            return
        if tag in _BLOCKS:
            self._flush()
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.heading = None
        elif tag == "pre":
            self.pre -= 1
        elif tag == "div" and self.footnotes:
            self.footnotes -= 1
        elif tag == "blockquote" and self.prefix_stack:
            self.prefix_stack.pop()
        elif tag in {"ul", "ol"} and self.lists:
            self.lists.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)


def html_to_text(html: str) -> tuple[str, list[str]]:
    """Return the text and the list of link URLs (reference n is links[n-1])."""
    builder = _TextBuilder()
    builder.feed(html)
    builder.close()
    builder._flush()
    out: list[str] = []
    previous: int | None = None
    for text, list_key in builder.blocks:
        if out:
            out.append("\n" if list_key is not None and list_key == previous else "\n\n")
        out.append(text)
        previous = list_key
    return "".join(out), builder.links
