"""``pressroom import-jekyll`` and ``pressroom export-jekyll``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from app.issues.jekyll_export import export_jekyll
from app.issues.jekyll_import import STATUSES, import_paths


@click.command("import-jekyll")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--images", "images_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder holding the site's images/ tree; referenced images go into the media library.")
@click.option("--status", type=click.Choice(STATUSES), default="auto", show_default=True,
              help="Status of new issues; auto: draft when placeholders remain or the date is ahead, "
                   "else sent.")
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
