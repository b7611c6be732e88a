"""What a page says about an issue before you open it: an excerpt and its first
image (the home page, Open Graph and Twitter cards, the archive). Both come from
the web version the issue page shows, so they never disagree with it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lxml import html as lxml_html
from lxml.etree import ParserError

from app.issues.models import Issue

EXCERPT_CHARS = 240


@dataclass(frozen=True)
class Summary:
    excerpt: str
    image: str  # absolute URL, or "" when the issue has none


@lru_cache(maxsize=512)
def _summarise(web_html: str) -> Summary:
    try:
        root = lxml_html.fragment_fromstring(web_html, create_parent="div")
    except (ParserError, ValueError):
        return Summary("", "")
    text = ""
    for paragraph in root.iter("p"):
        words = " ".join(paragraph.text_content().split())
        if len(words) > 40:  # skip bylines, captions and "Hello!"
            text = words
            break
    if len(text) > EXCERPT_CHARS:
        text = text[:EXCERPT_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    image = next((str(img.get("src")) for img in root.iter("img") if str(img.get("src", "")).startswith("http")), "")
    return Summary(text, image)


def summary(issue: Issue, web_html: str) -> Summary:
    """The issue's preheader when it has one (the team wrote it for this), else
    its first real paragraph; and the first image of its web version."""
    found = _summarise(web_html)
    preheader = " ".join((issue.preheader or "").split())
    return Summary(preheader or found.excerpt, found.image)
