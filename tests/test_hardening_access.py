"""Hardening, access side (issue 13, classes 4, 7, 8, 9, 10): no mail cannon, no
500 from odd numbers or line separators, sessions that end, tokens that never
act on someone else, the smaller findings."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from app.db import db
from app.jobs.models import Job, JobState
from app.subscribers.lists import create_list
from app.subscribers.models import Subscriber
from tests.conftest import PASSWORD, login_client
from tests.support.jobs import run_jobs
from tests.support.outbox import outbox_mails

# --- 4. editors cannot turn the app into a mail cannon ------------------------------


def test_pending_import_confirmations_respect_the_hourly_cap(app, editor_client) -> None:
    app.config["CONFIRMATION_HOURLY_CAP"] = 3
    name = "An editor's list with a very long name that goes on and on to smuggle a message in"
    rows = "email\n" + "".join(f"p{i}@example.com\n" for i in range(5))
    response = editor_client.post(
        "/admin/subscribers/import",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(rows.encode()), "people.csv"), "list_name": name, "status": "pending"},
    )
    assert response.status_code == 302
    assert outbox_mails(app) == []  # nothing is mailed from the web process
    run_jobs(app)
    run_jobs(app)
    mails = outbox_mails(app)
    assert len(mails) == 3  # the cap; the other two wait for the next hour
    waiting = db.session.scalar(select(Job).where(Job.kind == "subscribers.confirmations"))
    assert waiting.state == JobState.QUEUED and len(waiting.payload["subscribers"]) == 2
    text = mails[0].get_body(("plain",)).get_content()
    assert "smuggle a message in" not in text and "…" in text  # list names are cut to 60 characters


def test_an_address_is_never_mailed_twice_within_the_interval(app, editor_client) -> None:
    news = create_list("News")
    for _ in range(2):
        editor_client.post(
            "/admin/subscribers/add", data={"email": "twice@example.com", "list_id": news.id, "status": "pending"}
        )
        run_jobs(app)
    assert len(outbox_mails(app)) == 1


def test_adding_pending_subscribers_stops_at_the_cap(app, editor_client) -> None:
    app.config["CONFIRMATION_HOURLY_CAP"] = 1
    news = create_list("News")
    first = editor_client.post(
        "/admin/subscribers/add", data={"email": "a@example.com", "list_id": news.id, "status": "pending"}
    )
    run_jobs(app)
    second = editor_client.post(
        "/admin/subscribers/add",
        data={"email": "b@example.com", "list_id": news.id, "status": "pending"},
        follow_redirects=True,
    )
    assert first.status_code == 302 and len(outbox_mails(app)) == 1
    assert "the most allowed" in second.get_data(as_text=True)
    assert db.session.scalar(select(Subscriber).where(Subscriber.email == "b@example.com")) is None


# --- 7. no 500 from odd numbers or text --------------------------------------------------

ODD_NUMBERS = ["²", "٣", "99999999999999999999", "18446744073709551616", "-1", "0", "1e3", " 1", "1.0"]


@pytest.mark.parametrize("number", ODD_NUMBERS)
def test_odd_numbers_in_urls_and_queries_are_4xx(admin_client, client, number) -> None:
    from urllib.parse import quote

    value = quote(number)
    for url in (
        f"/admin/issues/{value}",
        f"/admin/sends/{value}",
        f"/admin/subscribers/{value}",
        f"/admin/reports/{value}",
        f"/admin/events/{value}/edit",
        f"/admin/sends/new?issue={value}",
        f"/admin/subscribers?list={value}",
        f"/admin/issues/1/revisions?diff={value}",
    ):
        assert admin_client.get(url).status_code < 500, url
    assert client.get(f"/issues/?page={value}").status_code < 500
    assert admin_client.post("/admin/issues/new", data={"title": "T", "lists": number}).status_code == 400


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x1c"])
def test_unicode_line_breaks_never_reach_a_header(app, admin_client, separator) -> None:
    from app.mail import HeaderInjectionError
    from app.mail.transactional import send_transactional
    from tests.support.rendering import make_issue, preflight

    response = admin_client.post(
        "/admin/settings", data={"newsletter_name": f"News{separator}Bcc: x@evil.example", "events_window_days": "60"}
    )
    assert response.status_code == 400 and "one line" in response.get_data(as_text=True)
    with pytest.raises(HeaderInjectionError):
        send_transactional("reader@example.com", f"Hi{separator}Bcc: x@evil.example", "body")
    problems = preflight(make_issue("Body", subject=f"Hi{separator}Bcc: x@evil.example"))
    assert "header-injection" in {p.code for p in problems}


def test_overlong_media_paths_are_404(client) -> None:
    assert client.get("/media/images/" + "a" * 300 + ".png").status_code == 404
    assert client.get("/images/" + "/".join(["b" * 250] * 3) + ".png").status_code == 404


# --- 8. sessions end when they should -----------------------------------------------------


def _login(app, email: str, password: str = PASSWORD):
    client = app.test_client()
    client.post("/admin/login", data={"email": email, "password": password})
    return client


def _copy(app, client):
    """A second client holding a copy of ``client``'s session cookie (a stolen cookie)."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    return thief


