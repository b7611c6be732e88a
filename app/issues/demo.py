"""Demo issues: the latest slice of the real archive (as sent issues, with their
images) and the real seed draft with its TODO placeholders, so the editor has
something to show."""

from __future__ import annotations

from flask import current_app

from app.db import db
from app.issues.jekyll_import import import_jekyll
from app.subscribers.lists import find_list

ARCHIVE_SLICE = 12


def load_demo_issues() -> list[str]:
    from pathlib import Path

    corpus = Path(current_app.root_path).parent.parent / "shared" / "corpus"
    published = corpus / "ffl" / "published"
    if not published.is_dir():
        return ["issues: corpus not found; no demo issues"]
    files = sorted(published.glob("*.md"))[-ARCHIVE_SLICE:]
    images = corpus / "ffl" / "images"
    report = import_jekyll([(p.name, p) for p in files], images_dir=images if images.is_dir() else None)
    lines = [f"issues: {report.imported} archive issues imported ({len(report.images)} images)"]
    # The archive's "public" audience is what its public website showed.
    public = find_list("public")
    if public is not None and not public.public:
        public.public = True
        db.session.commit()
        lines.append("lists: 'public' marked public, so its issues are in /issues/ and /feed.xml")
    seed = sorted((corpus / "seed").glob("*.txt"))
    if seed:
        # The seed is a real draft of 2018-09-12-client.md, kept as a draft of its own.
        draft = import_jekyll(
            [("2018-09-12-client.md", seed[0].read_bytes())],
            status="draft",
            images_dir=images if images.is_dir() else None,
        )
        lines.append(f"issues: seed draft imported ({draft.imported} new, with its TODO placeholders)")
    return lines
