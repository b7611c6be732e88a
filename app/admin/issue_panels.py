"""What the editor's placeholder panel says about each placeholder: its owner
(or that no user has the handle), or the owner its words propose."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.db import db
from app.issues.assignments import propose_owners
from app.rendering.placeholders import lines_of

__all__ = ["placeholder_json"]


def _owner_names(placeholders: list[Any]) -> dict[str, str | None]:
    """handle -> the user's display name, or None when no user has that handle."""
    handles = {p.owner for p in placeholders if p.owner}
    names: dict[str, str | None] = dict.fromkeys(handles)
    if handles:
        for user in db.session.scalars(select(User).where(User.handle.in_(handles))):
            names[user.handle] = user.display_name
    return names


def placeholder_json(placeholders: list[Any], body: str) -> list[dict[str, Any]]:
    names = _owner_names(placeholders)
    lines = lines_of(body)
    # An unowned marker whose words name one user: offered, never assigned without a click.
    unowned = [
        (index, lines[p.line - 1][p.col - 1 + len(p.text) :])
        for index, p in enumerate(placeholders)
        if p.code == "placeholder" and not p.owner and p.line <= len(lines)
    ]
    users = list(db.session.scalars(select(User).where(User.is_enabled.is_(True)))) if unowned else []
    proposals = propose_owners(unowned, users)
    found = []
    for index, p in enumerate(placeholders):
        item = {
            "line": p.line,
            "col": p.col,
            "code": p.code,
            "text": p.text,
            "owner": p.owner,
            "owner_name": names.get(p.owner or ""),
            "proposed": None,
        }
        if index in proposals:
            item["proposed"] = {"handle": proposals[index].handle, "name": proposals[index].display_name}
        found.append(item)
    return found
