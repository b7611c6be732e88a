"""Helpers for the rendering tests: corpus files as unsaved Issues, HTML checks."""

from __future__ import annotations

from pathlib import Path

from lxml import html as lxml_html

from app.issues.models import Issue
from tests.conftest import CORPUS

PUBLISHED = CORPUS / "ffl" / "published"
DRAFTS = CORPUS / "ffl" / "drafts"
SEED = CORPUS / "seed"


def split_front_matter(text: str) -> str:
    """The body of a Jekyll file (independent of the app's reader)."""
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            return text[end + 4 :].lstrip("\n")
    return text


def corpus_issue(path: Path, **fields: object) -> Issue:
    body = split_front_matter(path.read_text(encoding="utf-8"))
    values = {
        "slug": path.stem,
        "subject": f"Newsletter {path.stem}",
        "preheader": "",
        "body": body,
        "excluded_event_ids": [],
    }
    values.update(fields)
    return Issue(**values)


def make_issue(body: str, **fields: object) -> Issue:
    values = {
        "slug": "test-issue",
        "subject": "A subject",
        "preheader": "A preheader",
        "body": body,
        "excluded_event_ids": [],
    }
    values.update(fields)
    return Issue(**values)


def parse(document: str):
    return lxml_html.document_fromstring(document)


def render(issue: Issue, **options: bool):
    """``issue`` rendered with the app's context (settings, events, media library)."""
    from app.issues.rendering import render as render_with_context

    return render_with_context(issue, **options)


def preflight(issue: Issue):
    from app.issues.rendering import preflight as run

    return run(issue)
