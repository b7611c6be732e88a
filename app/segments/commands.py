"""CLI: ``pressroom segments create|update|show|list|delete``."""

from __future__ import annotations

import click
from flask import Flask

from app.db import db
from app.errors import DomainError
from app.segments import store
from app.segments.models import Segment
from app.subscribers.lists import find_list
from app.subscribers.models import MailingList

segments_cli = click.Group("segments", help="Saved segments: part of one or more lists, chosen by a condition.")


def register(app: Flask) -> None:
    app.cli.add_command(segments_cli)


def _lists(names: tuple[str, ...]) -> list[MailingList]:
    lists = []
    for name in names:
        found = find_list(name)
        if found is None:
            raise click.ClickException(f"No list {name!r}.")
        lists.append(found)
    return lists


def _segment(name: str) -> Segment:
    segment = store.find_segment(name)
    if segment is None:
        raise click.ClickException(f"No segment {name!r} (pressroom segments list shows them).")
    return segment


def _readers(count: int) -> str:
    return f"{count:,} reader" + ("" if count == 1 else "s")


def _fail(exc: DomainError) -> click.ClickException:
    column = getattr(exc, "column", None)
    return click.ClickException(str(exc) if column is None else f"--where: {exc}")


@segments_cli.command("create")
@click.argument("name")
@click.option("--list", "list_names", multiple=True, required=True, help="List name or slug (repeatable).")
@click.option("--where", "expression", required=True, help='e.g. attribs.plan = "pro" and clicked_in_last(3)')
def create_command(name: str, list_names: tuple[str, ...], expression: str) -> None:
    """Save a segment NAME over the lists."""
    try:
        segment = store.create_segment(name, _lists(list_names), expression)
        counted = store.preview(segment.lists, segment.expression, limit=0)
    except DomainError as exc:
        db.session.rollback()
        raise _fail(exc) from exc
    db.session.commit()
    click.echo(f"Created segment {segment.name!r} (slug {segment.slug}): {_readers(counted.count)} now.")
    click.echo(f"  where {segment.expression}")


@segments_cli.command("update")
@click.argument("name")
@click.option("--list", "list_names", multiple=True, help="List name or slug (repeatable); default: as before.")
@click.option("--where", "expression", default=None, help="The new condition; default: as before.")
@click.option("--rename", default=None, help="A new name.")
def update_command(name: str, list_names: tuple[str, ...], expression: str | None, rename: str | None) -> None:
    """Change a segment (sends already scheduled keep the condition they were scheduled with)."""
    segment = _segment(name)
    try:
        store.update_segment(
            segment,
            rename or segment.name,
            _lists(list_names) if list_names else list(segment.lists),
            expression if expression is not None else segment.expression,
        )
    except DomainError as exc:
        db.session.rollback()
        raise _fail(exc) from exc
    db.session.commit()
    click.echo(f"Updated segment {segment.name!r}: where {segment.expression}")


@segments_cli.command("show")
@click.argument("name")
@click.option("--sample", default=10, show_default=True, help="How many matching addresses to print.")
def show_command(name: str, sample: int) -> None:
    """The segment's condition, how many readers it reaches now, and a sample."""
    segment = _segment(name)
    try:
        result = store.preview(segment.lists, segment.expression, limit=max(0, min(sample, 1000)))
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"{segment.name} (slug {segment.slug})")
    click.echo(f"  lists: {', '.join(lst.name for lst in segment.lists)}")
    click.echo(f"  where: {segment.expression}")
    click.echo(f"  reaches now: {_readers(result.count)} (active, not suppressed)")
    for address in result.sample:
        click.echo(f"    {address}")


@segments_cli.command("list")
def list_command() -> None:
    """Every saved segment."""
    segments = store.all_segments()
    if not segments:
        click.echo("No segments yet: pressroom segments create NAME --list LIST --where EXPR")
    for segment in segments:
        click.echo(
            f"{segment.slug}\t{segment.name}\t{', '.join(lst.slug for lst in segment.lists)}\t{segment.expression}"
        )


@segments_cli.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask.")
def delete_command(name: str, yes: bool) -> None:
    """Delete a segment (sends made for it keep its name and condition)."""
    segment = _segment(name)
    if not yes:
        click.confirm(f"Delete segment {segment.name!r}?", abort=True)
    store.delete_segment(segment)
    db.session.commit()
    click.echo(f"Deleted segment {segment.name!r}.")
