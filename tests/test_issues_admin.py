"""Issue admin: list, create, JSON autosave with conflicts, preview, approval, test send, upload."""

from __future__ import annotations

import io
import zipfile
from email import message_from_bytes
from email.policy import default as default_policy
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import select

from app.db import db
from app.issues.models import Issue, Revision
from app.issues.service import create_issue, save_issue
from app.subscribers.lists import create_list
from tests.conftest import login_client


class _Texts(HTMLParser):
    """Collects the text of elements with a given class or id."""

    def __init__(self, wanted: str) -> None:
        super().__init__()
        self.wanted, self.depth, self.found = wanted, 0, []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if self.depth:
            self.depth += 1
        elif self.wanted in (attributes.get("class") or "").split() or attributes.get("id") == self.wanted:
            self.depth = 1
            self.found.append("")

    def handle_endtag(self, tag) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data) -> None:
        if self.depth:
            self.found[-1] += data


def texts(html: str, wanted: str) -> list[str]:
    parser = _Texts(wanted)
    parser.feed(html)
    return [" ".join(t.split()) for t in parser.found]


def test_list_shows_status_lists_and_placeholder_count(app, editor_client, users) -> None:
    news = create_list("News")
    create_issue("Spring", user=users["editor"], body="Hi\n\nTODO: add Ryan's article\nTK\n", lists=[news])
    response = editor_client.get("/admin/issues")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert texts(html, "placeholder-count") == ["2"]
    assert "News" in html and "draft" in texts(html, "badge")


def test_create_form_and_bad_input(app, editor_client) -> None:
    new = "/admin/issues/new"
    response = editor_client.post(new, data={"title": "First issue", "issue_date": "2026-01-05"})
    assert response.status_code == 302
    issue = db.session.scalar(select(Issue))
    assert issue.slug == "first-issue" and str(issue.issue_date) == "2026-01-05"
    assert editor_client.post(new, data={"title": "x", "issue_date": "soon"}).status_code == 400
    # A weekly title that repeats gets the next free slug; a typed slug that is taken is refused.
    assert editor_client.post(new, data={"title": "First issue"}).status_code == 302
    assert editor_client.post(new, data={"title": "First  issue"}).status_code == 302
    slugs = db.session.scalars(select(Issue.slug).where(Issue.title == "First issue").order_by(Issue.id)).all()
    assert slugs == ["first-issue", "first-issue-2", "first-issue-3"]
    taken = editor_client.post(new, data={"title": "Another", "slug": "first-issue"})
    assert taken.status_code == 400 and "already uses the slug" in taken.get_data(as_text=True)
    assert db.session.scalar(select(Issue).where(Issue.title.in_(("x", "Another")))) is None
    page = editor_client.get(f"/admin/issues/{issue.id}")
    assert page.status_code == 200 and 'id="f-body"' in page.get_data(as_text=True)


def test_concurrent_autosaves_conflict_and_keep_both_texts(app, users) -> None:
    issue = create_issue("Shared", user=users["admin"], body="v1")
    one, two = login_client(app, users["editor"]), login_client(app, users["editor2"])
    url = f"/admin/issues/{issue.id}/autosave"
    page = one.get(f"/admin/issues/{issue.id}").get_data(as_text=True)
    assert 'name="version" id="f-version" value="1"' in page
    first = one.post(url, json={"version": 1, "body": "text of editor one"})
    assert first.status_code == 200 and first.json["version"] == 2
    second = two.post(url, json={"version": 1, "body": "text of editor two"})
    assert second.status_code == 409 and second.json["conflict"]
    assert "changed by" in second.json["error"] and "kept as revision" in second.json["error"]
    db.session.expire_all()
    stored = db.session.get(Issue, issue.id)
    assert stored.body == "text of editor one" and stored.version == 2
    bodies = set(db.session.scalars(select(Revision.body).where(Revision.issue_id == issue.id)))
    assert {"text of editor one", "text of editor two"} <= bodies
    # The HTML form path refuses the same way.
    assert (
        two.post(f"/admin/issues/{issue.id}", data={"version": "1", "title": "Shared", "body": "form text"}).status_code
        == 409
    )
    assert one.post(url, json={"body": "no version"}).status_code == 400
    assert one.post(url, data="not json").status_code == 400


def test_preview_renders_unsaved_text_and_lists_placeholders(app, editor_client) -> None:
    response = editor_client.post(
        "/admin/issues/preview",
        json={"body": "# Hello\n\nSome *text*.\n\nTODO: add Ryan's article\n", "subject": "Hi", "slug": "x"},
    )
    assert response.status_code == 200
    data = response.json
    assert "<em>text</em>" in data["web_html"] and "Hello" in data["text"]
    assert "<em" in data["email_html"]
    assert [(p["line"], p["text"]) for p in data["placeholders"]] == [(5, "TODO")]
    assert any(p["level"] == "error" and p["line"] == 5 for p in data["problems"])
    assert db.session.scalar(select(Issue)) is None  # previews write nothing
    assert editor_client.post("/admin/issues/preview", data="x").status_code == 400


