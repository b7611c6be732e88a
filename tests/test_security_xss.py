"""Security sweep (issue 10), XSS part without a browser: hostile payloads in
every editor-controlled field (tests/support/xss.py), then every admin and public
page, the rendered email (HTML and text) and a built MIME message are parsed:
no script element of ours, no ``on*`` attribute, no ``javascript:``/``data:``
URL, and the payload present only as text. tests/e2e/test_xss_browser.py checks
the same pages in Chromium."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from typing import Any

import lxml.etree
import lxml.html
import pytest

from tests.support import xss

URL_ATTRS = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "srcset",
    "{http://www.w3.org/1999/xlink}href",
}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:image/svg")
COUNTS_FILE = "security-xss-counts.json"


def _problems(document: str, where: str) -> list[str]:
    """Markup a browser would execute: inline scripts, event handlers, script URLs, srcdoc."""
    if not document.strip():
        return []
    root = lxml.html.document_fromstring(document)
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag == "script" and (element.text or "").strip():
            found.append(f"{where}: inline <script>{(element.text or '')[:60]}")
        if tag in ("script", "iframe", "embed", "object", "base") and element.get("src", element.get("data")):
            source = element.get("src") or element.get("data") or ""
            if not source.startswith(("/static/", "/admin/", "/media/", "about:blank")):
                found.append(f"{where}: <{tag}> loading {source[:80]}")
        for name, value in element.attrib.items():
            lowered = name.lower()
            if lowered.startswith("on"):
                found.append(f"{where}: <{tag} {name}={value[:60]!r}>")
            compact = "".join(value.split()).lower()
            if lowered in URL_ATTRS and compact.startswith(DANGEROUS_SCHEMES):
                found.append(f"{where}: <{tag} {name}={value[:60]!r}>")
            if lowered == "srcdoc":
                found += _problems(value, f"{where} (srcdoc)")
    return found


def _feed_problems(xml: bytes, where: str) -> list[str]:
    root = lxml.etree.fromstring(xml)
    found = []
    for element in root.iter():
        if element.get("type") in ("html", "xhtml") and element.text:
            found += _problems(element.text, f"{where} <{lxml.etree.QName(element).localname}>")
        for name, value in element.attrib.items():
            if name == "href" and "".join(value.split()).lower().startswith(DANGEROUS_SCHEMES):
                found.append(f"{where}: href={value!r}")
    return found


def _ics_problems(body: str, events: int) -> list[str]:
    """Payloads stay inside their (escaped, folded) properties: none starts a line of its own."""
    lines = body.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")
    found = [f"/events.ics: {line[:60]!r}" for line in lines if line.startswith(("<", '"', "'", "javascript", "{"))]
    if sum(line == "BEGIN:VEVENT" for line in lines) != events:
        found.append("/events.ics: wrong number of events")
    return found


@pytest.fixture
def hostile(app, users) -> xss.Hostile:
    return xss.seed(users)


def test_every_admin_and_public_page_escapes_every_payload(app, admin_client, client, hostile):
    problems: list[str] = []
    pages = 0
    for path in xss.admin_pages(hostile):
        response = admin_client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        problems += _problems(response.get_data(as_text=True), path)
        pages += 1
    for path in xss.public_pages(hostile):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        if path == "/feed.xml":
            problems += _feed_problems(response.data, path)
        elif path == "/events.ics":
            problems += _ics_problems(response.get_data(as_text=True), len(hostile.event_ids))
        else:
            problems += _problems(response.get_data(as_text=True), path)
        pages += 1
    assert problems == []
    # Escaped, not dropped: the payloads are shown to the editor as text.
    listing = lxml.html.document_fromstring(admin_client.get("/admin/issues").get_data(as_text=True))
    text = listing.text_content()
    assert all(payload in text for payload in xss.PAYLOADS), "a title payload is missing from the list"
    names = lxml.html.document_fromstring(admin_client.get("/admin/subscribers").get_data(as_text=True))
    assert sum(payload in names.text_content() for payload in xss.PAYLOADS) >= len(xss.PAYLOADS) - 1
    _record({"pages": pages, "payloads": len(xss.PAYLOADS), "fields": hostile.fields})


def test_rendered_email_and_mime_carry_no_script(app, hostile):
    from app.db import db
    from app.issues.models import Issue
    from app.issues.rendering import render, web_html
    from app.rendering.message import Recipient, build_message, prepare_issue_message

    checked = 0
    for issue_id in hostile.issue_ids:
        issue = db.session.get(Issue, issue_id)
        rendered = render(issue)
        problems = _problems(rendered.email_html, f"email {issue.slug}")
        problems += _problems(web_html(issue), f"web {issue.slug}")
        assert problems == []
        prepared = prepare_issue_message(rendered, sender="Newsletter <newsletter@example.com>")
        recipient = Recipient(
            email="reader@example.com", name=issue.subject, unsubscribe_url="http://127.0.0.1:5000/unsubscribe/x"
        )
        message = message_from_bytes(build_message(prepared, recipient).raw, policy=policy.default)
        assert str(message["Subject"]) == issue.subject  # the payload, as plain header text
        html_part = message.get_body(("html",))
        assert _problems(html_part.get_content(), f"mime {issue.slug}") == []
        assert "<script" not in html_part.get_content().lower()
        # The other part is text/plain (never rendered as HTML), so payload characters
        # are only text there; the multipart holds nothing else (no HTML attachment).
        parts = [part.get_content_type() for part in message.walk() if not part.is_multipart()]
        assert parts == ["text/plain", "text/html"]
        checked += 1
    first = render(db.session.get(Issue, hostile.issue_ids[0]))
    # Titles are escaped text in the HTML, never elements.
    root = lxml.html.document_fromstring(first.email_html)
    assert xss.PAYLOADS[0] in root.text_content() or xss.PAYLOADS[0] in first.subject
    assert not root.xpath("//script|//iframe|//svg|//details|//input|//math")
    _record({"emails": checked})


def test_preview_endpoint_sanitises_posted_markdown(app, editor_client):
    response = editor_client.post(
        "/admin/issues/preview",
        json={"body": xss.BODY, "slug": xss.PAYLOADS[0], "subject": xss.PAYLOADS[1], "preheader": xss.PAYLOADS[2]},
    )
    assert response.status_code == 200
    data: dict[str, Any] = response.get_json()
    assert _problems(data["email_html"], "preview email") == []
    assert _problems(data["web_html"], "preview web") == []
    assert xss.PAYLOADS[1] in lxml.html.document_fromstring(data["email_html"]).text_content()


def _record(values: dict[str, Any]) -> None:
    from tests.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / COUNTS_FILE
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(values)
    path.write_text(json.dumps(current, indent=1, sort_keys=True))


def test_the_checker_sees_executable_markup():
    """The page checks above would catch each kind of executable markup."""
    for markup in [
        "<script>x=1</script>",
        "<img src=x onerror=alert(1)>",
        "<a href=' javascript:x'>a</a>",
        '<iframe srcdoc="<svg onload=alert(1)>"></iframe>',
        "<object data='data:text/html,x'>",
        "<script src='https://evil.example/x.js'></script>",
    ]:
        assert _problems(f"<html><body>{markup}</body></html>", "probe"), markup
    assert _problems("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", "probe") == []
