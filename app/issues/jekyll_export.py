"""Write issues back as Jekyll newsletter files (``pressroom export-jekyll OUTDIR``).

An imported issue is written with its original file name, front matter text and body,
so an untouched archive comes back byte for byte. Only what differs from what an import
of that file would derive (an edited title, changed lists, a new slug...) is added to
the front matter, so export -> import -> export is stable.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import select

from app.db import db
from app.issues.jekyll import parse_jekyll_text
from app.issues.jekyll_import import expected_fields
from app.issues.models import Issue
from app.subscribers.lists import slugify

__all__ = ["export_filename", "export_issue", "export_jekyll"]


def export_filename(issue: Issue) -> str:
    if issue.source_filename:
        return issue.source_filename
    if issue.issue_date and not issue.slug.startswith(issue.issue_date.isoformat()):
        return f"{issue.issue_date.isoformat()}-{issue.slug}.md"
    return f"{issue.slug}.md"


def _set_key(front_matter: str, key: str, value: str) -> str:
    line = f"{key}: {value}\n"
    pattern = re.compile(rf"^{re.escape(key)}:[^\n]*\n", re.MULTILINE)
    if pattern.search(front_matter):
        return pattern.sub(lambda _: line, front_matter, count=1)
    return front_matter + line


def _compose(front_matter: str | None, body: str) -> str:
    return body if front_matter is None else f"---\n{front_matter}---\n{body}"


def export_issue(issue: Issue, filename: str | None = None) -> tuple[str, bytes]:
    """Return (file name, file content) for one issue."""
    filename = filename or export_filename(issue)
    front_matter = issue.front_matter_text
    if front_matter is None and not issue.source_filename:
        front_matter = "layout: newsletter\n"
    doc = parse_jekyll_text(_compose(front_matter, issue.body or ""), filename)
    wanted = expected_fields(doc)
    overrides: dict[str, str] = {}
    generated = front_matter is not None and not issue.source_filename
    if issue.slug not in (doc.slug, doc.filename_slug) or generated:
        overrides["slug"] = issue.slug
    for name in ("title", "subject", "preheader"):
        if (getattr(issue, name) or "") != wanted[name]:
            overrides[name] = json.dumps(getattr(issue, name) or "", ensure_ascii=False)
    list_names = [m.name for m in issue.lists]
    if {slugify(n) for n in list_names} != {slugify(str(n)) for n in wanted["lists"]}:  # type: ignore[attr-defined]
        overrides["lists"] = json.dumps(list_names, ensure_ascii=False)
    if overrides:
        front_matter = front_matter or ""
        for key, value in overrides.items():
            front_matter = _set_key(front_matter, key, value)
    return filename, _compose(front_matter, issue.body or "").encode("utf-8")


def export_jekyll(outdir: Path) -> list[str]:
    """Write every issue to ``outdir``; returns the file names written."""
    outdir.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    used: set[str] = set()
    for issue in db.session.scalars(select(Issue).order_by(Issue.issue_date, Issue.id)):
        name = export_filename(issue)
        if name in used:  # two issues from one file name (e.g. renamed drafts): keep both
            stem, dot, ext = name.rpartition(".")
            name = f"{stem}-{issue.id}{dot}{ext}"
        used.add(name)
        filename, content = export_issue(issue, name)
        (outdir / filename).write_bytes(content)
        written.append(filename)
    return written
