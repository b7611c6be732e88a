"""Render the corpus with kramdown once and commit what it built, for the parity test.

    apt-get install -y ruby-kramdown ruby-kramdown-parser-gfm    # Debian bookworm
    .venv/bin/python scripts/kramdown_fixtures.py                 # writes tests/fixtures/kramdown/census.json

Measured with Debian bookworm's ruby-kramdown 2.4.0 and ruby-kramdown-parser-gfm
1.1.0 (Ruby 3.1). The archive itself was built by GitHub Pages (its Gemfile.lock
pins github-pages 172: Jekyll 3.6.2, kramdown 1.14; GitHub's servers ran up to
1.17 until 2020); the GFM parser gem is that parser moved out of kramdown 2.0, and
the block and span rules counted here did not change between them.

Options: what Jekyll 3 sets by default plus what GitHub Pages forces (the
archive's _config.yml sets none): input GFM, hard_wrap false, gfm_quirks
paragraph_end, auto_ids, entity_output as_char, smart_quotes
lsquo,rsquo,ldquo,rdquo, footnote_nr 1, toc_levels 1..6, math_engine mathjax.
GitHub Pages highlighted code with rouge; that only wraps code blocks in more
markup, so no highlighter is used here (no <pre> count changes).

Input: each file's body as Pressroom stores it (front matter removed by
app.issues.jekyll), with ``{{ site.github.url }}`` replaced as Jekyll's Liquid
pass would have done. The archive uses no other Liquid. Nothing else is changed:
the fixture is kramdown's reading, not Pressroom's, so the test shows where they
differ. Ruby is needed only here, never by the test.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.issues.jekyll import parse_jekyll_text  # noqa: E402
from app.rendering.markdown import substitute_site_variables  # noqa: E402
from tests.support.markdown_census import census  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
OUTPUT = REPO / "tests" / "fixtures" / "kramdown" / "census.json"
BASE_URL = "https://blog.fastforwardlabs.com"
OPTIONS = {
    "input": "GFM",
    "hard_wrap": False,
    "gfm_quirks": ["paragraph_end"],
    "auto_ids": True,
    "entity_output": "as_char",
    "smart_quotes": "lsquo,rsquo,ldquo,rdquo",
    "footnote_nr": 1,
    "toc_levels": "1..6",
    "math_engine": "mathjax",
    "syntax_highlighter": None,
}

RUBY = r"""
require "json"
require "kramdown"
require "kramdown-parser-gfm"
options = {input: "GFM", hard_wrap: false, gfm_quirks: [:paragraph_end], auto_ids: true,
           entity_output: :as_char, smart_quotes: %w[lsquo rsquo ldquo rdquo], footnote_nr: 1,
           toc_levels: (1..6).to_a, math_engine: :mathjax, syntax_highlighter: nil, show_warnings: false}
pages = JSON.parse($stdin.read)
html = pages.transform_values { |text| Kramdown::Document.new(text, options).to_html }
puts JSON.generate({"versions" => {"kramdown" => Kramdown::VERSION,
                                    "kramdown-parser-gfm" => Kramdown::Parser::GFM::VERSION,
                                    "ruby" => RUBY_VERSION},
                    "html" => html})
"""


def corpus_files() -> list[Path]:
    """Every Markdown page of the corpus: the archive, the drafts and the seed."""
    return (
        sorted(CORPUS.glob("ffl/published/*.md"))
        + sorted(CORPUS.glob("ffl/drafts/*/*.md"))
        + sorted(CORPUS.glob("seed/*.txt"))
    )


def page_key(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def page_body(path: Path) -> str:
    return parse_jekyll_text(path.read_bytes(), path.name).body


def body_digest(body: str) -> str:
    """Short hash of a page's input, so the test notices a corpus file that changed."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def main() -> None:
    pages = {page_key(path): substitute_site_variables(page_body(path), BASE_URL) for path in corpus_files()}
    result = subprocess.run(["ruby", "-e", RUBY], input=json.dumps(pages), capture_output=True, text=True, check=True)
    rendered = json.loads(result.stdout)
    about = {
        "generator": "scripts/kramdown_fixtures.py",
        **rendered["versions"],
        "options": OPTIONS,
        "input": "body as stored by app.issues.jekyll, site variables replaced with " + BASE_URL,
        "counted": "tests/support/markdown_census.py",
    }
    entries = [
        f"  {json.dumps(key)}: {json.dumps(census(html), sort_keys=True)}"
        for key, html in sorted(rendered["html"].items())
    ]
    digests = [f"  {json.dumps(path)}: {json.dumps(body_digest(page_body(CORPUS / path)))}" for path in sorted(pages)]
    lines = [
        "{",
        f' "about": {json.dumps(about, sort_keys=True)},',
        ' "inputs": {',
        ",\n".join(digests),
        " },",
        ' "pages": {',
        ",\n".join(entries),
        " }",
        "}",
    ]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(entries)} pages -> {OUTPUT.relative_to(REPO)} (kramdown {rendered['versions']['kramdown']})")


if __name__ == "__main__":
    main()
