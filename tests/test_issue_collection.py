"""Issues as a collection (issue 15): search and filters, duplicate, templates,
delete, unpublish, auto-suffixed slugs, and the preflight rules for an empty
email and a missing postal address."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from lxml import html as lxml_html
from sqlalchemy import func, select

from app.audit import AuditEvent, for_subject
from app.db import db
from app.issues import lifecycle
from app.issues.models import Issue, IssueTemplate, Revision
from app.issues.rendering import preflight
from app.issues.service import create_issue
from app.sending import service
from app.sending.service import SendError
from app.settings import set_setting
from app.subscribers.lists import create_list


def _titles(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    return [a.text_content().strip() for a in tree.cssselect("table.issues-table tbody tr td:nth-child(2) a")]


def _issue(title: str, user, *, body: str = "Hello readers.", lists=(), **fields) -> Issue:
    issue = create_issue(title, user=user, body=body, lists=lists, **fields)
    return issue


def test_search_filters_sort_and_pages(app, users, editor_client) -> None:
    editor = users["editor"]
    clients = create_list("Clients")
    _issue("Weekly notes", editor, body="All about probabilistic programming.", issue_date=date(2026, 1, 5))
    _issue(
        "Model interpretability",
        editor,
        body="LIME and SHAP.",
        subject="Why 100% accuracy lies",
        issue_date=date(2026, 1, 12),
        lists=[clients],
    )
    _issue("Draft without a date", editor, body="TODO: write")

    everything = editor_client.get("/admin/issues").get_data(as_text=True)
    # Undated drafts (the newest work) first, then by issue date, newest first.
    assert _titles(everything) == ["Draft without a date", "Model interpretability", "Weekly notes"]
    assert "3 issues" in everything

    def find(**args) -> list[str]:
        response = editor_client.get("/admin/issues", query_string=args)
        assert response.status_code == 200
        return _titles(response.get_data(as_text=True))

    assert find(q="probabilistic") == ["Weekly notes"]  # body
    assert find(q="INTERPRETABILITY") == ["Model interpretability"]  # title, any case
    assert find(q="weekly-notes") == ["Weekly notes"]  # slug
    assert find(q="100%") == ["Model interpretability"]  # subject; % is a character, not a wildcard
    assert find(q="100_") == []
    assert find(q="lime shap") == ["Model interpretability"]  # every word, anywhere
    assert find(list=str(clients.id)) == ["Model interpretability"]
    assert find(status="draft", q="nothing like this") == []
    # Last edited: the oldest issue, edited now, comes first.
    weekly = db.session.scalar(select(Issue).where(Issue.title == "Weekly notes"))
    weekly.updated_at = datetime.utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert find(sort="edited")[0] == "Weekly notes"
    # Odd input is a page, never an error.
    for args in ({"page": "²"}, {"page": "99999999999999999999"}, {"list": "x"}, {"status": "<b>"}, {"sort": "id"}):
        assert editor_client.get("/admin/issues", query_string=args).status_code == 200, args


def test_pages_of_fifty(app, users, editor_client) -> None:
    for number in range(53):
        create_issue(f"Issue {number:02d}", user=users["editor"], commit=False)
    db.session.commit()
    first = editor_client.get("/admin/issues").get_data(as_text=True)
    assert len(_titles(first)) == 50 and "Page 1 of 2" in first and "53 issues" in first
    second = editor_client.get("/admin/issues?page=2").get_data(as_text=True)
    assert _titles(second) == ["Issue 02", "Issue 01", "Issue 00"]


def test_duplicate_makes_an_unapproved_draft_of_any_issue(app, users, editor_client) -> None:
    readers = create_list("Readers", public=True)
    sent = _issue("Spring issue", users["admin"], body="## Hi\n\nTODO: nothing", subject="Spring!", lists=[readers])
    sent.status, sent.sent_at = "sent", datetime.utcnow()
    db.session.commit()
    response = editor_client.post(f"/admin/issues/{sent.id}/duplicate")
    assert response.status_code == 303
    copy = db.session.scalar(select(Issue).where(Issue.id != sent.id))
    assert response.headers["Location"].endswith(f"/admin/issues/{copy.id}")
    assert (copy.title, copy.slug, copy.subject, copy.body) == (
        "Spring issue (copy)",
        "spring-issue-copy",
        "Spring!",
        sent.body,
    )
    assert [m.name for m in copy.lists] == ["Readers"]
    assert copy.status == "draft" and copy.approved_by_id is None and copy.sent_at is None
    assert copy.issue_date is None
    # A second copy gets the next free slug.
    editor_client.post(f"/admin/issues/{sent.id}/duplicate")
    assert db.session.scalar(select(func.count()).select_from(Issue).where(Issue.slug == "spring-issue-copy-2")) == 1
    assert [e.action for e in for_subject("issue", copy.id)] == ["duplicated"]


def test_delete_drafts_only_with_a_record_kept(app, users, editor_client, admin_client) -> None:
    draft_id = _issue("Scrap this", users["editor"]).id
    page = editor_client.get(f"/admin/issues/{draft_id}").get_data(as_text=True)
    form = lxml_html.fromstring(page).cssselect(f'form[action="/admin/issues/{draft_id}/delete"]')[0]
    assert form.get("data-confirm").startswith("Delete “Scrap this”?")
    response = editor_client.post(f"/admin/issues/{draft_id}/delete")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/issues")
    assert db.session.scalar(select(Issue.id).where(Issue.id == draft_id)) is None
    assert db.session.scalar(select(func.count()).select_from(Revision).where(Revision.issue_id == draft_id)) == 0
    (event,) = for_subject("issue", draft_id)
    assert (event.action, event.actor_email) == ("deleted", "editor@example.com")
    assert "Scrap this" in event.summary
    assert editor_client.get(f"/admin/issues/{draft_id}").status_code == 404

    # A sent issue cannot be deleted, and neither can one with a (cancelled) send.
    sent = _issue("Went out", users["admin"])
    sent.status, sent.sent_at = "sent", datetime.utcnow()
    db.session.commit()
    assert editor_client.post(f"/admin/issues/{sent.id}/delete").status_code == 303
    assert db.session.get(Issue, sent.id) is not None
    readers = create_list("Readers")
    approved = _issue("Approved then cancelled", users["editor"], lists=[readers])
    lifecycle.approve(approved, users["admin"], base_version=approved.version)
    db.session.commit()
    send = service.create_send(approved, [readers], at=None, user=users["admin"])
    service.cancel(send)
    db.session.commit()
    page = admin_client.get(f"/admin/issues/{approved.id}").get_data(as_text=True)
    assert "has a send" in page and f"/admin/issues/{approved.id}/delete" not in page
    admin_client.post(f"/admin/issues/{approved.id}/delete")
    assert db.session.get(Issue, approved.id) is not None


def test_unpublish_takes_an_issue_out_of_the_archive_and_answers_410(
    app, users, client, editor_client, admin_client
) -> None:
    readers = create_list("Readers", public=True)
    issue = _issue("Retracted", users["admin"], body="Something we got wrong.", lists=[readers])
    issue.status, issue.sent_at, issue.issue_date = "sent", datetime.utcnow(), date(2026, 1, 5)
    db.session.commit()
    assert "Retracted" in client.get("/issues/").get_data(as_text=True)
    assert editor_client.post(f"/admin/issues/{issue.id}/unpublish").status_code == 403  # admins only

    assert admin_client.post(f"/admin/issues/{issue.id}/unpublish", data={"action": "unpublish"}).status_code == 303
    assert "Retracted" not in client.get("/issues/").get_data(as_text=True)
    assert "Retracted" not in client.get("/feed.xml").get_data(as_text=True)
    gone = client.get("/issues/retracted")
    assert gone.status_code == 410 and "no longer available" in gone.get_data(as_text=True)
    assert "Something we got wrong" not in gone.get_data(as_text=True)
    notes = db.session.scalars(select(Revision.note).where(Revision.issue_id == issue.id)).all()
    assert "unpublished from the archive" in notes
    listed = editor_client.get("/admin/issues?status=unpublished").get_data(as_text=True)
    assert _titles(listed) == ["Retracted"]

    assert admin_client.post(f"/admin/issues/{issue.id}/unpublish", data={"action": "republish"}).status_code == 303
    assert client.get("/issues/retracted").status_code == 200
    assert [e.action for e in for_subject("issue", issue.id)] == ["unpublished", "republished"]
    # Unpublishing a draft is refused with a reason, not an error page.
    draft = _issue("Not sent", users["admin"])
    response = admin_client.post(f"/admin/issues/{draft.id}/unpublish", follow_redirects=True)
    assert response.status_code == 200 and "Only sent issues" in response.get_data(as_text=True)


def test_templates_make_new_drafts_with_their_placeholders(app, users, editor_client) -> None:
    readers = create_list("Readers")
    weekly = _issue(
        "Week 1",
        users["editor"],
        body="## This week\n\nTODO: add this week's article\n",
        lists=[readers],
        subject="This week at the lab",
    )
    response = editor_client.post(f"/admin/issues/{weekly.id}/template", data={"name": "Weekly"})
    assert response.status_code == 303
    template = db.session.scalar(select(IssueTemplate))
    assert (template.name, template.body, template.list_ids) == ("Weekly", weekly.body, [readers.id])
    again = editor_client.post(f"/admin/issues/{weekly.id}/template", data={"name": "Weekly"}, follow_redirects=True)
    assert "already a template named" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(IssueTemplate)) == 1

    form = editor_client.get("/admin/issues/new").get_data(as_text=True)
    assert "The template “Weekly”" in form
    response = editor_client.post("/admin/issues/new", data={"title": "Week 2", "template": str(template.id)})
    assert response.status_code == 302
    week2 = db.session.scalar(select(Issue).where(Issue.title == "Week 2"))
    assert week2.body == weekly.body and week2.subject == "This week at the lab"
    assert [m.id for m in week2.lists] == [readers.id] and week2.status == "draft"
    assert [p.code for p in preflight(week2) if p.level == "error"] == ["placeholder"]
    assert editor_client.post("/admin/issues/new", data={"title": "W", "template": "999"}).status_code == 400

    assert editor_client.post(f"/admin/issue-templates/{template.id}/delete").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(IssueTemplate)) == 0
    assert db.session.get(Issue, week2.id).body == weekly.body
    deleted = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "template deleted")
    assert db.session.scalar(deleted) == 1


def test_an_empty_email_is_a_preflight_error(app, users) -> None:
    for body in ("", "   \n\n", "<!-- notes to self -->", "[[events]]"):
        issue = Issue(slug="e", title="E", subject="S", body=body, excluded_event_ids=[])
        assert "empty-body" in [p.code for p in preflight(issue) if p.level == "error"], repr(body)
    for body in ("Hello.", "![Chart](https://example.org/c.png)"):
        issue = Issue(slug="e", title="E", subject="S", body=body, excluded_event_ids=[])
        assert "empty-body" not in [p.code for p in preflight(issue)], body


def test_a_send_needs_a_postal_address_but_a_test_send_does_not(app, users, admin_client) -> None:
    readers = create_list("Readers")
    issue = _issue("Law-abiding", users["editor"], lists=[readers])
    lifecycle.approve(issue, users["admin"], base_version=issue.version)
    db.session.commit()
    set_setting("postal_address", "  ")
    try:
        service.check_sendable(issue)
        raise AssertionError("sendable without a postal address")
    except SendError as exc:
        assert "postal address" in str(exc)
    assert "no-postal-address" in [p.code for p in preflight(issue) if p.level == "error"]
    page = admin_client.get(f"/admin/issues/{issue.id}").get_data(as_text=True)
    assert "postal address in Settings" in page
    assert "the newsletter has no postal address (Settings)" in page  # in the editor's preflight panel
    test = admin_client.post(f"/admin/issues/{issue.id}/test-send", data={"addresses": "me@example.com"})
    assert test.status_code in (302, 303)
    set_setting("postal_address", "1 Main St")
    service.check_sendable(issue)


def test_autosave_answers_with_the_cards_so_a_cleared_approval_says_so(app, users, editor_client) -> None:
    readers = create_list("Readers")
    issue = _issue("Approved one", users["editor"], lists=[readers])
    lifecycle.approve(issue, users["admin"], base_version=issue.version)
    db.session.commit()
    page = lxml_html.fromstring(editor_client.get(f"/admin/issues/{issue.id}").get_data(as_text=True))
    assert "Approved by admin@example.com" in page.get_element_by_id("workflow-panels").text_content()

    saved = editor_client.post(
        f"/admin/issues/{issue.id}/autosave", json={"version": issue.version, "body": "Hello readers, again."}
    ).get_json()
    assert saved["status"] == "draft"
    cards = lxml_html.fragment_fromstring(saved["panels"], create_parent="div")
    cleared = cards.get_element_by_id("approval-cleared").text_content()
    assert "Your edit cleared the approval" in cleared
    # The editor made the edit, so the Approve button is theirs to not press, and the send card says why.
    assert cards.get_element_by_id("approve-button").get("disabled") is not None
    assert cards.get_element_by_id("send-reason").text_content() == "Only admins can schedule sends."
    version = [i.get("value") for i in cards.find_class("approval-version")]
    assert version == [str(saved["version"])]

    again = editor_client.post(
        f"/admin/issues/{issue.id}/autosave", json={"version": saved["version"], "body": "Hello readers, third."}
    ).get_json()
    assert "approval-cleared" not in again["panels"]  # said once, when it happened
