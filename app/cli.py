"""The ``pressroom`` command: Flask's CLI bound to ``create_app`` plus our
commands. Each domain contributes a ``register(app)`` adding its commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def register_commands(app: Flask) -> None:
    from app.auth.commands import users_cli

    app.cli.add_command(users_cli)
    for module_name in ("app.demo", "app.issues.commands", "app.rendering.commands",
                        "app.subscribers.commands", "app.sending.commands", "app.events.commands"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            # Only a missing commands module (or its package) is skipped; a
            # broken import inside an existing one must still fail loudly.
            if not exc.name or not module_name.startswith(exc.name):
                raise
            continue
        module.register(app)


def _create_app():
    from app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """Pressroom: newsletter authoring and delivery."""
