"""The file outbox: each message becomes an ``.eml`` file, so the whole flow
works on a laptop with no AWS account."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from app.mail.message import OutgoingMessage, feedback_id_line


class OutboxTransport:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def send(self, message: OutgoingMessage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        message_id = uuid.uuid4().hex
        safe_rcpt = re.sub(r"[^A-Za-z0-9@._-]", "_", message.recipient)[:100]
        final = self.directory / f"{message_id}-{safe_rcpt}.eml"
        temporary = final.with_suffix(".tmp")
        temporary.write_bytes(feedback_id_line(message) + message.raw)
        os.replace(temporary, final)  # readers never see half a message
        return f"outbox-{message_id}"
