"""Which issues the public site shows (issue 16, "correct publication"): the
lists a send *went to* decide, not the lists the draft was tagged with; the
email's browser link always opens the issue it came in (a private list's issue
with the key its emails carry, never listed); an admin can publish a sent issue
explicitly or unpublish it (410)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

from sqlalchemy import select

from app.audit import AuditEvent
from app.db import db
from app.issues.models import Issue
from app.sending import service
from app.sending.worker import worker_for
from app.subscribers.models import MailingList
from tests.support.sending import make_issue, make_list


def _send(app, issue: Issue, lists: list[MailingList]) -> None:
    service.create_send(issue, lists)
    db.session.commit()
    worker_for(app).run(once=True)
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "sent"


def _browser_link(issue: Issue) -> str:
    html = db.session.get(Issue, issue.id).approved_rendering.email_html
    found = re.search(r'href="([^"]*)"[^>]*>View this issue in your browser', html)
    assert found, "the email has no browser link"
    return unescape(found.group(1))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _archive_slugs(client) -> list[str]:
    page = client.get("/issues/").get_data(as_text=True)
    return re.findall(r'href="/issues/([^"?]+)"', page)


def test_the_lists_a_send_went_to_decide_not_the_tags(app, client) -> None:
    everyone = make_list("Subscribers", 3)
    everyone.public = True
    clients = make_list("Clients", 2, start=10)
    issue = make_issue("for-everyone")
    issue.lists = [clients]  # tagged private while drafting, sent to the public list
    db.session.commit()
    assert client.get("/issues/for-everyone").status_code == 404  # not sent yet

    _send(app, issue, [everyone])
    assert "for-everyone" in _archive_slugs(client)
    assert "for-everyone" in client.get("/feed.xml").get_data(as_text=True)
    link = _browser_link(issue)
    opened = client.get(_path(link))
    assert opened.status_code == 200 and "Hello" in opened.get_data(as_text=True)
    assert "X-Robots-Tag" not in opened.headers
    assert client.get("/issues/for-everyone").status_code == 200  # the plain address too


def test_a_private_lists_issue_opens_with_its_emails_key_only(app, client, admin_client) -> None:
    clients = make_list("Clients", 2, start=10)
    public = make_list("Subscribers", 1)
    public.public = True
    issue = make_issue("clients-only")
    issue.lists = [public]  # tagged public, sent to clients only: stays private
    db.session.commit()
    _send(app, issue, [clients])

    assert "clients-only" not in _archive_slugs(client)
    assert "clients-only" not in client.get("/feed.xml").get_data(as_text=True)
    assert client.get("/issues/clients-only").status_code == 404  # a guessed slug opens nothing
    assert client.get("/issues/clients-only?k=0123456789abcdef01234567").status_code == 404
    link = _browser_link(issue)
    assert "?k=" in link
    opened = client.get(_path(link))
    assert opened.status_code == 200 and "Hello" in opened.get_data(as_text=True)
    assert opened.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert opened.headers["Referrer-Policy"] == "no-referrer"

    editor = admin_client.get(f"/admin/issues/{issue.id}").get_data(as_text=True)
    assert "Sent only to private lists: not in the public archive" in editor
    assert admin_client.post(f"/admin/issues/{issue.id}/unpublish", data={"action": "publish"}).status_code == 303
    assert "clients-only" in _archive_slugs(client)
    assert client.get("/issues/clients-only").status_code == 200
    audit = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == issue.id)).all()
    assert "published" in audit

    assert admin_client.post(f"/admin/issues/{issue.id}/unpublish", data={"action": "unpublish"}).status_code == 303
    assert "clients-only" not in _archive_slugs(client)
    assert client.get(_path(link)).status_code == 410  # mailed, then withdrawn: gone on purpose
    assert admin_client.post(f"/admin/issues/{issue.id}/unpublish", data={"action": "explode"}).status_code == 400


def test_a_scheduled_or_cancelled_send_publishes_nothing(app, client) -> None:
    public = make_list("Subscribers", 2)
    public.public = True
    issue = make_issue("not-yet")
    db.session.commit()
    send = service.create_send(issue, [public])
    db.session.commit()
    assert client.get("/issues/not-yet").status_code == 404
    service.cancel(send)
    db.session.commit()
    assert client.get("/issues/not-yet").status_code == 404
    assert "not-yet" not in _archive_slugs(client)
