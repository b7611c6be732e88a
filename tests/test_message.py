"""Per-recipient MIME messages built from an issue rendered and encoded once."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from app.rendering import message as message_module
from app.rendering import render as render_module
from app.rendering.message import HeaderInjectionError, Recipient, build_message, prepare_issue_message
from app.rendering.render import render_issue
from app.subscribers.tokens import read_unsubscribe_token
from tests.support.rendering import make_issue

BODY = ("Hello! Read [the paper](https://example.com/paper?a=1&b=2) and "
        "[this](http://example.org/x).\n\n" + "Long line " * 30 + "\n\nÜmlauts – “quotes” and = signs.\n\n[7] https://body.example/\n")


def _parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_complete_message(app) -> None:
    rendered = render_issue(make_issue(BODY, subject="Issue – №1"))
    prepared = prepare_issue_message(rendered, tags={"send": "9"})
    outgoing = build_message(prepared, Recipient("reader@example.com", "Zoë Reader", 5, 7, delivery_id=42))
    assert outgoing.recipient == "reader@example.com" and outgoing.sender == "newsletter@example.com"
    assert outgoing.tags == {"issue": "test-issue", "send": "9", "delivery": "42"}
    message = _parse(outgoing.raw)
    assert message["Subject"] == "Issue – №1"
    assert message["To"].addresses[0].display_name == "Zoë Reader"
    assert message["From"] == "Newsletter <newsletter@example.com>"
    assert message["Message-ID"] and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    links = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    assert links[1] == "mailto:newsletter@example.com?subject=unsubscribe"
    assert read_unsubscribe_token(links[0].rsplit("/", 1)[1]) == (5, 7)

    text_part, html_part = message.iter_parts()
    assert text_part.get_content_type() == "text/plain" and html_part.get_content_type() == "text/html"
    # Decoded parts are exactly the rendering with this reader's unsubscribe URL.
    expected_html = rendered.email_html.replace(rendered.unsubscribe_placeholder, links[0])
    assert html_part.get_content().replace("\r\n", "\n") == expected_html
    assert text_part.get_content().replace("\r\n", "\n") == rendered.text.replace(
        rendered.unsubscribe_placeholder, links[0])
    assert all(len(line) <= 998 for line in outgoing.raw.split(b"\r\n"))
    assert outgoing.raw.isascii()


def test_each_recipient_gets_own_token_and_tracked_links(app) -> None:
    rendered = render_issue(make_issue(BODY))
    prepared = prepare_issue_message(rendered)

    def tracked(url: str) -> str:
        return "https://t.example/c?u=" + url

    first = _parse(build_message(prepared, Recipient("a@example.com", "", 1, 7), click_url=tracked).raw)
    second = _parse(build_message(prepared, Recipient("b@example.com", "", 2, 7)).raw)
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
    assert "\n[7] https://body.example/\n" in text_first.replace("\r\n", "\n")   # prose, not a link list


def test_per_recipient_build_does_not_render(app, monkeypatch) -> None:
    prepared = prepare_issue_message(make_issue(BODY))   # an Issue is rendered first
    monkeypatch.setattr(render_module, "inline_css", lambda *_: pytest.fail("premailer ran"))
    monkeypatch.setattr(render_module, "render_markdown", lambda *_: pytest.fail("markdown ran"))
    monkeypatch.setattr(message_module, "render_issue", lambda *_: pytest.fail("rendered"))
    for n in range(3):
        assert build_message(prepared, Recipient(f"r{n}@example.com", "", n, None)).raw


def test_frozen_parts_are_used(app) -> None:
    rendered = render_issue(make_issue(BODY))
    first = prepare_issue_message(rendered)
    again = prepare_issue_message(make_issue("Edited later"), subject=first.subject, html=first.html,
                                  text=first.text)
    message = _parse(build_message(again, Recipient("a@example.com", "", 1, None)).raw)
    html_part = message.get_body(("html",)).get_content()
    assert "the paper" in html_part and "Edited later" not in html_part
    assert rendered.unsubscribe_placeholder not in html_part and "/unsubscribe/" in html_part


def test_subject_header_injection_is_refused(app) -> None:
    rendered = render_issue(make_issue("Body", subject="Hi\r\nBcc: x@example.com"))
    with pytest.raises(HeaderInjectionError):
        prepare_issue_message(rendered)
    with pytest.raises(HeaderInjectionError):
        prepare_issue_message(render_issue(make_issue("Body")),
                              sender="A <a@example.com>\nBcc: x@example.com")


def test_recipient_header_values(app) -> None:
    prepared = prepare_issue_message(render_issue(make_issue("Body")))
    for bad in ("a@example.com\r\nBcc: x@example.com", "a@example.com, b@example.com", "not-an-address"):
        with pytest.raises(HeaderInjectionError):
            build_message(prepared, Recipient(bad, "", 1, None))
    # A hostile name is neutralised, never turned into a header.
    raw = build_message(prepared, Recipient("a@example.com", "Eve\r\nBcc: x@example.com", 1, None)).raw
    message = _parse(raw)
    assert message["Bcc"] is None and b"\r\nBcc:" not in raw
    assert message["To"].addresses[0].addr_spec == "a@example.com"


def test_list_sender_and_mailto(app) -> None:
    prepared = prepare_issue_message(render_issue(make_issue("Body")), sender="Team <team@lists.example>",
                                     unsubscribe_mailto="unsub@lists.example")
    outgoing = build_message(prepared, Recipient("a@example.com", "", 1, 2))
    message = _parse(outgoing.raw)
    assert outgoing.sender == "team@lists.example" and message["From"] == "Team <team@lists.example>"
    assert "<mailto:unsub@lists.example?subject=unsubscribe>" in message["List-Unsubscribe"]
    assert message["Message-ID"].endswith("@lists.example>")
