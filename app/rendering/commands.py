"""``pressroom preflight`` and ``pressroom render``, for a stored issue (SLUG)
or a Jekyll file (``--file``) that is parsed into an unsaved Issue."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from app.db import db
from app.issues.models import Issue

FORMATS = ("email", "text", "web", "eml")
SAMPLE_RECIPIENT = ("reader@example.com", "Sample Reader")


def issue_from_file(path: str) -> tuple[Issue, int]:
    """An unsaved Issue from a Jekyll file, and how many lines precede the
    body in the file (so preflight positions point into the file)."""
    from app.issues.jekyll import read_jekyll_file
    from app.issues.jekyll_import import expected_fields

    doc = read_jekyll_file(path)
    front = doc.front_matter
    fields = expected_fields(doc)
    issue = Issue(slug=doc.slug, title=str(fields["title"]), subject=str(fields["subject"]),
                  preheader=str(fields["preheader"]), body=doc.body, issue_date=doc.issue_date,
                  excluded_event_ids=[], front_matter=front)
    return issue, doc.body_first_line - 1


def _load(slug: str | None, path: str | None) -> tuple[Issue, int]:
    if bool(slug) == bool(path):
        raise click.UsageError("Give either an issue SLUG or --file PATH.md.")
    if path:
        return issue_from_file(path)
    issue = db.session.scalar(select(Issue).where(Issue.slug == slug))
    if issue is None:
        raise click.ClickException(f"No issue with the slug {slug!r}.")
    return issue, 0


@click.command("preflight")
@click.argument("slug", required=False)
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), help="A Jekyll Markdown file.")
def preflight_command(slug: str | None, path: str | None) -> None:
    """Print one problem per line: LEVEL LINE:COL CODE message. Exit 1 if any error."""
    from app.rendering.preflight import has_errors, run_preflight

    issue, offset = _load(slug, path)
    problems = run_preflight(issue)
    for problem in problems:
        line = problem.line + offset if problem.line else 0
        click.echo(f"{problem.level} {line}:{problem.col} {problem.code} {problem.message}")
    if has_errors(problems):
        raise SystemExit(1)


@click.command("render")
@click.argument("slug", required=False)
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), help="A Jekyll Markdown file.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="email", show_default=True)
def render_command(slug: str | None, path: str | None, fmt: str) -> None:
    """Write the email HTML, plain text, web HTML or a complete .eml to stdout."""
    from app.rendering.render import render_issue

    issue, _ = _load(slug, path)
    rendered = render_issue(issue)
    if fmt == "email":
        click.echo(rendered.email_html)
    elif fmt == "text":
        click.echo(rendered.text, nl=False)
    elif fmt == "web":
        click.echo(rendered.web_html)
    else:
        from app.rendering.message import Recipient, build_message, prepare_issue_message

        prepared = prepare_issue_message(rendered)
        email, name = SAMPLE_RECIPIENT
        message = build_message(prepared, Recipient(email=email, name=name, subscriber_id=0, list_id=None))
        click.echo(message.raw.decode("ascii", errors="replace"), nl=False)


def register(app: Flask) -> None:
    app.cli.add_command(preflight_command)
    app.cli.add_command(render_command)
