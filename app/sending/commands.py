"""Operator commands: ``send``, ``worker`` and ``sends show|pause|resume|cancel|resend-unknown|recount``."""

from __future__ import annotations

import logging
import os
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.db import db
from app.issues.models import Issue
from app.issues.service import find_issue
from app.jobs.loop import JobLoop, run_jobs_once
from app.sending import schedule, service, tally
from app.sending.audience import find_audience
from app.sending.models import DELIVERY_STATES, Send
from app.sending.service import SendError
from app.sending.worker import run_processes, run_worker
from app.settings import get_setting
from app.subscribers.lists import find_list


def register(app: Flask) -> None:
    app.cli.add_command(send_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(sends_cli)


def _issue(slug: str) -> Issue:

    issue = find_issue(slug)
    if issue is None:
        raise click.ClickException(f"No issue {slug!r}.")
    return issue


def _latest(slug: str) -> Send:
    send = service.latest_send(_issue(slug))
    if send is None:
        raise click.ClickException(f"Issue {slug!r} has never been sent.")
    return send


@click.command("send")
@click.argument("slug")
@click.option("--list", "list_names", multiple=True, help="List name or slug (repeatable).")
@click.option("--segment", "segment_name", default=None, help="A saved segment (its lists, only its readers).")
@click.option("--at", "at", default=None, help="ISO 8601; without offset: reader time zone.")
@with_appcontext
def send_command(slug: str, list_names: tuple[str, ...], segment_name: str | None, at: str | None) -> None:
    """Queue or schedule a send of issue SLUG to one or more lists, or to a segment."""

    issue = _issue(slug)
    if bool(list_names) == bool(segment_name):
        raise click.UsageError("Give --list (one or more) or --segment, not both.")
    lists, chosen = [], None
    for name in list_names:
        found = find_list(name)
        if found is None:
            raise click.ClickException(f"No list {name!r}.")
        lists.append(found)
    timezone = get_setting("reader_timezone") or "UTC"
    try:
        if segment_name:
            found_segment = find_audience(segment_name)
            if found_segment is None:
                raise click.ClickException(f"No segment {segment_name!r} (pressroom segments list shows them).")
            chosen, lists = found_segment
        when = schedule.parse_schedule(at, timezone) if at else None
        estimate = service.estimate(lists, chosen.expression if chosen else None)
        send = service.create_send(issue, lists, at=when, timezone=timezone, audience=chosen)
        db.session.commit()
    except SendError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    local = schedule.in_zone(send.scheduled_at, timezone)
    click.echo(
        f"send {send.id} scheduled for {send.scheduled_at:%Y-%m-%d %H:%M:%S} UTC "
        f"({local:%Y-%m-%d %H:%M %Z}) to {estimate.recipients} recipients"
        + (f" (segment {chosen.name!r}, counted now; it is evaluated again when the send starts)" if chosen else "")
    )
    click.echo(f"estimated duration {estimate.duration_text} at {estimate.rate:g}/s")
    if estimate.fits_quota is False:
        click.echo(
            f"warning: {estimate.recipients} recipients exceed the remaining 24-hour quota "
            f"({estimate.remaining_24h}); the send will wait for quota"
        )


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every due job and deliver everything due, then exit (for cron).")
@click.option(
    "--processes",
    type=click.IntRange(1, 256),
    default=None,
    help="Delivery processes sharing the sends (default: the CPUs; SQLite: 1).",
)
@click.option("--threads", type=int, default=None, help="Parallel requests per process (default SEND_THREADS).")
def worker_command(once: bool, processes: int | None, threads: int | None) -> None:
    """Run due sends, deliver queued messages and run background jobs until SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    if processes is None:
        processes = 1 if sqlite else (os.cpu_count() or 1)
    elif sqlite and processes > 1:
        click.echo("SQLite supports one worker process; using 1 (use PostgreSQL for more).", err=True)
        processes = 1
    if once:
        ran = run_jobs_once(app, "once")
        failed = run_processes(app, processes, once=True, threads=threads) if processes > 1 else None
        sent = run_worker(app, once=True, threads=threads)[1] if processes == 1 else None
        ran += run_jobs_once(app, "once")
        click.echo(
            f"worker: {'' if sent is None else f'{sent} messages sent, '}{ran} jobs run"
            + (f", {failed} processes failed" if failed else "")
        )
        return
    stop = threading.Event()
    jobs = JobLoop(app, f"jobs-{os.getpid()}", stop)
    jobs.start()
    try:
        if processes == 1:
            worker, sent = run_worker(app, threads=threads)
            click.echo(f"worker {worker.id}: {sent} messages sent")
        else:
            failed = run_processes(app, processes, threads=threads)
            click.echo(f"{processes} delivery processes stopped" + (f", {failed} with an error" if failed else ""))
    finally:
        stop.set()
        jobs.join(timeout=30)


@click.group("sends")
def sends_cli() -> None:
    """Inspect and control sends."""


@sends_cli.command("show")
@click.argument("slug")
@with_appcontext
def show(slug: str) -> None:
    """One STATE COUNT line per delivery state of the issue's latest send, then its status."""
    send = _latest(slug)
    counts = service.counts(send)
    for state in DELIVERY_STATES:
        click.echo(f"{state} {counts[state]}")
    status = f"status {send.status}"
    if send.pause_reason and send.status == "paused":
        status += f" ({send.pause_reason})"
    click.echo(status)


@sends_cli.command("recount")
@click.argument("slug")
@with_appcontext
def recount_command(slug: str) -> None:
    """Rebuild the latest send's counts from its rows (after editing deliveries by hand)."""
    send = _latest(slug)
    before = service.counts(send)
    after = tally.recount(send.id)
    db.session.commit()
    for state in DELIVERY_STATES:
        changed = "" if before[state] == after.get(state, 0) else f" (was {before[state]})"
        click.echo(f"{state} {after.get(state, 0)}{changed}")


def _control(slug: str, action: str) -> None:
    send = _latest(slug)
    try:
        if action == "pause":
            service.pause(send)
        elif action == "resume":
            service.resume(send)
        elif action == "cancel":
            skipped = service.cancel(send)
            click.echo(f"{skipped} queued recipients will not be sent")
        else:
            count = service.resend_unknown(send)
            click.echo(f"{count} recipients queued again")
        db.session.commit()
    except SendError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.refresh(send)
    click.echo(f"send {send.id}: {send.status}")


for _action in ("pause", "resume", "cancel", "resend-unknown"):

    def _make(action: str):
        @with_appcontext
        def command(slug: str) -> None:
            _control(slug, action)

        command.__doc__ = {
            "pause": "Stop new claims; in-flight messages finish.",
            "resume": "Continue a paused send.",
            "cancel": "Stop for good; queued recipients are skipped.",
            "resend-unknown": "Queue again recipients whose outcome is unknown (they may receive a duplicate).",
        }[action]
        return click.argument("slug")(command)

    sends_cli.command(_action)(_make(_action))
