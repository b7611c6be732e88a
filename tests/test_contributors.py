"""The contributor role (issue 18): writes and edits their own drafts, uploads
media, adds events; everything else in the admin answers 403, checked on
every route and method, and the pages they can open offer nothing they
cannot do."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from app.auth.service import create_user
from app.db import db, utcnow
from app.events.models import Event
from app.issues.lifecycle import check_approval
from app.issues.models import Issue
from app.issues.service import create_issue
from app.media.models import MediaItem
from tests.conftest import PASSWORD, login_client

# What a contributor may open: deliberate, so a new admin route is closed to
# them until this set (and the view's @contributors_allowed) says otherwise.
ALLOWED = {
    "admin.dashboard",
    "admin.issues",
    "admin.issues_new",
    "admin.issues_edit",
    "admin.issues_autosave",
    "admin.issues_preview",
    "admin.issues_preview_window",
    "admin.issues_revisions",
    "admin.issues_restore",
    "admin.media",
    "admin.media_json",
    "admin.media_json_upload",
    "admin.media_alt_json",
    "admin.media_upload",
    "admin.media_alt",
    "admin.events",
    "admin.events_new",
    "admin.events_edit",
    "admin.events_duplicate",
    "admin.comments_json",
    "admin.comments_add",
    "admin.comments_resolve",
}


def _fill(rule, issue_id: int) -> str:
    """Every argument 1, an issue id the given one."""
    url = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?issue_id>", str(issue_id), rule.rule)
    return re.sub(r"<(?:\w+(?:\([^)]*\))?:)?\w+>", "1", url)


@pytest.fixture
def contributor(app, users):
    user = create_user("ryan@example.com", PASSWORD, "contributor", "Ryan Writer")
    db.session.commit()
    return user


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def test_every_other_admin_route_refuses_a_contributor(app, contributor) -> None:
    client = login_client(app, contributor)
    admin_rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    marked = {r.endpoint for r in admin_rules if getattr(app.view_functions[r.endpoint], "contributors_allowed", False)}
    assert marked == ALLOWED
    other = create_issue("Someone's draft", user=None)  # not the contributor's
    db.session.commit()
    refused = 0
    for rule in admin_rules:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(_fill(rule, other.id), method=method, data={})
            if rule.endpoint in ALLOWED:
                # Allowed views still check the object: that issue is not theirs.
                if "issue_id" in rule.arguments:
                    assert response.status_code == 403, f"{method} {rule.rule}: {response.status_code}"
                continue
            assert response.status_code == 403, f"{method} {rule.rule}: {response.status_code}"
            refused += 1
    assert refused > 50
    assert db.session.scalar(select(Issue.status).where(Issue.id == other.id)) == "draft"


def test_a_contributor_writes_their_draft_and_nothing_more(app, contributor, users) -> None:
    client = login_client(app, contributor)
    response = client.post("/admin/issues/new", data={"title": "Licensing article"})
    assert response.status_code == 302
    mine = db.session.scalar(select(Issue).where(Issue.title == "Licensing article"))
    assert mine is not None and mine.created_by_id == contributor.id
    saved = client.post(
        f"/admin/issues/{mine.id}/autosave",
        data=json.dumps({"version": mine.version, "body": "## Licensing\n\nThe article."}),
        content_type="application/json",
    )
    assert saved.status_code == 200 and saved.get_json()["ok"]
    theirs = create_issue("The editor's issue", user=users["editor"])
    db.session.commit()

    listing = client.get("/admin/issues").get_data(as_text=True)
    assert (
        "Licensing article" in listing
        and "The editor&#39;s issue" not in listing
        and "The editor's issue" not in listing
    )
    assert "Import Jekyll files" not in listing
    for url in (f"/admin/issues/{theirs.id}", f"/admin/issues/{theirs.id}/revisions"):
        assert client.get(url).status_code == 403, url
    peek = client.post("/admin/issues/preview", json={"body": "x", "issue_id": theirs.id})
    assert peek.status_code == 403
    edit = client.post(
        f"/admin/issues/{theirs.id}/autosave",
        data=json.dumps({"version": theirs.version, "body": "vandalised"}),
        content_type="application/json",
    )
    assert edit.status_code == 403
    db.session.refresh(theirs)
    assert theirs.body == ""

    # Their own draft: the editor page offers no approve, send, test send or delete.
    page = client.get(f"/admin/issues/{mine.id}").get_data(as_text=True)
    assert "Contributors write drafts; an editor approves them." in page
    assert "An editor approves this issue and an admin schedules its send." in page
    assert 'id="test-send-form"' not in page and ">Delete<" not in page and "Events section" not in page
    assert client.post(f"/admin/issues/{mine.id}/approve", data={"version": mine.version}).status_code == 403
    db.session.refresh(mine)
    assert mine.status == "draft"
    assert not check_approval(mine, contributor).allowed

    # Once an editor approves it, it is past the contributor's part.
    mine.status = "approved"
    db.session.commit()
    assert client.get(f"/admin/issues/{mine.id}").status_code == 403

    nav = client.get("/admin/").get_data(as_text=True)
    assert "Drafts you work on" in nav and "Subscribers" not in nav and "Sends" not in nav and "Segments" not in nav


def test_a_contributor_uploads_media_and_adds_events_but_deletes_neither(app, contributor) -> None:
    client = login_client(app, contributor)
    uploaded = client.post(
        "/admin/media.json",
        data={"file": (io.BytesIO(_png()), "chart.png"), "alt_text": "A chart"},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert uploaded.status_code == 201
    item = db.session.get(MediaItem, uploaded.get_json()["id"])
    assert item is not None
    start = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    created = client.post(
        "/admin/events/new",
        data={"title": "Strata NY", "url": "https://strata.example", "start": start, "timezone": "UTC"},
    )
    assert created.status_code == 302
    event = db.session.scalar(select(Event).where(Event.title == "Strata NY"))
    assert event is not None
    assert client.post(f"/admin/media/{item.id}/delete").status_code == 403
    assert client.post(f"/admin/events/{event.id}/delete").status_code == 403
    assert db.session.get(MediaItem, item.id) is not None and db.session.get(Event, event.id) is not None
    assert (
        "Delete"
        not in client.get("/admin/events")
        .get_data(as_text=True)
        .split("<main", 1)[-1]
        .split("Strata NY", 1)[-1]
        .split("</tr>", 1)[0]
    )


def test_users_create_takes_the_contributor_role(app, runner) -> None:
    result = runner.invoke(
        args=["users", "create", "micha@example.com", "--role", "contributor", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    from app.auth.models import User

    user = db.session.scalar(select(User).where(User.email == "micha@example.com"))
    assert user is not None and user.role == "contributor"
