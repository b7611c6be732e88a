"""``pressroom demo`` in a clone with nothing beside it: the repository's own
sample archive, images and a draft with placeholders (no ../shared corpus)."""

from __future__ import annotations

from datetime import date, timedelta
from html.parser import HTMLParser

from sqlalchemy import select

from app.db import db
from app.issues.demo import sample_files
from app.issues.models import Issue
from app.issues.rendering import preflight, web_html


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")


def test_demo_loads_its_own_archive_and_a_draft_with_placeholders(app, runner, monkeypatch) -> None:
    monkeypatch.setattr("app.issues.demo.date", _Today)
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "corpus" not in result.output
    assert "issues: 4 archive issues imported (3 images)" in result.output
    assert "Log in at" in result.output and "admin@example.com" in result.output

    imported = select(Issue).where(Issue.source_filename.is_not(None))  # not the demo report's issue
    issues = db.session.scalars(imported.order_by(Issue.issue_date)).all()
    assert [(i.slug, i.status) for i in issues] == [
        ("2026-11-04-public", "sent"),
        ("2026-11-11-public", "sent"),
        ("2026-11-18-client", "sent"),
        ("2026-11-25-public", "sent"),
        ("2026-12-09-public", "draft"),
    ]
    draft = issues[-1]
    assert draft.title == "Evaluating summaries without a judge"
    problems = {(p.level, p.line, p.message) for p in preflight(draft)}
    assert ("error", 2, "unfinished placeholder 'TODO'") in problems  # the body starts after a blank line
    assert ("error", 20, "unfinished placeholder 'TODO'") in problems
    assert any("tidepool-screenshot.png is not in the media library" in m for _, _, m in problems)

    # The public archive lists the public issues; their images come from the media library.
    client = app.test_client()
    archive = client.get("/issues/").get_data(as_text=True)
    assert "Retrieval you can trust" in archive and "Small models, big wins" in archive
    assert "Notes for our clients" not in archive  # sent to the client list only
    page = Images()
    page.feed(web_html(issues[3]))
    assert page.sources and all("/media/images/demo/" in src for src in page.sources)
    for src in page.sources:
        image = client.get(src[src.index("/media/") :])
        assert image.status_code == 200 and image.mimetype == "image/png" and len(image.data) > 1000

    again = runner.invoke(args=["demo"])
    assert "already loaded" in again.output
    assert len(db.session.scalars(imported).all()) == 5


def test_sample_dates_follow_today() -> None:
    today = date(2027, 3, 3)  # a Wednesday: the last issue went out a week ago
    archive, draft = sample_files(today)
    assert [name for name, _ in archive][-1] == "2027-02-24-public.md"
    assert draft[0] == "2027-03-10-public.md"  # next week's
    thursday = today + timedelta(days=1)
    assert sample_files(thursday)[0][-1][0] == "2027-03-03-public.md"
    assert sample_files(thursday)[1][0] == "2027-03-10-public.md"


class _Today(date):
    @classmethod
    def today(cls) -> _Today:
        return cls(2026, 12, 2)
