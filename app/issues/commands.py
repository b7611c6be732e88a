"""``pressroom import-jekyll``, ``export-jekyll`` and ``events import-from-archive``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from app.db import db
from app.events.commands import events_cli
from app.events.display import format_when, zone_or_utc
from app.events.importer import propose_events
from app.issues.jekyll_export import export_jekyll
from app.issues.jekyll_import import STATUSES, import_paths
from app.issues.models import Issue
from app.settings import get_setting


@click.command("import-jekyll")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--images",
    "images_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder holding the site's images/ tree; referenced images go into the media library.",
)
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    default="auto",
    show_default=True,
    help="Status of new issues; auto: draft when placeholders remain or the date is ahead, else sent.",
)
def import_jekyll_command(paths: tuple[Path, ...], images_dir: Path | None, status: str) -> None:
    """Import a Jekyll _newsletters folder (or single .md files) as issues."""
    report = import_paths(paths, images_dir=images_dir, status=status)
    for line in report.lines():
        click.echo(line)
    if report.errors:
        raise SystemExit(1)


@click.command("export-jekyll")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
def export_jekyll_command(outdir: Path) -> None:
    """Write every issue back as a Jekyll Markdown file with front matter."""
    written = export_jekyll(outdir)
    click.echo(f"exported {len(written)} issues to {outdir}")


def register(app: Flask) -> None:
    app.cli.add_command(import_jekyll_command)
    app.cli.add_command(export_jekyll_command)


@events_cli.command("import-from-archive")
@click.argument("slugs", nargs=-1)
@click.option("--yes", is_flag=True, help="Create the proposed events without asking.")
@with_appcontext
def import_events_from_archive(slugs: tuple[str, ...], yes: bool) -> None:
    """Propose events from archive issues' event bullets (all issues, or SLUGs),
    show each, and create them only when confirmed. Importing issues never does this."""
    query = select(Issue).order_by(Issue.issue_date, Issue.id)
    if slugs:
        query = query.where(Issue.slug.in_(slugs))
    proposed = []
    for issue in db.session.scalars(query):
        result = propose_events(
            issue.body or "", issue.issue_date, issue.source_filename or issue.slug, list(issue.lists)
        )
        # Later issues must see these as taken: the same bullet repeats weekly.
        db.session.add_all(result.events)
        db.session.flush()
        proposed += [(issue.slug, event) for event in result.events]
    tz = zone_or_utc(get_setting("reader_timezone"))
    for slug, event in proposed:
        where = f", {event.location}" if event.location else ""
        click.echo(f"{slug}: {format_when(event, tz)}  {event.title}{where}")
    if not proposed:
        db.session.rollback()
        click.echo("no new events found")
        return
    if yes or click.confirm(f"Create these {len(proposed)} events?", default=False):
        db.session.commit()
        click.echo(f"{len(proposed)} events created")
    else:
        db.session.rollback()
        click.echo("nothing created")
