"""Per-recipient MIME messages built from an issue rendered and encoded once."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from app.rendering import email as email_module
from app.rendering import render as render_module
from app.rendering.message import HeaderInjectionError, Recipient, build_message, prepare_issue_message
from tests.support.rendering import make_issue, render

SENDER = "Newsletter <newsletter@example.com>"
UNSUBSCRIBE = "http://127.0.0.1:5000/unsubscribe/token-{}"


def reader(email: str, name: str = "", n: int = 1, **kw) -> Recipient:
    return Recipient(email, name, unsubscribe_url=UNSUBSCRIBE.format(n), **kw)


BODY = (
    "Hello! Read [the paper](https://example.com/paper?a=1&b=2) and "
    "[this](http://example.org/x).\n\n"
    + "Long line " * 30
    + "\n\nÜmlauts – “quotes” and = signs.\n\n[7] https://body.example/\n"
)


def _parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_complete_message(app) -> None:
    rendered = render(make_issue(BODY, subject="Issue – №1"))
    prepared = prepare_issue_message(rendered, sender=SENDER, tags={"send": "9"}, list_id='"News" <news.example.com>')
    outgoing = build_message(prepared, reader("reader@example.com", "Zoë Reader", 5, delivery_id=42))
    assert outgoing.recipient == "reader@example.com" and outgoing.sender == "newsletter@example.com"
    assert outgoing.tags == {"issue": "test-issue", "send": "9", "delivery": "42"}
    message = _parse(outgoing.raw)
    assert message["Subject"] == "Issue – №1"
    assert message["To"].addresses[0].display_name == "Zoë Reader"
    assert message["From"] == "Newsletter <newsletter@example.com>"
    assert message["Message-ID"] and message["Date"].endswith("+0000")  # numeric zone, not "GMT"
    assert message["List-Id"] == '"News" <news.example.com>'
    assert message.get_content_type() == "multipart/alternative"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    links = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    assert links[1] == "mailto:newsletter@example.com?subject=unsubscribe"
    assert links[0] == UNSUBSCRIBE.format(5)

    text_part, html_part = message.iter_parts()
    assert text_part.get_content_type() == "text/plain" and html_part.get_content_type() == "text/html"
    # Decoded parts are exactly the rendering with this reader's unsubscribe URL and the links.
    expected_html = rendered.filled("email", {"unsubscribe": links[0]}, html=True)
    assert html_part.get_content().replace("\r\n", "\n") == expected_html
    assert text_part.get_content().replace("\r\n", "\n") == rendered.filled(
        "text", {"unsubscribe": links[0]}, html=False
    )
    assert "slot.invalid" not in outgoing.raw.decode()
    assert all(len(line) <= 998 for line in outgoing.raw.split(b"\r\n"))
    assert outgoing.raw.isascii()


def test_each_recipient_gets_own_token_and_tracked_links(app) -> None:
    rendered = render(make_issue(BODY))
    prepared = prepare_issue_message(rendered, sender=SENDER)

    def tracked(url: str) -> str:
        return "https://t.example/c?u=" + url

    first = _parse(build_message(prepared, reader("a@example.com", n=1), link_url=tracked).raw)
    second = _parse(build_message(prepared, reader("b@example.com", n=2)).raw)
    html_first = first.get_body(("html",)).get_content()
    html_second = second.get_body(("html",)).get_content()
    assert first["List-Unsubscribe"] != second["List-Unsubscribe"]
    assert 'href="https://t.example/c?u=https://example.com/paper?a=1&amp;b=2"' in html_first
    assert 'href="https://example.com/paper?a=1&amp;b=2"' in html_second
    # Never tracked: unsubscribe and view-in-browser.
    assert f'href="{rendered.web_url}"' in html_first
    unsubscribe = re.findall(r"<([^>]+)>", first["List-Unsubscribe"])[0]
    assert f'href="{unsubscribe}"' in html_first
    text_first = first.get_body(("plain",)).get_content()
    assert "https://t.example/c?u=http://example.org/x" in text_first
    assert f"Unsubscribe or manage your subscription: {unsubscribe}" in text_first
    assert "\n[7] https://body.example/\n" in text_first.replace("\r\n", "\n")  # prose, not a link list


def test_per_recipient_build_does_not_render(app, monkeypatch) -> None:
    prepared = prepare_issue_message(render(make_issue(BODY)), sender=SENDER)
    monkeypatch.setattr(email_module, "inline_css", lambda *_: pytest.fail("premailer ran"))
    monkeypatch.setattr(render_module, "to_html", lambda *_: pytest.fail("markdown ran"))
    for n in range(3):
        assert build_message(prepared, reader(f"r{n}@example.com", n=n)).raw


def test_content_cannot_forge_a_slot(app) -> None:
    """A slot carries the rendering's random nonce: text that imitates one is just text."""
    rendered = render(
        make_issue(
            "See https://slot.invalid/0123456789abcdef01234567/unsubscribe and [x](https://slot.invalid/aaaa/l0)"
        )
    )
    prepared = prepare_issue_message(rendered, sender=SENDER)
    body = _parse(build_message(prepared, reader("a@example.com", n=3)).raw).get_body(("html",)).get_content()
    assert "https://slot.invalid/0123456789abcdef01234567/unsubscribe" in body
    assert body.count(UNSUBSCRIBE.format(3)) == 1  # only the footer link


def test_subject_header_injection_is_refused(app) -> None:
    rendered = render(make_issue("Body", subject="Hi\r\nBcc: x@example.com"))
    with pytest.raises(HeaderInjectionError):
        prepare_issue_message(rendered, sender=SENDER)
    for subject in ("Hi\u2028Bcc: x@example.com", "Hi\x85Bcc: x@example.com", "=?utf-8?q?Hi=0D=0ABcc:_x?="):
        with pytest.raises(HeaderInjectionError):
            prepare_issue_message(render(make_issue("Body")), sender=SENDER, subject=subject)
    with pytest.raises(HeaderInjectionError):
        prepare_issue_message(render(make_issue("Body")), sender="A <a@example.com>\nBcc: x@example.com")


def test_recipient_header_values(app) -> None:
    prepared = prepare_issue_message(render(make_issue("Body")), sender=SENDER)
    for bad in (
        "a@example.com\r\nBcc: x@example.com",
        "a@example.com, b@example.com",
        "not-an-address",
        "a@example.com\u2028Bcc: x@example.com",
    ):
        with pytest.raises(HeaderInjectionError):
            build_message(prepared, reader(bad))
    # A hostile name is neutralised, never turned into a header.
    for name in ("Eve\r\nBcc: x@example.com", "Eve\u2028Bcc: x@example.com", "Eve\x85Bcc: x@example.com"):
        raw = build_message(prepared, reader("a@example.com", name)).raw
        message = _parse(raw)
        assert message["Bcc"] is None and b"\r\nBcc:" not in raw
    assert message["To"].addresses[0].addr_spec == "a@example.com"


def test_list_sender_and_mailto(app) -> None:
    prepared = prepare_issue_message(
        render(make_issue("Body")), sender="Team <team@lists.example>", unsubscribe_mailto="unsub@lists.example"
    )
    outgoing = build_message(prepared, reader("a@example.com"))
    message = _parse(outgoing.raw)
    assert outgoing.sender == "team@lists.example" and message["From"] == "Team <team@lists.example>"
    assert "<mailto:unsub@lists.example?subject=unsubscribe>" in message["List-Unsubscribe"]
    assert message["Message-ID"].endswith("@lists.example>")
