"""``pressroom demo``: load demo data so a new user has something to click."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from app.auth.models import User
from app.auth.service import create_user
from app.db import db
from app.demo_content import load_demo_content


def register(app: Flask) -> None:
    app.cli.add_command(demo)


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load demo data (once): users, sample issues and a draft, events, subscribers, a finished send."""
    credentials = Path(current_app.instance_path) / "demo-credentials.txt"
    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo("demo data already loaded (users exist); nothing changed")
        if credentials.exists():
            click.echo(credentials.read_text().rstrip())
        return
    admin_password = secrets.token_urlsafe(12)
    editor_password = secrets.token_urlsafe(12)
    create_user("admin@example.com", admin_password, "admin", "Ada Admin")
    create_user("editor@example.com", editor_password, "editor", "Eddie Editor")
    db.session.commit()

    for line in load_demo_content():
        click.echo(line)
    login = (
        f"Log in at {current_app.config['BASE_URL']}/admin/login with:\n"
        f"  admin:  admin@example.com  {admin_password}\n"
        f"  editor: editor@example.com  {editor_password}\n"
    )
    # Kept (owner-only) so `make run` can show the login again on later starts.
    credentials.parent.mkdir(parents=True, exist_ok=True)
    credentials.write_text(login)
    credentials.chmod(0o600)
    click.echo("")
    click.echo(login.rstrip())
