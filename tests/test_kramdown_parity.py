"""The archive renders the way kramdown (GitHub Pages' Jekyll) rendered it.

Corpus-wide: for every page, the lists, items, headings by level, code blocks,
tables, quotes, paragraphs, rules, line breaks, footnotes and typographic
characters Pressroom builds are counted and compared with the counts of kramdown's
rendering of the same body, made once by ``scripts/kramdown_fixtures.py`` (no Ruby
needed here). Then the dialect rules one by one, each expectation being what
kramdown 2.4 (GFM input, GitHub Pages' options) printed for that input.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from app.issues.jekyll import parse_jekyll_text
from app.rendering.markdown import clean_source, to_html
from app.rendering.sanitize import sanitize
from tests.conftest import CORPUS, needs_corpus
from tests.support.markdown_census import census, differences

FIXTURE = Path(__file__).parent / "fixtures" / "kramdown" / "census.json"
BASE = "https://blog.fastforwardlabs.com"


# Pages Pressroom reads differently on purpose, each checked by hand, with the
# counts allowed to differ. Both are drafts; every published page matches.
DELIBERATE = {
    "ffl/drafts/26639e5/2018-08-08-client.md": (
        "this draft lost the '---' that opens its front matter, so its body starts with the front "
        "matter lines and their closing '---': kramdown reads the three lines as one paragraph ending "
        "in an em dash, Pressroom's rule that a '---' line always separates sections makes it a rule",
        {"hr", "mdash"},
    ),
    "ffl/drafts/316976e/2019-12-4-public.md": (
        "'---' directly under 'TODO: ADD HOLIDAY INTRO' underlines a setext heading for kramdown (an "
        "h2, one paragraph fewer); in Pressroom a '---' line is always a section rule, as the "
        "published version of this issue has it",
        {"h2", "hr", "p"},
    ),
}


def _corpus_pages() -> list[str]:
    files = (
        sorted(CORPUS.glob("ffl/published/*.md"))
        + sorted(CORPUS.glob("ffl/drafts/*/*.md"))
        + sorted(CORPUS.glob("seed/*.txt"))
    )
    return [path.relative_to(CORPUS).as_posix() for path in files]


def _body(key: str) -> str:
    path = CORPUS / key
    return parse_jekyll_text(path.read_bytes(), path.name).body


@needs_corpus
def test_every_page_counts_what_kramdown_built() -> None:
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert sorted(fixture["pages"]) == sorted(_corpus_pages())  # the fixture covers the whole corpus
    assert sum(key.startswith("ffl/published/") for key in fixture["pages"]) == 236
    mismatched = {}
    for key, theirs in fixture["pages"].items():
        body = _body(key)
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
        assert digest == fixture["inputs"][key], f"{key} changed: run scripts/kramdown_fixtures.py again"
        found = differences(census(_html(body)), theirs)
        if key in DELIBERATE:
            # Still different, and only in the way the reason says.
            assert found and set(found) <= DELIBERATE[key][1], (key, found)
        elif found:
            mismatched[key] = found
    assert mismatched == {}


@needs_corpus
def test_archive_lists_have_no_literal_markers() -> None:
    """What readers saw before: list items run into a paragraph with a literal "* "."""
    for key in _corpus_pages():
        if key.startswith("ffl/published/"):
            html = _html(_body(key))
            assert not re.search(r"<p>[^<]*\n\* ", html), key


def _html(source: str) -> str:
    """The dialect's output (sanitised, before links and images are resolved)."""
    return sanitize(to_html(clean_source(source, BASE)))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # A list right under a paragraph line (GFM paragraph_end).
        ("Stages:\n* one\n* two", "<p>Stages:</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("Stages:\n1. one\n2. two", "<p>Stages:</p>\n<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
        # Nesting by the item's content column, not by four spaces.
        ("* a\n  * b\n* c", "<ul>\n<li>a<ul>\n<li>b</li>\n</ul>\n</li>\n<li>c</li>\n</ul>"),
        ("1. a\n   * b\n2. c", "<ol>\n<li>a<ul>\n<li>b</li>\n</ul>\n</li>\n<li>c</li>\n</ol>"),
        (" * a\n * b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        # A line that is not indented continues the item (lazily).
        ("* a\nlazy\n* b", "<ul>\n<li>a\nlazy</li>\n<li>b</li>\n</ul>"),
        # Tight and loose items, item by item.
        ("* a\n\n* b", "<ul>\n<li>\n<p>a</p>\n</li>\n<li>\n<p>b</p>\n</li>\n</ul>"),
        ("* a\n* b\n\n* c", "<ul>\n<li>a</li>\n<li>\n<p>b</p>\n</li>\n<li>c</li>\n</ul>"),
        ("* a\n\n  para\n\n* b", "<ul>\n<li>\n<p>a</p>\n<p>para</p>\n</li>\n<li>\n<p>b</p>\n</li>\n</ul>"),
        # A heading under an item belongs to it; an image after it too.
        (
            "Steps:\n1. **One**: text\n##### Caption\n![](/i.png)\n2. Two",
            '<p>Steps:</p>\n<ol>\n<li><strong>One</strong>: text<h5>Caption</h5>\n<p><img alt="" '
            'src="/i.png"></p>\n</li>\n<li>Two</li>\n</ol>',
        ),
        ("* * *", "<hr>"),
        ("Text\n***\nmore", "<p>Text\n***\nmore</p>"),
        ("##TODO: x\n# C#\n# Title #", "<p>##TODO: x</p>\n<h1>C#</h1>\n<h1>Title</h1>"),
        ("> a\n\n> b", "<blockquote>\n<p>a</p>\n</blockquote>\n<blockquote>\n<p>b</p>\n</blockquote>"),
        ("line\\\nnext", "<p>line<br>\nnext</p>"),
        ("* a\n\n```\ncode\n```", "<ul>\n<li>a</li>\n</ul>\n<pre><code>code\n</code></pre>"),
        (
            "1. Install:\n\n   ```\n   pip x\n   ```\n2. Run",
            "<ol>\n<li>\n<p>Install:</p>\n<pre><code>pip x\n</code></pre>\n</li>\n<li>\n<p>Run</p>\n</li>\n</ol>",
        ),
    ],
)
def test_kramdown_block_rules(source: str, expected: str) -> None:
    assert _html(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("\"[link](x)\" and 'quoted' in the '90s....", '<p>“<a href="x">link</a>” and ‘quoted’ in the ’90s….</p>'),
        ("a -- b --- c << d >> `x -- y`", "<p>a – b — c «&nbsp;d&nbsp;» <code>x -- y</code></p>"),
        ('She said "*really*" and "it\'s"', "<p>She said “<em>really</em>” and “it’s”</p>"),
        ('"é" l"é"', "<p>“é” l”é”</p>"),
        ('A \\"literal\\" quote', '<p>A "literal" quote</p>'),
        ('```\n"code" -- here\n```', '<pre><code>"code" -- here\n</code></pre>'),
        ("a \\| b \\: c \\~", "<p>a | b : c ~</p>"),
    ],
)
def test_kramdown_typography(source: str, expected: str) -> None:
    assert _html(source) == expected


def test_attribute_lists_keep_straight_quotes() -> None:
    assert 'width="200"' in _html('![a](/i.png){: width="200"}')


def test_zero_width_start_keeps_the_line_text() -> None:
    """kramdown read a line starting with a zero-width space as text, even when the
    indentation after it was followed by "- "; Pressroom drops both but keeps it text."""
    html = _html("> quote\n\n\u200b\t\t\t\t- James Fowler, *Connected*")
    assert "<p>- James Fowler, <em>Connected</em></p>" in html and "<li>" not in html


@pytest.mark.parametrize(
    "source",
    [
        "* " * 4000 + "a",  # 4000 nested lists in kramdown's reading
        "* + " * 2000 + "a",
        "> " * 3000 + "a",
        "[" * 8192,
        "![" * 4096,
        "[a](" * 2048,
        "<" * 8192,
        "*a" * 4000,
        "a" * 61440,
    ],
)
def test_pathological_input_renders(source: str) -> None:
    """No recursion error (a 500 for the editor preview), and text survives."""
    html = _html(source)  # its speed is measured in bench/markdown_input.py, not asserted here
    assert html.startswith("<") and source.strip("*+>[!(<")[-1:] in html
