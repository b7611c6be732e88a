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


_ARCHIVE_EMAILS: dict[str, str] = {}


def archive_emails() -> dict[str, str]:
    """The email HTML of the 236 published issues and the seed, by file stem,
    rendered once per test run (inside the first caller's app, with the
    default settings every test app has): the corpus-wide checks share it."""
    if not _ARCHIVE_EMAILS:
        paths = sorted(PUBLISHED.glob("*.md")) + [SEED / "000_ee80896a50666d2e.txt"]
        _ARCHIVE_EMAILS.update({path.stem: render(corpus_issue(path)).email_html for path in paths})
    return dict(_ARCHIVE_EMAILS)