def test_approval_rules_in_the_admin(app, users) -> None:
    issue = create_issue(
        "Approve me", user=users["editor"], subject="Approve me", body="# Hi\n\nTODO: add Ryan's article\n"
    )
    own = login_client(app, users["editor"])
    page = own.get(f"/admin/issues/{issue.id}").get_data(as_text=True)
    assert texts(page, "approve-reason") == ["You made the last edit; another editor must approve it."]
    other = login_client(app, users["editor2"])
    refused = other.post(f"/admin/issues/{issue.id}/approve", data={"version": 1})
    assert refused.status_code == 409 and "Preflight has errors" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "draft"
    save_issue(db.session.get(Issue, issue.id), base_version=1, user=users["editor"], body="# Hi\n\nAll written.\n")
    assert other.post(f"/admin/issues/{issue.id}/approve", data={"version": 2}).status_code == 302
    db.session.expire_all()
    approved = db.session.get(Issue, issue.id)
    assert approved.status == "approved" and approved.approved_by_id == users["editor2"].id
    # Any edit clears the approval.
    edited = own.post(f"/admin/issues/{issue.id}/autosave", json={"version": 3, "body": "changed"})
    assert edited.json["status"] == "draft"


def test_test_send_goes_through_the_transport(app, editor_client, users) -> None:
    issue = create_issue("Weekly", user=users["editor"], subject="Weekly news", body="Hello\n\nTODO: more\n")
    url = f"/admin/issues/{issue.id}/test-send"
    bad = editor_client.post(url, data={"addresses": "a@example.com, not-an-address"})
    assert bad.status_code == 400 and "not-an-address" in bad.get_data(as_text=True)
    outbox = Path(app.config["TRANSPORT"].removeprefix("outbox:"))
    assert not outbox.exists() or not list(outbox.iterdir())
    ok = editor_client.post(url, data={"addresses": "a@example.com\nb@example.com"})
    assert ok.status_code == 302
    messages = [message_from_bytes(p.read_bytes(), policy=default_policy) for p in sorted(outbox.iterdir())]
    assert sorted(m["To"] for m in messages) == ["a@example.com", "b@example.com"]
    assert all(m["Subject"] == "[TEST] Weekly news" for m in messages)
    html = messages[0].get_body(("html",)).get_content()
    assert texts(html, "banner") == ["Test send: this is a preview, not the real issue."]
    assert "TEST SEND" in messages[0].get_body(("plain",)).get_content()


def test_upload_zip_and_markdown(app, editor_client) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("_newsletters/2018-1-05-client.md", "---\nslug: jan\n---\n# January\n")
        archive.writestr("_newsletters/2018-01-12-public.md", "# Twelfth\n")
    data = {
        "files": [
            (io.BytesIO(buffer.getvalue()), "posts.zip"),
            (io.BytesIO(b"# Loose file\n"), "2018-02-01-client.md"),
        ],
        "status": "draft",
    }
    response = editor_client.post("/admin/issues/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert texts(response.get_data(as_text=True), "import-summary") == [
        "imported 3, updated 0, unchanged 0, warnings 0, errors 0"
    ]
    assert set(db.session.scalars(select(Issue.slug))) == {"jan", "2018-01-12-public", "2018-02-01-client"}
    bad = editor_client.post(
        "/admin/issues/import", data={"files": [(io.BytesIO(b"x"), "x.exe")]}, content_type="multipart/form-data"
    )
    assert bad.status_code == 400


def test_revisions_page_diff_and_restore(app, editor_client, users) -> None:
    issue = create_issue("History", user=users["editor"], body="first line\n")
    save_issue(issue, base_version=1, user=users["editor2"], body="second line\n")
    page = editor_client.get(f"/admin/issues/{issue.id}/revisions?diff=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "editor2@example.com" in html
    assert "first line" in html and "second line" in html and 'class="diff"' in html
    assert editor_client.get(f"/admin/issues/{issue.id}/revisions?diff=99").status_code == 200
    stale = editor_client.post(f"/admin/issues/{issue.id}/revisions/1/restore", data={"version": "1"})
    assert stale.status_code == 302
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).body == "second line\n"  # stale restore refused
    restored = editor_client.post(f"/admin/issues/{issue.id}/revisions/1/restore", data={"version": "2"})
    assert restored.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Issue, issue.id)
    assert stored.body == "first line\n" and stored.version == 3
    assert editor_client.get("/admin/issues/9999").status_code == 404


