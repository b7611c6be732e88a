"""Subjects derived at import and preheaders derived at render time: the first real
heading or sentence, never a caption, an image or a greeting, at most 78 characters
(preheaders 140), over the whole corpus."""

from __future__ import annotations

import re

import pytest

from app.issues.jekyll import parse_jekyll_text
from app.issues.jekyll_import import derive_title, expected_fields
from app.rendering.markdown import render_markdown
from app.rendering.summary import opening_prose, shorten
from tests.conftest import CORPUS, needs_corpus

GREETING = re.compile(r"^(hello|hi|hey|dear|greetings|good morning)\b", re.IGNORECASE)
IMAGE = re.compile(r"^\s*(!\[|<img)", re.IGNORECASE)


def _corpus_docs():
    paths = (
        sorted(CORPUS.glob("ffl/published/*.md"))
        + sorted(CORPUS.glob("ffl/drafts/*/*.md"))
        + sorted(CORPUS.glob("seed/*.txt"))
    )
    return [parse_jekyll_text(path.read_bytes(), path.name) for path in paths]


def _captions(body: str) -> list[str]:
    """##### lines next to an image line (blank lines between allowed), found here
    independently of the importer."""
    lines = [line for line in body.split("\n") if line.strip()]
    found = []
    for index, line in enumerate(lines):
        near = lines[max(0, index - 1) : index] + lines[index + 1 : index + 2]
        if line.startswith("#####") and any(IMAGE.match(other) for other in near):
            found.append(re.sub(r"[\[\]*_]|\([^)]*\)", "", line.lstrip("# ")).strip())
    return [caption for caption in found if len(caption) >= 3]


@needs_corpus
def test_no_derived_subject_is_a_caption_greeting_or_empty() -> None:
    docs = _corpus_docs()
    assert len(docs) == 267
    captions_seen = 0
    for doc in docs:
        subject = str(expected_fields(doc)["subject"])
        assert subject.strip() and len(subject) <= 78, (doc.filename, subject)
        assert not GREETING.match(subject), (doc.filename, subject)
        assert "![" not in subject and "images/" not in subject, (doc.filename, subject)
        for caption in _captions(doc.body):
            captions_seen += 1
            assert caption[:20] not in subject, (doc.filename, subject, caption)
    assert captions_seen > 100  # the archive's convention is really exercised


@needs_corpus
def test_no_derived_preheader_is_a_caption_greeting_or_empty() -> None:
    for index, doc in enumerate(_corpus_docs()):
        preheader = opening_prose(render_markdown(doc.body, "https://example.com"))
        assert len(preheader) <= 140, doc.filename
        assert preheader or index >= 236, doc.filename  # every published issue has opening prose
        assert not GREETING.match(preheader), (doc.filename, preheader)
        for caption in _captions(doc.body):
            assert not preheader.startswith(caption[:20]), (doc.filename, preheader)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hello!\n\n## Real news\n\nText.", "Real news"),
        ("![](/images/a.png)\n\n##### A caption\n\n## The story", "The story"),
        (
            "##### Caption above\n![](/images/a.png)\n\nHi all, this week we look at GANs. More.",
            "This week we look at GANs.",
        ),
        (
            "## Hello!\n\nDear readers,\n\nGreetings from Brooklyn, NY!  In this issue, GANs. And more.",
            "In this issue, GANs.",
        ),
        ("```\n# not a heading\n```\n\nPlain words here.", "Plain words here."),
        ("[1]: https://example.com/\n\n* A list item first.", "A list item first."),
        ("## " + "word " * 30, shorten("word " * 30, 78)),
        ("![](/only/an/image.png)", "fallback-slug"),
    ],
)
def test_derive_title(body: str, expected: str) -> None:
    assert derive_title(body, "fallback-slug") == expected


def test_shorten_cuts_at_a_word_boundary() -> None:
    text = "The quest continues: a look at a new initiative to explore human and machine creativity"
    short = shorten(text, 78)
    assert short == "The quest continues: a look at a new initiative to explore human and machine…"
    assert len(short) <= 78 and shorten("short", 78) == "short"
    assert shorten("x" * 100, 78) == "x" * 77 + "…"
