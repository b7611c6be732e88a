"""``pressroom preflight`` and ``pressroom render``, for a stored issue (SLUG)
or a Jekyll file (``--file``) that is parsed into an unsaved Issue."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select

from app.db import db
from app.issues.jekyll import read_jekyll_file
from app.issues.jekyll_import import expected_fields
from app.issues.models import Issue
from app.issues.rendering import preflight, render
from app.rendering.message import Recipient, build_message, prepare_issue_message
from app.rendering.preflight import has_errors

FORMATS = ("email", "text", "web", "eml")
SAMPLE_RECIPIENT = ("reader@example.com", "Sample Reader")


def issue_from_file(path: str) -> tuple[Issue, int]:
    """An unsaved Issue from a Jekyll file, and how many lines precede the
    body in the file (so preflight positions point into the file)."""
    doc = read_jekyll_file(path)
    front = doc.front_matter
    fields = expected_fields(doc)
    issue = Issue(
        slug=doc.slug,
        title=str(fields["title"]),
        subject=str(fields["subject"]),
        preheader=str(fields["preheader"]),
        body=doc.body,
        issue_date=doc.issue_date,
        excluded_event_ids=[],
        front_matter=front,
    )
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
    issue, offset = _load(slug, path)
    problems = preflight(issue)
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
    issue, _ = _load(slug, path)
    rendered = render(issue, track_opens=False)
    sample = {"unsubscribe": f"{current_app.config['BASE_URL'].rstrip('/')}/unsubscribe/SAMPLE"}
    if fmt == "email":
        click.echo(rendered.filled("email", sample, html=True))
    elif fmt == "text":
        click.echo(rendered.filled("text", sample, html=False), nl=False)
    elif fmt == "web":
        click.echo(rendered.web_html)
    else:
        prepared = prepare_issue_message(rendered, sender=current_app.config["FROM"])
        email, name = SAMPLE_RECIPIENT
        message = build_message(prepared, Recipient(email=email, name=name, unsubscribe_url=sample["unsubscribe"]))
        click.echo(message.raw.decode("ascii", errors="replace"), nl=False)


def register(app: Flask) -> None:
    app.cli.add_command(preflight_command)
    app.cli.add_command(render_command)
