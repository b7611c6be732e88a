"""The sends domain's refusal (its own module so the scheduling helpers can raise it)."""

from __future__ import annotations

from app.errors import Refused


class SendError(Refused):
    """A send request or control action refused, with a message for the user."""
