"""``pressroom users ...``: accounts from the command line. Every change that
takes rights away ends the user's sessions at once."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from flask.cli import with_appcontext

from app.auth.models import ROLES, User
from app.auth.service import AccountError, create_user, find_user, reset_password, set_enabled, set_role
from app.db import db


@click.group("users", help="Manage admin users.")
def users_cli() -> None:
    pass


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _run(action: Callable[[], str]) -> None:
    """Run ``action`` (which changes the database and returns what to print) in one transaction."""
    try:
        message = action()
        db.session.commit()
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(message)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True)
@click.option("--name", default="")
@click.option(
    "--handle",
    default=None,
    help="What placeholders name them by (TODO(@HANDLE): ...); default: the address's local part.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create(email: str, role: str, name: str, handle: str | None, password_stdin: bool) -> None:
    password = _password(password_stdin)
    _run(
        lambda: f"created {(user := create_user(email, password, role, name, handle)).role} {user.email} @{user.handle}"
    )


@users_cli.command("disable")
@click.argument("email")
@with_appcontext
def disable(email: str) -> None:
    """Disable a user; their sessions end at once."""

    def action() -> str:
        user = find_user(email)
        set_enabled(user, False)
        return f"disabled {user.email}"

    _run(action)


@users_cli.command("enable")
@click.argument("email")
@with_appcontext
def enable(email: str) -> None:
    def action() -> str:
        user = find_user(email)
        set_enabled(user, True)
        return f"enabled {user.email}"

    _run(action)


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@with_appcontext
def set_role_command(email: str, role: str) -> None:
    """Change a user's role; their sessions end so it applies at once."""

    def action() -> str:
        user = find_user(email)
        set_role(user, role)
        return f"{user.email} is now {role}"

    _run(action)


@users_cli.command("reset-password")
@click.argument("email")
@click.option(
    "--password-stdin", is_flag=True, help="Read the temporary password from standard input (default: generate one)."
)
@with_appcontext
def reset_password_command(email: str, password_stdin: bool) -> None:
    """End the user's sessions and set a temporary password they must change
    at the next login; the password is printed alone on the last line."""
    given = sys.stdin.readline().rstrip("\n") if password_stdin else None
    _run(
        lambda: (
            f"password of {find_user(email).email} reset; they must change it at the next login\n"
            f"{reset_password(find_user(email), given)}"
        )
    )


@users_cli.command("list")
@with_appcontext
def list_users() -> None:
    from sqlalchemy import select

    for user in db.session.scalars(select(User).order_by(User.email)):
        state = "enabled" if user.is_enabled else "disabled"
        click.echo(f"{user.email} {user.role} {state}")
