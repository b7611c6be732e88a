"""Demo issues: a small archive written for Pressroom (``demo_sample/``, in the
Jekyll conventions the importer reads, with images it owns) and a draft with
``TODO:`` placeholders, so a clone with nothing beside it gets the whole tour.

The files carry no dates: the archive is dated weekly up to the last Wednesday
before today and the draft the next Wednesday after it, so the demo always
looks current."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from app.db import db
from app.issues.jekyll_import import import_jekyll
from app.subscribers.lists import find_list

SAMPLE = Path(__file__).resolve().parent / "demo_sample"
WEDNESDAY = 2


def sample_files(today: date) -> tuple[list[tuple[str, bytes]], tuple[str, bytes]]:
    """The archive files and the draft, each named ``YYYY-MM-DD-audience.md``."""
    last = today - timedelta(days=(today.weekday() - WEDNESDAY) % 7 or 7)
    archive = sorted(SAMPLE.glob("[0-9][0-9]-*.md"))
    named = []
    for age, path in enumerate(reversed(archive)):
        audience = path.stem.split("-", 1)[1]
        named.append((f"{last - timedelta(weeks=age)}-{audience}.md", path.read_bytes()))
    draft = SAMPLE / "draft-public.md"
    upcoming = today + timedelta(days=(WEDNESDAY - today.weekday()) % 7 or 7)
    return sorted(named), (f"{upcoming}-public.md", draft.read_bytes())


def load_demo_issues(today: date | None = None) -> list[str]:
    archive, draft = sample_files(today or date.today())
    images = SAMPLE / "images"
    report = import_jekyll(archive, images_dir=images, status="sent")
    lines = [f"issues: {report.imported} archive issues imported ({len(report.images)} images)"]
    # The archive's "public" audience is what its public website shows.
    public = find_list("public")
    if public is not None and not public.public:
        public.public = True
        public.display_name = public.display_name or "Research notes"
        public.description = public.description or "Longer research write-ups, about once a month."
        db.session.commit()
        lines.append("lists: 'public' marked public, so its issues are in /issues/ and /feed.xml")
    drafted = import_jekyll([draft], status="draft", images_dir=images)
    lines.append(f"issues: next week's draft imported ({drafted.imported} new, with its TODO placeholders)")
    return lines
