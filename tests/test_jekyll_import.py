"""Jekyll import/export against the real archive (imported once, in one test, to stay fast)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import delete, func, select

from app.db import db
from app.events.models import Event
from app.issues.jekyll_export import export_jekyll
from app.issues.jekyll_import import import_paths
from app.issues.models import Issue, Revision, issue_lists
from app.issues.service import create_issue
from app.subscribers.models import MailingList
from tests.conftest import CORPUS, needs_corpus

PUBLISHED = CORPUS / "ffl/published"
# The six files whose front matter copies another file's slug.
CLASHES = {
    "2017-09-12-insight.md",
    "2017-09-19-insight.md",
    "2017-09-19-subscribers.md",
    "2018-06-27-subscribers.md",
    "2018-07-10-subscribers.md",
    "2018-11-13-client.md",
}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _wipe() -> None:
    for statement in (delete(Revision), delete(issue_lists), delete(Issue), delete(MailingList)):
        db.session.execute(statement)
    db.session.commit()


@needs_corpus
def test_archive_import_reimport_and_round_trip(app, tmp_path: Path) -> None:
    report = import_paths([PUBLISHED])
    assert (report.imported, report.errors) == (236, [])
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 236
    clash_warnings = [w for w in report.warnings if "also claimed by" in w]
    assert {w.split(":")[0] for w in clash_warnings} == CLASHES
    assert all("keeps it" in w for w in clash_warnings)
    by_file = {i.source_filename: i for i in db.session.scalars(select(Issue))}
    assert len({i.slug for i in by_file.values()}) == 236
    assert by_file["2017-09-12-insight.md"].slug == "2017-09-12-insight"
    assert by_file["2017-09-12-subscribers.md"].slug == "2017-09-12-subscribers"
    assert by_file["2018-11-13-client.md"].slug == "2018-11-13-client"
    unpadded = by_file["2019-12-4-public.md"]
    assert unpadded.issue_date == date(2019, 12, 4) and [m.name for m in unpadded.lists] == ["public"]
    assert [m.name for m in by_file["2018-02-14-client.md"].lists] == ["client"]
    assert by_file["2019-11-14.md"].lists == [] and by_file["2019-11-14.md"].slug == "2019-11-14"
    for name, issue in by_file.items():  # date and audience straight from the file name
        year, month, day, *rest = name.removesuffix(".md").split("-", 3)
        assert issue.issue_date == date(int(year), int(month), int(day)), name
        assert [m.name for m in issue.lists] == rest, name
    assert by_file["2020-02-19-client.md"].title.startswith("Building Blip")
    assert "{{ site.github.url }}" in by_file["2020-02-19-client.md"].body  # source kept; rendering resolves
    assert {m.name for m in db.session.scalars(select(MailingList))} >= {"client", "public", "subscribers"}
    # The archive keeps its content: v0.1 gave 129 of these an "Upcoming events" section built
    # from other issues' bullets. Now none is created and no sent issue adds the section.
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
    assert {(i.status, i.auto_events) for i in by_file.values()} == {("sent", False)}

    again = import_paths([PUBLISHED])
    assert (again.imported, again.updated, again.unchanged, again.errors) == (0, 0, 236, [])
    assert db.session.scalar(select(func.count()).select_from(Revision)) == 236

    export_jekyll(tmp_path / "one")
    assert _files(tmp_path / "one") == _files(PUBLISHED)  # an untouched archive comes back as it was

    issue = by_file["2018-02-14-client.md"]
    issue.title = "Edited title"
    db.session.commit()
    fresh = create_issue(
        "Made in the admin",
        user=None,
        preheader="Read me",
        body="Hi: “quotes”\n",
        issue_date=date(2026, 1, 5),
        lists=list(db.session.scalars(select(MailingList)))[:2],
    )
    expected = ("Made in the admin", "Read me", fresh.body, [m.name for m in fresh.lists])
    export_jekyll(tmp_path / "two")
    generated = _files(tmp_path / "two")["2026-01-05-made-in-the-admin.md"].decode()
    assert generated.startswith("---\nlayout: newsletter\nslug: made-in-the-admin\n")
    assert 'preheader: "Read me"' in generated and "lists: [" in generated
    _wipe()
    assert import_paths([tmp_path / "two"]).errors == []
    export_jekyll(tmp_path / "three")
    assert _files(tmp_path / "two") == _files(tmp_path / "three")
    assert b'title: "Edited title"' in _files(tmp_path / "three")["2018-02-14-client.md"]
    again = db.session.scalar(select(Issue).where(Issue.slug == "made-in-the-admin"))
    assert (again.title, again.preheader, again.body, [m.name for m in again.lists]) == expected
    assert len(expected[3]) == 2


@needs_corpus
def test_every_drafts_folder_imports(app) -> None:
    folders = sorted(p for p in (CORPUS / "ffl/drafts").iterdir() if p.is_dir())
    assert len(folders) == 30
    for folder in folders:
        report = import_paths([folder])
        assert report.errors == [] and report.imported + report.updated >= 1, folder.name
    drafts = list(db.session.scalars(select(Issue)))
    # Every real draft still has placeholders. 394cd6d's file is byte for byte the
    # published 2019-01-30-client.md: its "Aspirational TODOS" heading is prose, so
    # it imports as the sent issue it is.
    finished = {i.source_filename for i in drafts if i.status == "sent"}
    assert drafts and finished == {"2019-01-30-client.md"}
    assert (CORPUS / "ffl/drafts/394cd6d/2019-01-30-client.md").read_bytes() == (
        CORPUS / "ffl/published/2019-01-30-client.md"
    ).read_bytes()
    assert all(i.status == "draft" for i in drafts if i.source_filename not in finished)
    # All folders at once: one file name seen in several commits is one issue, its versions revisions.
    again = import_paths(folders)
    assert (again.imported, again.updated, again.errors) == (0, 0, [])
    assert again.unchanged == len(drafts) < 30


def test_cli_reports_problems_and_exits_1_only_for_unreadable(app, runner, tmp_path: Path) -> None:
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "2021-03-04-public.md").write_text("---\ntitle: [oops\n---\n# Hi\n")
    result = runner.invoke(args=["import-jekyll", str(folder)])
    assert result.exit_code == 0, result.output
    assert "2021-03-04-public.md:2:" in result.output
    assert result.output.strip().endswith("imported 1, updated 0, unchanged 0, warnings 1, errors 0")
    (folder / "broken.md").mkdir()  # a "file" that cannot be read
    result = runner.invoke(args=["import-jekyll", str(folder)])
    assert result.exit_code == 1 and "broken.md" in result.output and "unchanged 1" in result.output
    out = tmp_path / "out"
    result = runner.invoke(args=["export-jekyll", str(out)])
    assert result.exit_code == 0 and (out / "2021-03-04-public.md").read_text().endswith("# Hi\n")


@needs_corpus
def test_images_go_to_the_media_library_and_missing_ones_are_named(app, tmp_path: Path) -> None:
    from app.media.models import MediaItem

    images = sorted((CORPUS / "ffl/images").rglob("*"))
    image = next(p for p in images if p.suffix.lower() in (".png", ".jpg"))
    key = "images/" + image.relative_to(CORPUS / "ffl/images").as_posix()
    post = tmp_path / "2018-09-12-client.md"
    post.write_text(
        f"---\nlayout: newsletter\n---\n# Pics\n\n![a]({{{{ site.github.url }}}}/{key})\n"
        "![b]({{site.github.url}}/images/nowhere/missing.png)\n"
    )
    report = import_paths([post], images_dir=CORPUS / "ffl/images")
    assert report.errors == [] and report.images == {key}
    assert report.warnings == [
        f"2018-09-12-client.md:7: image images/nowhere/missing.png not found in {CORPUS / 'ffl/images'}"
    ]
    assert db.session.scalar(select(MediaItem.path).where(MediaItem.path == key)) == key
