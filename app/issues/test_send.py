"""Test sends: the current draft to a few addresses typed by an editor.

Allowed with placeholders left (that is what drafts are for); the email then carries
a warning banner and its subject starts with ``[TEST]``. It goes through the
configured transport as a one-off message, never to a list.
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from app.issues.models import Issue
from app.issues.rendering import render
from app.issues.service import IssueError
from app.mail import HeaderInjectionError, TransportError
from app.mail.transactional import send_transactional
from app.rendering.placeholders import scan
from app.settings import newsletter_sender, reply_to

__all__ = ["MAX_TEST_RECIPIENTS", "TestSendResult", "parse_addresses", "send_test"]

MAX_TEST_RECIPIENTS = 20


class TestSendResult:
    __test__ = False  # not a pytest class

    def __init__(self, addresses: list[str], placeholders: int) -> None:
        self.addresses = addresses
        self.placeholders = placeholders


def parse_addresses(text: str) -> list[str]:
    """Split on commas, semicolons and new lines; every address must be valid."""
    parts = [p.strip() for p in re.split(r"[,;\n\r]+", text or "") if p.strip()]
    if not parts:
        raise IssueError("Type at least one address to send the test to.")
    if len(parts) > MAX_TEST_RECIPIENTS:
        raise IssueError(f"A test goes to at most {MAX_TEST_RECIPIENTS} addresses.")
    addresses: list[str] = []
    bad: list[str] = []
    for part in parts:
        try:
            normalised = validate_email(part, check_deliverability=False).normalized
        except EmailNotValidError:
            bad.append(part)
            continue
        if normalised not in addresses:
            addresses.append(normalised)
    if bad:
        shown = ", ".join(repr(b[:80]) for b in bad[:5])
        raise IssueError(f"Not a valid email address: {shown}. Nothing was sent.")
    return addresses


def send_test(issue: Issue, address_text: str) -> TestSendResult:
    """Render ``issue`` with the test banner and send it to each address."""
    from flask import current_app

    addresses = parse_addresses(address_text)
    rendered = render(issue, test_banner=True, track_opens=False)
    # A test has no subscriber: its unsubscribe link points at the archive instead.
    stand_in = current_app.config["BASE_URL"].rstrip("/") + "/issues/"
    html = rendered.filled("email", {"unsubscribe": stand_in}, html=True)
    text = rendered.filled("text", {"unsubscribe": stand_in}, html=False)
    subject = f"[TEST] {issue.subject or issue.title}"
    for address in addresses:
        try:
            replies = reply_to()
            headers = {"Reply-To": replies} if replies else None
            send_transactional(address, subject, text, html, headers, sender=newsletter_sender())
        except HeaderInjectionError as exc:
            raise IssueError(f"Nothing was sent: {exc}") from exc
        except TransportError as exc:
            raise IssueError(f"The test to {address} could not be sent: {exc}") from exc
    return TestSendResult(addresses, len(scan(issue.body or "")))
