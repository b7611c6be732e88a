from __future__ import annotations

import email
from pathlib import Path

import pytest

from app.mail.transactional import send_transactional


def test_send_transactional_writes_eml_to_outbox(app):
    message_id = send_transactional("Reader <reader@example.com>", "Hello", "plain body", "<p>html body</p>")
    assert message_id.startswith("outbox-")
    outbox = Path(app.config["TRANSPORT"].removeprefix("outbox:"))
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes())
    assert parsed["To"] == "Reader <reader@example.com>"
    assert parsed["Subject"] == "Hello"
    assert parsed.is_multipart()


def test_header_injection_refused(app):
    with pytest.raises(ValueError):
        send_transactional("reader@example.com", "Hi\r\nBcc: x@example.com", "body")
