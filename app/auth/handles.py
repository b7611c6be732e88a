"""Handles: the short name a placeholder names its owner by (``TODO(@ryan): …``).

Lower case letters, digits, dots, dashes and underscores, starting and ending
with a letter or digit, at most 40 characters (the pattern the placeholder
scanner reads, ``app.rendering.placeholders``). Unique among users. A new
user's default is the local part of their address, made to fit and, when taken,
numbered (``ryan``, ``ryan-2``)."""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["HANDLE_LIMIT", "check_handle", "default_handle"]

HANDLE_LIMIT = 40
_VALID = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,38}[a-z0-9])?")


def check_handle(value: str) -> str | None:
    """``value`` normalised (no leading @, lower case), or None when it is not a handle."""
    handle = value.strip().removeprefix("@").lower()
    return handle if _VALID.fullmatch(handle) else None


def default_handle(email: str, taken: Callable[[str], bool]) -> str:
    local = email.split("@", 1)[0].lower()
    base = re.sub(r"[^a-z0-9._-]+", "-", local)
    base = re.sub(r"^[^a-z0-9]+|[^a-z0-9]+$", "", base)[: HANDLE_LIMIT - 4].rstrip("._-") or "user"
    handle, number = base, 1
    while taken(handle):
        number += 1
        handle = f"{base}-{number}"
    return handle
