"""The ``pressroom`` command: Flask's CLI bound to ``create_app`` plus our
commands. Each domain contributes a ``register(app)`` adding its commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def register_commands(app: Flask) -> None:
    # Imported here, the Flask idiom for CLI registration: the commands import
    # every domain, which the package root must not do at import time.
    from app import demo
    from app.auth.commands import users_cli
    from app.events import commands as events_commands
    from app.issues import commands as issues_commands
    from app.issues import render_commands
    from app.segments import commands as segments_commands
    from app.sending import commands as sending_commands
    from app.subscribers import commands as subscribers_commands

    app.cli.add_command(users_cli)
    for module in (
        demo,
        issues_commands,
        render_commands,
        subscribers_commands,
        sending_commands,
        events_commands,
        segments_commands,
    ):
        module.register(app)


def _create_app() -> Flask:
    from app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """Pressroom: newsletter authoring and delivery."""
