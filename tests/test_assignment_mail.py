"""The owner of a placeholder is told (issue 18): one mail when a line names
them, never twice, per their setting (immediately, a daily digest, off), from
durable jobs in the worker."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.auth.models import User
from app.auth.service import create_user
from app.db import db, utcnow
from app.issues.models import AssignmentRecord
from app.issues.service import create_issue, save_issue
from tests.conftest import PASSWORD, login_client
from tests.support.jobs import run_jobs
from tests.support.outbox import outbox_mails

LINE = "TODO(@ryan): add the licensing article"


def _to(app, address: str) -> list:
    return [m for m in outbox_mails(app) if m["To"] == address]


def test_the_owner_is_mailed_once_with_a_link_to_the_line(app, users) -> None:
    ryan = create_user("ryan@example.com", PASSWORD, "contributor", "Ryan Writer")
    issue = create_issue("December issue", user=users["editor"], body=f"## Intro\n\n{LINE}\n")
    assert run_jobs(app) >= 1
    (mail,) = _to(app, "ryan@example.com")
    assert mail["Subject"] == "Eddie Editor assigned you a placeholder"
    text = mail.get_content()
    assert "“December issue”, line 3" in text and LINE in text
    assert f"{app.config['BASE_URL']}/admin/issues/{issue.id}#line-3" in text
    assert "/admin/account" in text

    # Saving again, moving the line, or the line going and coming back: no second mail.
    save_issue(issue, base_version=issue.version, user=users["editor"], body=f"## Intro\n\nMore.\n\n{LINE}\n")
    save_issue(issue, base_version=issue.version, user=users["editor"], body="## Intro\n\nDone.\n")
    record = db.session.scalar(select(AssignmentRecord))
    assert record is not None and record.done_at is not None
    save_issue(issue, base_version=issue.version, user=users["editor"], body=f"## Intro\n\n{LINE}\n")
    run_jobs(app)
    assert len(_to(app, "ryan@example.com")) == 1
    db.session.refresh(record)
    assert record.done_at is None and record.notified_at is not None
    assert ryan.handle == "ryan"


def test_off_self_and_unknown_owners_get_nothing(app, users) -> None:
    ryan = create_user("ryan@example.com", PASSWORD, "contributor", "Ryan Writer")
    ryan.notify = "off"
    body = f"{LINE}\n\nTODO(@editor): the intro\n\nTODO(@nobody): x\n"
    create_issue("December issue", user=users["editor"], body=body)  # @editor is the author's own handle
    run_jobs(app)
    assert outbox_mails(app) == []
    assert db.session.scalar(select(AssignmentRecord).where(AssignmentRecord.notified_at.is_(None))) is None


def test_a_digest_user_gets_one_mail_a_day_with_everything_new(app, users) -> None:
    ryan = create_user("ryan@example.com", PASSWORD, "contributor", "Ryan Writer")
    ryan.notify = "digest"
    create_issue("December issue", user=users["editor"], body=f"{LINE}\n")
    create_issue("January issue", user=users["editor2"], body="TODO @ryan: research article\n")
    run_jobs(app)
    assert _to(app, "ryan@example.com") == []  # not immediately
    # The daily job (periodic in the worker), its time come:
    db.session.execute(update(AssignmentRecord).values(created_at=utcnow() - timedelta(hours=1)))
    from app.jobs import enqueue

    enqueue("issues.assignment_digest")
    run_jobs(app)
    (mail,) = _to(app, "ryan@example.com")
    assert mail["Subject"] == "2 placeholders waiting on you"
    text = mail.get_content()
    assert "“December issue”, line 1" in text and "“January issue”, line 1" in text
    enqueue("issues.assignment_digest")
    run_jobs(app)
    assert len(_to(app, "ryan@example.com")) == 1


def test_the_digest_is_a_periodic_job_of_the_worker(app) -> None:
    from app.jobs import runner

    assert "issues.assignment_digest" in runner("w", app).periodic


def test_the_account_page_sets_how_a_user_is_told(app, users) -> None:
    client = login_client(app, users["editor"])
    page = client.get("/admin/account").get_data(as_text=True)
    assert "@editor" in page and 'value="immediately" checked' in page
    assert client.post("/admin/account/notifications", data={"notify": "digest"}).status_code == 302
    db.session.refresh(users["editor"])
    assert users["editor"].notify == "digest"
    refused = client.post("/admin/account/notifications", data={"notify": "hourly"})
    assert refused.status_code == 400 and "Choose one of" in refused.get_data(as_text=True)


def test_an_open_placeholder_gets_one_reminder_at_the_lead_time(app, users) -> None:
    from datetime import date

    from app.jobs import enqueue

    create_user("ryan@example.com", PASSWORD, "contributor", "Ryan Writer")
    create_issue("Soon", user=users["editor"], body=f"{LINE}\n", issue_date=date.today() + timedelta(days=1))
    create_issue("Later", user=users["editor"], body=f"{LINE}\n", issue_date=date.today() + timedelta(days=30))
    done = create_issue(
        "Done soon", user=users["editor"], body=f"{LINE}\n", issue_date=date.today() + timedelta(days=1)
    )
    save_issue(done, base_version=done.version, user=users["editor"], body="Written.\n")
    for _ in range(3):  # the worker's jobs (the hourly reminder job among them), three times: one reminder
        enqueue("issues.assignment_reminders")
        run_jobs(app)
    assigned = [m for m in _to(app, "ryan@example.com") if m["Subject"] == "Eddie Editor assigned you a placeholder"]
    assert sorted(m.get_content().split("“")[1].split("”")[0] for m in assigned) == [
        "Later",
        "Soon",
    ]  # not the done one
    reminders = [m for m in _to(app, "ryan@example.com") if m["Subject"].startswith("Reminder")]
    assert len(reminders) == 1
    assert "“Soon”" in reminders[0].get_content() and "still open" in reminders[0].get_content()

    board = (
        login_client(app, db.session.scalar(select(User).where(User.handle == "ryan")))
        .get("/admin/")
        .get_data(as_text=True)
    )
    assert "overdue since" in board and "due " in board  # Soon is within 48 h; Later is not yet


def test_the_reminders_run_hourly_in_the_worker(app) -> None:
    from app.jobs import runner

    assert runner("w", app).periodic["issues.assignment_reminders"] == timedelta(hours=1)
