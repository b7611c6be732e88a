"""The messages the test app's outbox transport wrote (``TRANSPORT = outbox:DIR``)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast


def outbox_mails(app: Any) -> list[EmailMessage]:
    """Every .eml in the outbox, parsed, in file-name order (empty when nothing was sent)."""
    folder = Path(app.config["TRANSPORT"].removeprefix("outbox:"))
    return [
        cast(EmailMessage, message_from_bytes(p.read_bytes(), policy=policy.default))
        for p in sorted(folder.glob("*.eml"))
    ]
