"""Issue domain: saving with optimistic concurrency, revisions, lifecycle, approval."""

from __future__ import annotations

import pytest

from app.db import db
from app.issues import lifecycle
from app.issues.errors import TransitionError
from app.issues.models import Issue
from app.issues.service import (
    CONFLICT_NOTE,
    ConflictError,
    IssueError,
    NotEditableError,
    create_issue,
    diff_revision,
    list_revisions,
    restore_revision,
    save_issue,
)
from app.subscribers.lists import create_list


def test_create_and_save_records_revisions(app, users) -> None:
    issue = create_issue("Hello World", user=users["editor"], body="one\n")
    assert issue.slug == "hello-world" and issue.version == 1
    assert save_issue(issue, base_version=1, user=users["editor"], body="one\ntwo\n")
    assert not save_issue(issue, base_version=2, user=users["editor"], body="one\ntwo\n")  # no change
    revisions = list_revisions(issue)
    assert [r.number for r in revisions] == [2, 1]
    assert revisions[0].author_id == users["editor"].id
    diff = diff_revision(issue, 1)
    assert "+two" in diff.unified and diff.changed and "<table" in diff.html
    assert restore_revision(issue, 1, base_version=2, user=users["admin"])
    assert issue.body == "one\n" and issue.version == 3 and list_revisions(issue)[0].note == "restored #1"


def test_second_concurrent_save_is_refused_and_kept(app, users) -> None:
    issue = create_issue("Race", user=users["editor"], body="base")
    save_issue(issue, base_version=1, user=users["editor"], body="first editor's text")
    with pytest.raises(ConflictError) as caught:
        save_issue(issue, base_version=1, user=users["editor2"], body="second editor's text")
    assert "changed by" in str(caught.value) and caught.value.current_version == 2
    db.session.expire_all()
    issue = db.session.get(Issue, issue.id)
    assert issue.body == "first editor's text" and issue.version == 2
    copy = list_revisions(issue)[0]
    assert copy.note == CONFLICT_NOTE and copy.body == "second editor's text"
    assert copy.author_id == users["editor2"].id


def test_slug_rules_and_lists(app, users) -> None:
    a = create_issue("A", user=None, slug="Spring News!")
    create_issue("B", user=None, slug="taken")
    assert a.slug == "spring-news"
    with pytest.raises(IssueError, match="already uses"):
        save_issue(a, base_version=1, user=None, slug="taken")
    news = create_list("News")
    save_issue(a, base_version=1, user=None, slug="new slug", lists=[news.id])
    assert a.slug == "new-slug" and [m.name for m in a.lists] == ["News"]
    with pytest.raises(IssueError):
        create_issue("   ", user=None)


def test_lifecycle_and_editing_approved_returns_to_draft(app, users) -> None:
    issue = create_issue("Cycle", user=users["editor"], body="Fine text.")
    lifecycle.approve(issue, users["admin"])
    assert issue.status == "approved" and issue.approved_rendering is not None
    save_issue(issue, base_version=issue.version, user=users["editor"], body="changed")
    assert issue.status == "draft" and issue.approved_by_id is None and issue.approved_rendering_id is None
    with pytest.raises(TransitionError):
        lifecycle.move(issue, "sent")
    for state in ("approved", "scheduled", "sending", "sent"):
        lifecycle.move(issue, state)
    assert issue.sent_at is not None
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "sent"  # every move is in the database, not only in memory
    with pytest.raises(NotEditableError):
        save_issue(issue, base_version=issue.version, user=users["editor"], body="late")


def test_editor_cannot_approve_own_last_edit(app, users) -> None:
    issue = create_issue("Mine", user=users["editor"], body="# Mine\n\nAll good.\n")
    check = lifecycle.check_approval(issue, users["editor"])
    assert not check.allowed and "last edit" in check.reason
    with pytest.raises(lifecycle.ApprovalError):
        lifecycle.approve(issue, users["editor"])
    assert issue.status == "draft"


def test_approval_refused_while_preflight_has_errors(app, users) -> None:
    from app.settings import set_setting

    issue = create_issue("Draft", user=users["editor"], subject="Draft", body="# Draft\n\nTODO: add Ryan's article\n")
    check = lifecycle.check_approval(issue, users["editor2"])
    assert not check.allowed and check.reason.startswith("Preflight has errors")
    with pytest.raises(lifecycle.ApprovalError, match="placeholder"):
        lifecycle.approve(issue, users["editor2"])
    save_issue(issue, base_version=1, user=users["editor"], body="# Draft\n\nRyan's article is in.\n")
    lifecycle.approve(issue, users["editor2"])
    assert issue.status == "approved" and issue.approved_by_id == users["editor2"].id
    # With the setting off, the last editor may approve their own draft.
    lifecycle.unapprove(issue)
    set_setting("require_approval", False)
    lifecycle.approve(issue, users["editor"])
    assert issue.status == "approved"


def test_slug_that_normalises_to_the_stored_one_is_no_change(app, users) -> None:
    issue = create_issue("Slugged", user=users["editor"])
    assert save_issue(issue, base_version=1, user=users["editor"], slug="My Slug!") is True
    assert issue.slug == "my-slug" and issue.version == 2
    assert save_issue(issue, base_version=2, user=users["editor"], slug="My Slug!") is False
    assert issue.version == 2
