"""Comments on a draft's lines (issue 18): anchored to a line range and
following their line as the text above changes, resolvable, @-mentions mailed
like assignments, never in what readers get and never in preflight."""

from __future__ import annotations

import json

from app.auth.service import create_user
from app.db import db
from app.issues.rendering import preflight, render
from app.issues.service import create_issue, save_issue
from tests.conftest import PASSWORD, login_client
from tests.support.jobs import run_jobs
from tests.support.outbox import outbox_mails

BODY = "## Intro\n\nWelcome.\n\nThe licensing article.\n"


def test_comment_follow_resolve_and_never_reach_readers(app, users) -> None:
    issue = create_issue("December issue", user=users["editor"], body=BODY)
    db.session.commit()
    client = login_client(app, users["editor"])
    url = f"/admin/issues/{issue.id}/comments"
    made = client.post(url, json={"line_from": 5, "line_to": 5, "body": "Needs a source <b>here</b>."})
    assert made.status_code == 201
    (comment,) = made.get_json()["comments"]
    assert (comment["line_from"], comment["quote"], comment["author"]) == (5, "The licensing article.", "Eddie Editor")

    # Two lines added above: the comment moves with its line.
    save_issue(issue, base_version=issue.version, user=users["editor"], body="# Title\n\n" + BODY)
    db.session.commit()
    (moved,) = client.get(f"{url}.json").get_json()["comments"]
    assert moved["line_from"] == 7

    rendered = render(issue)
    assert "Needs a source" not in rendered.email_html + rendered.web_html + rendered.text
    assert not any("source" in problem.message for problem in preflight(issue))

    assert client.post(f"{url}/{comment['id']}/resolve").get_json()["comments"] == []
    assert client.get(f"{url}.json").get_json()["comments"] == []


def test_bad_comments_are_refused_with_a_reason(app, users) -> None:
    issue = create_issue("December issue", user=users["editor"], body=BODY)
    other = create_issue("Other", user=users["editor"], body=BODY)
    db.session.commit()
    client = login_client(app, users["editor"])
    url = f"/admin/issues/{issue.id}/comments"
    cases = [
        ({"line_from": 1, "line_to": 1, "body": "   "}, "Write something"),
        ({"line_from": 1, "line_to": 1, "body": "x" * 2001}, "at most 2000"),
        ({"line_from": 3, "line_to": 2, "body": "x"}, "not lines"),
        ({"line_from": 40, "line_to": 40, "body": "x"}, "not in the text"),
        ({"line_from": "one", "line_to": 1, "body": "x"}, "which lines"),
        ({"lines": 1}, "Expected a JSON object"),
    ]
    for payload, reason in cases:
        response = client.post(url, json=payload)
        assert response.status_code == 400 and reason in response.get_json()["error"], payload
    made = client.post(f"/admin/issues/{other.id}/comments", json={"line_from": 1, "line_to": 1, "body": "x"})
    cid = made.get_json()["comments"][0]["id"]
    assert client.post(f"{url}/{cid}/resolve").status_code == 404  # not this issue's comment
    assert client.post(url, data="not json", content_type="application/json").status_code == 400


def test_a_mention_mails_like_an_assignment_and_contributors_stay_in_their_drafts(app, users) -> None:
    ryan = create_user("ryan@example.com", PASSWORD, "contributor", "Ryan Writer")
    issue = create_issue("December issue", user=users["editor"], body=BODY)
    mine = create_issue("Ryan's draft", user=ryan, body=BODY)
    db.session.commit()
    editor = login_client(app, users["editor"])
    editor.post(
        f"/admin/issues/{issue.id}/comments",
        data=json.dumps({"line_from": 5, "line_to": 5, "body": "@ryan can you check this? cc @editor"}),
        content_type="application/json",
    )
    run_jobs(app)
    mails = [m for m in outbox_mails(app) if m["To"] == "ryan@example.com"]
    assert [m["Subject"] for m in mails] == ["Eddie Editor mentioned you in a comment"]
    text = mails[0].get_content()
    assert "@ryan can you check this?" in text and f"/admin/issues/{issue.id}#line-5" in text
    assert not [m for m in outbox_mails(app) if m["To"] == "editor@example.com"]  # not told of their own comment

    contributor = login_client(app, ryan)
    assert contributor.get(f"/admin/issues/{issue.id}/comments.json").status_code == 403
    assert (
        contributor.post(
            f"/admin/issues/{issue.id}/comments", json={"line_from": 1, "line_to": 1, "body": "x"}
        ).status_code
        == 403
    )
    own = contributor.post(f"/admin/issues/{mine.id}/comments", json={"line_from": 1, "line_to": 1, "body": "ok"})
    assert own.status_code == 201
