"""``pressroom events ...``: look at events from the command line."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from app.events.display import format_when, zone_or_utc
from app.events.service import past_events, upcoming_events
from app.settings import get_setting


def register(app: Flask) -> None:
    app.cli.add_command(events_cli)


@click.group("events")
def events_cli() -> None:
    """Event listings."""


@events_cli.command("list")
@click.option("--past", is_flag=True, help="List past events instead of upcoming ones.")
@with_appcontext
def list_events(past: bool) -> None:
    """Upcoming (or past) events, one per line, dates in the reader time zone."""

    tz = zone_or_utc(get_setting("reader_timezone"))
    events = past_events() if past else upcoming_events()
    for event in events:
        where = f", {event.location}" if event.location else ""
        click.echo(f"{event.id:>5}  {format_when(event, tz)}  {event.title}{where}")
    click.echo(f"{len(events)} {'past' if past else 'upcoming'} event(s)")
