"""Counts of what a Markdown rendering built, to compare two renderers page by page.

Used on both sides of the kramdown parity test: by ``scripts/kramdown_fixtures.py``
on kramdown's HTML (committed as ``tests/fixtures/kramdown/census.json``) and by
``tests/test_kramdown_parity.py`` on Pressroom's. The same function counts both, so
markup details that differ harmlessly (kramdown's ``class="footnotes"`` against
``class="footnote"``, Pressroom's ``<figure>`` for an image with a ``#####`` caption)
are mapped to one meaning here.
"""

from __future__ import annotations

from collections import Counter

from lxml import html as lxml_html

COUNTED_TAGS = ("ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "blockquote", "p", "hr", "br")
TYPOGRAPHY = {
    "ldquo": "\u201c",
    "rdquo": "\u201d",
    "lsquo": "\u2018",
    "rsquo": "\u2019",
    "ndash": "\u2013",
    "mdash": "\u2014",
    "hellip": "\u2026",
}
KEYS = (*COUNTED_TAGS, "footnotes", "footnote_refs", *TYPOGRAPHY)

_FOOTNOTE_BLOCK = (
    "//div[contains(concat(' ', @class, ' '), ' footnotes ') or contains(concat(' ', @class, ' '), ' footnote ')]"
)


def census(fragment: str) -> dict[str, int]:
    """Element and typographic-character counts of an HTML fragment (zeros left out)."""
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    counts: Counter[str] = Counter()
    # Footnote definitions are counted as footnotes, not as the list, paragraphs
    # and rule their block is made of (Python-Markdown puts an <hr> on top).
    for block in root.xpath(_FOOTNOTE_BLOCK):
        counts["footnotes"] += len(block.xpath("./ol/li"))
        block.drop_tree()
    counts["footnote_refs"] = len(root.xpath("//sup[starts-with(@id, 'fnref')]"))
    # An image paragraph with a ##### caption under it: Pressroom's figure.
    for figure in root.xpath("//figure"):
        figure.tag = "p"
    for caption in root.xpath("//figcaption"):
        caption.tag = "h5"
    for tag in COUNTED_TAGS:
        counts[tag] = len(root.xpath(f"//{tag}"))
    for code in root.xpath("//pre | //code"):
        if code.getparent() is not None:
            code.drop_tree()  # keeps the text after it; code is never typeset
    text = root.text_content()
    for name, char in TYPOGRAPHY.items():
        counts[name] = text.count(char)
    return {key: counts[key] for key in KEYS if counts[key]}


def differences(ours: dict[str, int], theirs: dict[str, int]) -> dict[str, tuple[int, int]]:
    """key -> (ours, theirs) where the counts differ."""
    return {key: (ours.get(key, 0), theirs.get(key, 0)) for key in KEYS if ours.get(key, 0) != theirs.get(key, 0)}