def test_logout_ends_the_session_on_the_server(app, users) -> None:
    client = _login(app, "editor@example.com")
    thief = _copy(app, client)
    assert thief.get("/admin/issues").status_code == 200
    client.post("/admin/logout")
    assert thief.get("/admin/issues").status_code == 302  # the copied cookie no longer works


@pytest.mark.parametrize("command", [["disable"], ["set-role"], ["reset-password"]])
def test_disable_role_change_and_reset_end_sessions(app, users, runner, command) -> None:
    client = _login(app, "editor@example.com")
    assert client.get("/admin/issues").status_code == 200
    args = ["users", *command, "editor@example.com"] + (["admin"] if command == ["set-role"] else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert client.get("/admin/issues").status_code == 302
    if command == ["reset-password"]:
        temporary = result.output.strip().splitlines()[-1]
        fresh = _login(app, "editor@example.com", temporary)
        landing = fresh.get("/admin/issues")
        assert landing.status_code == 302 and landing.headers["Location"].endswith("/admin/account")


def test_admin_page_disables_a_user_at_once(app, users) -> None:
    editor = _login(app, "editor@example.com")
    admin = login_client(app, users["admin"])
    assert admin.post(f"/admin/users/{users['editor'].id}/disable").status_code == 302
    assert editor.get("/admin/issues").status_code == 302
    assert admin.post(f"/admin/users/{users['admin'].id}/disable").status_code == 400  # not yourself


def test_current_password_check_is_rate_limited(app, users) -> None:
    client = login_client(app, users["editor"])
    codes = [
        client.post(
            "/admin/account", data={"current": "wrong password!", "new": "a" * 12, "confirm": "a" * 12}
        ).status_code
        for _ in range(7)
    ]
    assert 429 in codes


# --- 9. erased readers' links act on nobody -----------------------------------------------


def test_a_token_of_an_erased_subscriber_never_acts_on_a_new_one(app, client) -> None:
    from app.sending.erasure import erase_subscriber as delete_subscriber
    from app.subscribers.service import add_subscriber, unsubscribe_token_for

    news = create_list("News", public=True)
    first = add_subscriber("first@example.com", "", news)
    token = unsubscribe_token_for(first.id, news.id)
    first_id = first.id
    delete_subscriber(first)
    # The same id handed out again (what SQLite did without AUTOINCREMENT):
    db.session.add(Subscriber(id=first_id, email="second@example.com", name=""))
    db.session.commit()
    second = db.session.get(Subscriber, first_id)
    add_subscriber("second@example.com", "", news)
    client.post(f"/unsubscribe/{token}", data={"scope": "all"})
    db.session.expire_all()
    assert second.subscriptions[0].status == "active"  # nobody was unsubscribed
    fresh = add_subscriber("third@example.com", "", news)
    assert fresh.id > first_id  # and ids are never handed out twice


def test_v01_tokens_keep_working_for_v01_subscribers(app, client) -> None:
    from app.subscribers.service import add_subscriber
    from app.tokens import unsubscribe_token

    news = create_list("News", public=True)
    old = add_subscriber("old@example.com", "", news)
    old.token_nonce = None  # as the migration leaves subscribers from v0.1
    db.session.commit()
    assert client.post(f"/unsubscribe/{unsubscribe_token(old.id, news.id, None)}").status_code == 200
    db.session.expire_all()
    assert old.subscriptions[0].status == "unsubscribed"
    new = add_subscriber("new@example.com", "", news)
    client.post(f"/unsubscribe/{unsubscribe_token(new.id, news.id, None)}")  # a nonce-less token
    db.session.expire_all()
    assert new.subscriptions[0].status == "active"


# --- 10. the smaller ones ---------------------------------------------------------------


def test_sns_certificate_host_is_exactly_an_sns_region_host() -> None:
    from app.sending.sns import CERT_URL_RE

    assert CERT_URL_RE.fullmatch("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem")
    assert CERT_URL_RE.fullmatch("https://sns.us-gov-west-1.amazonaws.com/a.pem")
    for host in (
        "sns.s3-accelerate.amazonaws.com",
        "sns.evil-1.amazonaws.com",
        "sns.us-east-1.evil.com",
        "sns.useast-1.amazonaws.com",
    ):
        assert not CERT_URL_RE.fullmatch(f"https://{host}/a.pem"), host


def test_certificates_are_cached_and_failures_briefly() -> None:
    from datetime import UTC, datetime

    from app.sending.sns import InvalidMessage, MessageVerifier

    class Session:
        calls = 0

        def get(self, url: str, **kwargs: object) -> object:
            Session.calls += 1
            raise OSError("down")

    verifier = MessageVerifier(topics=["t"], session=Session(), now=lambda: datetime.now(UTC))
    url = "https://sns.us-east-1.amazonaws.com/a.pem"
    for _ in range(3):
        with pytest.raises(InvalidMessage):
            verifier._public_key(url)
    assert Session.calls == 1


def test_webhook_refuses_a_large_body_without_reading_it(client) -> None:
    class Body(io.RawIOBase):
        read_bytes = 0

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return True

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def readinto(self, buffer) -> int:  # noqa: ANN001
            size = len(buffer)
            Body.read_bytes += size
            buffer[:size] = b"x" * size
            return size

    response = client.post(
        "/webhooks/ses",
        input_stream=Body(),
        content_type="text/plain",
        environ_overrides={"CONTENT_LENGTH": str(50 * 1024 * 1024)},
    )
    assert response.status_code == 413 and Body.read_bytes < 2 * 1024 * 1024
    # A body under the declared limit but over ours is cut off at ours, too.
    Body.read_bytes = 0
    response = client.post("/webhooks/ses", data=b"x" * (600 * 1024), content_type="text/plain")
    assert response.status_code == 413


def test_signup_does_the_same_work_for_known_suppressed_and_new_addresses(app, client) -> None:
    from app.subscribers.service import add_subscriber
    from app.subscribers.suppression import suppress
    from tests.test_security_sweep import _state_fingerprint

    news = create_list("News", public=True)
    add_subscriber("known@example.com", "", news)
    suppress("gone@example.com", "manual")
    deltas = []
    for email in ("new@example.com", "known@example.com", "gone@example.com"):
        before = _state_fingerprint()
        assert client.post("/subscribe", data={"email": email}).status_code == 200
        after = _state_fingerprint()
        deltas.append(tuple(b - a for a, b in zip(before, after, strict=True)))
    assert deltas[0] == deltas[1] == deltas[2]  # one job row each, nothing else


def test_per_recipient_report_csv_is_admin_only(app, users) -> None:
    from tests.support.reports import make_send

    send = make_send(2)
    assert login_client(app, users["editor"]).get(f"/admin/reports/{send.id}.csv").status_code == 403
    response = login_client(app, users["admin"]).get(f"/admin/reports/{send.id}.csv")
    assert response.status_code == 200 and re.search(r"reader\d+@example.com", response.get_data(as_text=True))
