"""Placeholders as assignments (issue 18): handles, ``TODO(@ryan): ...`` owners,
"Waiting on you" / "Waiting on others", and what an assignment lets a
contributor open."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.auth.service import AccountError, create_user
from app.db import db
from app.issues.service import create_issue
from app.rendering.placeholders import scan
from tests.conftest import PASSWORD, login_client

BODY = """## Intro

TODO(@ryan): add the licensing article

* TODO @micha: research article
* TODO: CFFL updates
Ask @ryan: he knows.
"""


@pytest.mark.parametrize(
    ("line", "owner"),
    [
        ("TODO(@ryan): add the licensing article", "ryan"),
        ("TODO @Micha.K: research", "micha.k"),
        ("* todo(@ann-b): links", "ann-b"),
        ("TODO: no owner", None),
        ("TODO(@ryan) later: the colon is not right after the owner", None),
        ("TODO @ryan add (no colon)", None),
    ],
)
def test_a_placeholder_names_its_owner_before_the_colon(line: str, owner: str | None) -> None:
    (found,) = scan(line)
    assert found.owner == owner


def test_prose_that_mentions_a_handle_is_no_placeholder() -> None:
    assert scan("Ask @ryan: he knows.") == []
    assert scan("email ryan@example.com: soon") == []


def test_handles_default_to_the_local_part_and_stay_unique(app) -> None:
    first = create_user("Ryan.Smith+news@example.com", PASSWORD, "contributor")
    second = create_user("ryan.smith@example.org", PASSWORD, "editor")
    chosen = create_user("m@example.com", PASSWORD, "editor", handle="@Micha")
    assert (first.handle, second.handle, chosen.handle) == ("ryan.smith-news", "ryan.smith", "micha")
    third = create_user("ryan.smith@example.net", PASSWORD, "editor")
    assert third.handle == "ryan.smith-2"
    with pytest.raises(AccountError, match="taken"):
        create_user("other@example.com", PASSWORD, "editor", handle="micha")
    with pytest.raises(AccountError, match="not a handle"):
        create_user("bad@example.com", PASSWORD, "editor", handle="-no spaces-")


def test_users_create_takes_a_handle(app, runner) -> None:
    result = runner.invoke(
        args=["users", "create", "r@example.com", "--role", "contributor", "--handle", "ryan", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("@ryan")
    assert db.session.scalar(select(User.handle).where(User.email == "r@example.com")) == "ryan"


@pytest.fixture
def team(app, users):
    ryan = create_user("ryan@example.com", PASSWORD, "contributor", "Ryan Writer")
    db.session.commit()
    issue = create_issue("December issue", user=users["editor"], body=BODY)
    return {"ryan": ryan, "editor": users["editor"], "issue": issue}


def test_waiting_on_you_and_on_others(app, team) -> None:
    ryan, issue = team["ryan"], team["issue"]
    contributor = login_client(app, ryan)
    page = contributor.get("/admin/").get_data(as_text=True)
    assert "Waiting on you" in page
    assert f'/admin/issues/{issue.id}#line-3">December issue, line 3</a>' in page
    assert "TODO(@ryan): add the licensing article" in page
    assert page.count("#line-") == 1  # "Ask @ryan: he knows." is prose, not an item

    editor = login_client(app, team["editor"])
    board = editor.get("/admin/").get_data(as_text=True)
    assert "Waiting on others" in board and "@micha (1), @ryan (1)" in board

    # The editor's placeholder panel names the owners; an unknown handle says so.
    panel = editor.get(f"/admin/issues/{issue.id}").get_data(as_text=True)
    assert "@ryan (Ryan Writer)" in panel and "@micha (no user has this handle)" in panel
    preview = editor.post("/admin/issues/preview", json={"body": BODY, "issue_id": issue.id}).get_json()
    owners = {p["owner"]: p["owner_name"] for p in preview["placeholders"] if p["owner"]}
    assert owners == {"ryan": "Ryan Writer", "micha": None}


def test_an_assignment_lets_the_contributor_in_until_it_is_done(app, team) -> None:
    ryan, issue = team["ryan"], team["issue"]
    contributor = login_client(app, ryan)
    assert contributor.get(f"/admin/issues/{issue.id}").status_code == 200
    assert "December issue" in contributor.get("/admin/issues").get_data(as_text=True)
    done = BODY.replace("TODO(@ryan): add the licensing article", "The licensing article, written.")
    saved = contributor.post(
        f"/admin/issues/{issue.id}/autosave",
        data=json.dumps({"version": issue.version, "body": done}),
        content_type="application/json",
    )
    assert saved.status_code == 200
    # The line is gone: nothing waits on Ryan, and the draft is not theirs any more.
    assert "#line-" not in contributor.get("/admin/").get_data(as_text=True)
    assert contributor.get(f"/admin/issues/{issue.id}").status_code == 403
    assert "December issue" not in contributor.get("/admin/issues").get_data(as_text=True)


def test_an_archive_style_placeholder_proposes_its_owner_but_never_assigns(app, users) -> None:
    from app.issues.assignments import propose_owners
    from app.issues.models import AssignmentRecord

    ryan = create_user("ryan@example.com", PASSWORD, "contributor", "Ryan Writer")
    create_user("m@example.com", PASSWORD, "editor", "Micha Gorelick", handle="micha")
    people = list(db.session.scalars(select(User)))
    found = propose_owners(
        [(0, ": add Ryan's article"), (1, ": link to Hilary's blogpost"), (2, ": ask micha"), (3, ": Ryan and Micha")],
        people,
    )
    assert {index: user.handle for index, user in found.items()} == {0: "ryan", 2: "micha"}  # 3: two people, no guess

    issue = create_issue("December issue", user=users["editor"], body="TODO: add Ryan's article\n")
    db.session.commit()
    client = login_client(app, users["editor"])
    preview = client.post("/admin/issues/preview", json={"body": issue.body, "issue_id": issue.id}).get_json()
    (placeholder,) = preview["placeholders"]
    assert placeholder["owner"] is None and placeholder["proposed"] == {"handle": "ryan", "name": "Ryan Writer"}
    assert 'data-proposed-handle="ryan"' in client.get(f"/admin/issues/{issue.id}").get_data(as_text=True)
    assert db.session.scalar(select(AssignmentRecord)) is None  # a proposal is no assignment
    assert "#line-" not in login_client(app, ryan).get("/admin/").get_data(as_text=True)