def test_test_sends_are_rate_limited(app, editor_client):
    from app.issues.service import create_issue

    issue = create_issue("Limits", user=None, subject="Limits")
    issue.body = "Hello."
    db.session.commit()
    statuses = [
        editor_client.post(f"/admin/issues/{issue.id}/test-send", data={"addresses": "me@example.com"}).status_code
        for _ in range(21)
    ]
    assert 429 not in statuses[:20] and statuses[20] == 429


def test_far_future_dates_and_huge_list_ids_are_refused(app, editor_client, users) -> None:
    """A 9999-12-31 date used to save and then 500 the editor forever; huge list ids overflowed."""
    issue = create_issue("Dated", user=users["editor"])
    url = f"/admin/issues/{issue.id}/autosave"
    refused = editor_client.post(url, json={"version": 1, "issue_date": "9999-12-31"})
    assert refused.status_code == 400 and "between" in refused.get_json()["error"]
    assert editor_client.post(url, json={"version": 1, "issue_date": 20260101}).status_code == 400
    assert editor_client.post(url, json={"version": 1, "lists": [99999999999999999999999]}).status_code == 400
    assert db.session.get(Issue, issue.id).issue_date is None
    assert editor_client.get(f"/admin/issues/{issue.id}").status_code == 200
    new = editor_client.post("/admin/issues/new", data={"title": "Huge", "lists": "99999999999999999999999"})
    assert new.status_code == 400 and "Unknown list." in new.get_data(as_text=True)
    assert editor_client.post("/admin/issues/new", data={"title": "Far", "issue_date": "9999-12-31"}).status_code == 400
    assert db.session.scalar(select(Issue).where(Issue.title.in_(["Huge", "Far"]))) is None


def test_editor_page_survives_a_stored_far_future_date(app, editor_client, users) -> None:
    """Rows saved before the check existed: the events window is clamped instead of overflowing."""
    from datetime import date

    issue = create_issue("Stored", user=users["editor"])
    issue.issue_date = date(9999, 12, 31)
    db.session.commit()
    assert editor_client.get(f"/admin/issues/{issue.id}").status_code == 200


def test_edit_based_on_the_version_before_approval_is_refused(app, users) -> None:
    """Approval bumps the version: a save made on the text the approver did not see conflicts,
    and the issue stays approved with the reviewed text."""
    issue = create_issue("Race", user=users["editor"], subject="Race", body="# Race\n\nReviewed text.\n")
    own, other = login_client(app, users["editor"]), login_client(app, users["editor2"])
    page = other.get(f"/admin/issues/{issue.id}").get_data(as_text=True)
    assert 'name="version" value="1" class="approval-version"' in page
    assert other.post(f"/admin/issues/{issue.id}/approve", data={"version": 1}).status_code == 302
    late = own.post(f"/admin/issues/{issue.id}/autosave", json={"version": 1, "body": "Unreviewed."})
    assert late.status_code == 409
    db.session.expire_all()
    stored = db.session.get(Issue, issue.id)
    assert stored.status == "approved" and stored.version == 2 and "Reviewed text." in stored.body
    # An approval of a version that is no longer current is refused too.
    stale = other.post(f"/admin/issues/{issue.id}/approve", data={"version": 1, "action": "unapprove"})
    assert stale.status_code == 409
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "approved"


def test_preview_of_a_stored_issue_uses_its_events_section(app, editor_client, users) -> None:
    """The preview shows what the send would: the stored heading override and exclusions."""
    from datetime import timedelta

    from app.db import utcnow
    from app.events.service import EventData, create_event

    start = utcnow() + timedelta(days=3)
    kept = create_event(EventData(title="Kept talk", start=start, timezone="UTC"))
    dropped = create_event(EventData(title="Dropped talk", start=start, timezone="UTC"))
    issue = create_issue("Events", user=users["editor"], body="Hi\n\n[[events]]\n")
    issue.events_heading, issue.excluded_event_ids = "Talks ahead", [dropped.id]
    db.session.commit()
    payload = {"body": "Hi\n\n[[events]]\n", "subject": "Events", "slug": "events"}
    plain = editor_client.post("/admin/issues/preview", json=payload).json["text"]
    assert "Dropped talk" in plain
    stored = editor_client.post("/admin/issues/preview", json={**payload, "issue_id": issue.id}).json["text"]
    assert "Talks ahead" in stored and "Kept talk" in stored and "Dropped talk" not in stored
    assert kept.id
    unknown = editor_client.post("/admin/issues/preview", json={**payload, "issue_id": 10**30})
    assert unknown.status_code == 404
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).body == "Hi\n\n[[events]]\n"  # previews write nothing
    assert len(db.session.scalars(select(Issue)).all()) == 1
