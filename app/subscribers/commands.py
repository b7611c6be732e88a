"""CLI: ``pressroom lists create``, ``pressroom subscribers import|export``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from app.db import db
from app.subscribers.attributes import definitions
from app.subscribers.csv_batches import ImportResult
from app.subscribers.csv_columns import RowValues, mapping_from_options, propose
from app.subscribers.csv_export import export_rows
from app.subscribers.csv_import import CsvImportError, import_csv
from app.subscribers.lists import ListError, create_list, find_list

lists_cli = click.Group("lists", help="Mailing lists (audiences).")
subscribers_cli = click.Group("subscribers", help="Subscribers: CSV import and export.")


@lists_cli.command("create")
@click.argument("name")
@click.option("--public", is_flag=True, help="Offer it on /subscribe and show its issues in the archive.")
@click.option("--description", default="", help="Shown on the signup form.")
def create_list_command(name: str, public: bool, description: str) -> None:
    """Create a list."""
    try:
        mailing_list = create_list(name, public=public, description=description)
    except ListError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created list {mailing_list.name!r} (slug {mailing_list.slug}{', public' if public else ''}).")


@subscribers_cli.command("import")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "list_name", required=True, help="List name or slug; created when missing.")
@click.option(
    "--status",
    type=click.Choice(["active", "pending"]),
    default="active",
    show_default=True,
    help="active: consent already recorded; pending: each new address gets a confirmation email.",
)
@click.option(
    "--attribute",
    "renames",
    multiple=True,
    metavar="HEADER=KEY[:TYPE]",
    help="Store column HEADER as attribs.KEY (of TYPE: text, number, date, boolean, list). Repeatable.",
)
@click.option("--skip-column", "skips", multiple=True, metavar="HEADER", help="Do not import this column.")
@click.option(
    "--existing",
    type=click.Choice(["overwrite", "keep"]),
    default="overwrite",
    show_default=True,
    help="For subscribers already known: the file's attribute values overwrite theirs, or only fill missing keys.",
)
@click.option("--no-attributes", is_flag=True, help="Import email and name only (v0.1 behaviour).")
def import_command(
    csv_path: Path,
    list_name: str,
    status: str,
    renames: tuple[str, ...],
    skips: tuple[str, ...],
    existing: str,
    no_attributes: bool,
) -> None:
    """Import subscribers from a CSV file (column email, optional name; every
    other column becomes a typed attribute, type proposed from the data)."""
    total = csv_path.stat().st_size or 1
    attributes = None
    if not no_attributes:
        wanted = {}
        for item in renames:
            header, sep, target = item.partition("=")
            if not sep or not target.strip():
                raise click.BadParameter(f"{item!r}: write HEADER=KEY or HEADER=KEY:TYPE", param_hint="--attribute")
            wanted[header.strip().lower()] = target.strip()
        try:
            with csv_path.open("rb") as stream:
                mapping = mapping_from_options(propose(stream), wanted, skips, existing)
        except CsvImportError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()  # the declared attributes
        for column in mapping.columns:
            click.echo(f"column {column.header!r} -> attribs.{column.key} ({column.type})", err=True)
        attributes = RowValues(mapping.payload()) if mapping.columns else None

    def progress(result: ImportResult) -> None:
        click.echo(f"\r{result.bytes_read * 100 // total:3d}%  {result.rows} rows", nl=False, err=True)

    try:
        with csv_path.open("rb") as stream:
            result = import_csv(stream, list_name, status, progress=progress, attributes=attributes)
    except (CsvImportError, ListError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("", err=True)
    for row, message in result.errors:
        click.echo(f"row {row}: {message}")
    if result.invalid > len(result.errors):
        click.echo(f"... and more: only the first {len(result.errors)} problems are listed")
    click.echo(result.summary())


@subscribers_cli.command("export")
@click.option("--list", "list_name", required=True, help="List name or slug.")
@click.option(
    "--status",
    type=click.Choice(["active", "pending", "unsubscribed"]),
    default=None,
    help="Only subscriptions in this state.",
)
def export_command(list_name: str, status: str | None) -> None:
    """Write the list as CSV to stdout (formula-safe)."""
    mailing_list = find_list(list_name)
    if mailing_list is None:
        raise click.ClickException(f"No list named {list_name!r}.")
    for chunk in export_rows(mailing_list, status, sorted(definitions())):
        click.echo(chunk, nl=False)


def register(app: Flask) -> None:
    app.cli.add_command(lists_cli)
    app.cli.add_command(subscribers_cli)
