"""Security sweep (issue 10), injection part: email header injection, path
traversal through media names and URLs, formula (CSV) injection in exports,
SSRF through SNS URLs. Every case either produces a clean result (checked by
parsing it) or is refused with a clear 4xx / domain error; never a 500.

The number of cases per family is recorded in ``CASES`` and quoted in SECURITY.md."""

from __future__ import annotations

import csv
import io
import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.db import db
from app.issues.service import create_issue
from app.mail import HeaderInjectionError as InvalidHeaderError
from app.mail.transactional import send_transactional
from app.rendering.message import HeaderInjectionError, Recipient, build_message, prepare_issue_message
from app.subscribers.lists import ListError, create_list
from app.subscribers.service import add_subscriber
from tests.support.jobs import run_jobs


def _prepare(issue, sender=None):  # noqa: ANN001,ANN202
    from flask import current_app

    from tests.support.rendering import render

    return prepare_issue_message(render(issue), sender=sender or current_app.config["FROM"])


# Line breaks typed directly, and hidden in RFC 2047 encoded words that the
# stdlib header registry would decode and fold out as a separate header.
HEADER_ATTACKS = [
    "Hi\r\nBcc: victim@evil.example",
    "Hi\nBcc: victim@evil.example",
    "Hi\rBcc: victim@evil.example",
    "Hi\x00Bcc: victim@evil.example",
    "=?utf-8?q?Hi=0D=0ABcc:_victim@evil.example?=",
    "=?utf-8?b?SGkNCkJjYzogdmljdGltQGV2aWwuZXhhbXBsZQ==?=",
    "Hi =?us-ascii?q?=0ABcc=3A_victim=40evil=2Eexample?= there",
]
INJECTED = ("bcc", "cc", "x-injected")


def _outbox(app) -> Path:
    return Path(app.config["TRANSPORT"].removeprefix("outbox:"))


def _outbox_messages(app) -> list:
    folder = _outbox(app)
    return (
        [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]
        if folder.exists()
        else []
    )


def _assert_clean(message, expected: set[str]) -> None:
    names = {name.lower() for name in message}
    assert not names & set(INJECTED), names
    assert names <= expected, names - expected
    assert len(message.get_all("To") or []) == 1


# --- header injection ---------------------------------------------------------------

BULK_HEADERS = {
    "from",
    "subject",
    "mime-version",
    "list-unsubscribe-post",
    "content-type",
    "to",
    "date",
    "message-id",
    "list-unsubscribe",
}
ONE_OFF_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
}


@pytest.mark.parametrize("attack", HEADER_ATTACKS)
def test_bulk_message_subject_and_sender_refuse_line_breaks(app, users, attack):
    from app.issues.models import Issue

    # Transient, like the editor preview: NUL could not even be stored on PostgreSQL.
    issue = Issue(title="Header test", slug="header-test", subject=attack, body="Hello.", excluded_event_ids=[])
    with pytest.raises(HeaderInjectionError, match="subject"):
        _prepare(issue)
    issue.subject = "Fine subject"
    with pytest.raises(HeaderInjectionError, match="sender"):
        _prepare(issue, sender=f"{attack} <news@example.com>")
    app.config["FROM"] = f"{attack} <news@example.com>"
    with pytest.raises(HeaderInjectionError):
        _prepare(issue)


@pytest.mark.parametrize("attack", HEADER_ATTACKS)
def test_bulk_message_recipient_name_cannot_add_headers(app, users, attack):
    issue = create_issue("Header test", user=users["editor"], subject="Plain subject", body="Hello.")
    prepared = _prepare(issue)
    message = build_message(
        prepared, Recipient(email="reader@example.com", name=attack, unsubscribe_url="https://x.example/u/1")
    )
    parsed = message_from_bytes(message.raw, policy=policy.default)
    _assert_clean(parsed, BULK_HEADERS)
    assert parsed["To"].addresses[0].addr_spec == "reader@example.com"
    assert "\n" not in str(parsed["To"]) and "\r" not in str(parsed["To"])
    assert message.recipient == "reader@example.com"


@pytest.mark.parametrize("attack", HEADER_ATTACKS)
def test_transactional_mail_refuses_injected_subject(app, attack):
    with pytest.raises(InvalidHeaderError, match="line breaks"):
        send_transactional("reader@example.com", attack, "body")
    assert _outbox_messages(app) == []


@pytest.mark.parametrize("attack", HEADER_ATTACKS)
def test_list_from_address_with_line_breaks_is_refused(app, admin_client, attack):
    with pytest.raises(ListError):
        create_list("Senders", from_address=f"{attack} <news@example.com>")
    mailing = create_list("Readers")
    response = admin_client.post(
        f"/admin/subscribers/lists/{mailing.id}",
        data={"name": "Readers", "from_address": f"{attack} <news@example.com>"},
    )
    if response.status_code < 400:
        # Accepted only in a form that cannot inject: the header built from it parses cleanly.
        db.session.refresh(mailing)
        issue = create_issue("From test", user=None, subject="Plain", body="Hi.")
        prepared = _prepare(issue, sender=mailing.from_address)
        raw = build_message(prepared, Recipient("r@example.com", "", unsubscribe_url="https://x.example/u")).raw
        _assert_clean(message_from_bytes(raw, policy=policy.default), BULK_HEADERS)
    else:
        assert response.status_code == 400


@pytest.mark.parametrize("attack", HEADER_ATTACKS)
def test_confirmation_mail_with_hostile_names_has_no_extra_header(app, client, attack):
    """List name, subscriber name and the newsletter name (a setting) all reach the confirmation mail."""
    from app.settings import set_setting

    storable = "\x00" not in attack  # NUL is refused at the door (400), so it never reaches a table
    mailing = create_list(f"News {attack}" if storable else "News", public=True)
    if storable:
        set_setting("newsletter_name", attack)
    response = client.post("/subscribe", data={"email": "new@example.com", "name": attack, "list": str(mailing.id)})
    run_jobs(app)
    assert response.status_code < 500
    if not storable:
        assert response.status_code == 400
    for message in _outbox_messages(app):
        _assert_clean(message, ONE_OFF_HEADERS)
    set_setting("newsletter_name", "Pressroom News")
    client.post(
        "/subscribe",
        data={"email": "second@example.com", "list": str(mailing.id), "name": attack if storable else "Second"},
    )
    run_jobs(app)
    sent = _outbox_messages(app)
    assert sent, "a harmless newsletter name must still produce the confirmation"
    for message in sent:
        _assert_clean(message, ONE_OFF_HEADERS)


@pytest.mark.parametrize("attack", HEADER_ATTACKS)
def test_test_send_with_injected_subject_is_refused_cleanly(app, editor_client, users, attack):
    issue = create_issue("Test send", user=users["editor"], subject="Plain", body="Hello.")
    saved = editor_client.post(
        f"/admin/issues/{issue.id}",
        data={"version": issue.version, "title": "Test send", "subject": attack, "preheader": "", "body": "Hello."},
    )
    assert saved.status_code in (302, 400)
    response = editor_client.post(f"/admin/issues/{issue.id}/test-send", data={"addresses": "me@example.com"})
    if saved.status_code == 302:  # stored as typed: the test send refuses it, with a message
        db.session.refresh(issue)
        assert issue.subject == attack
        assert response.status_code == 400
        assert b"line breaks" in response.data
        assert _outbox_messages(app) == []
    else:  # refused at save: the test send goes out with the old subject, cleanly
        assert [str(m["Subject"]) for m in _outbox_messages(app)] == ["[TEST] Plain"]
        _assert_clean(_outbox_messages(app)[0], ONE_OFF_HEADERS)


def test_nul_in_any_admin_form_is_refused_before_it_reaches_a_table(app, editor_client, users):
    """PostgreSQL cannot store NUL: without the check at the door these were 500s there."""
    issue = create_issue("Plain", user=users["editor"], body="Hello.")
    mailing = create_list("Readers")
    forms = {
        "/admin/issues/new": {"title": "A\x00B"},
        f"/admin/issues/{issue.id}": {"version": "1", "title": "T", "subject": "S", "body": "x\x00y"},
        "/admin/events/new": {"title": "E\x00", "start": "2030-01-01 10:00", "timezone": "UTC"},
        "/admin/subscribers/add": {"email": "n@example.com", "name": "N\x00", "list_id": str(mailing.id)},
        "/admin/subscribers/lists": {"name": "L\x00"},
        "/subscribe": {"email": "x@example.com", "name": "\x00", "list": str(mailing.id)},
    }
    for path, data in forms.items():
        response = editor_client.post(path, data=data)
        assert response.status_code == 400, (path, response.status_code)
    autosave = editor_client.post(f"/admin/issues/{issue.id}/autosave", json={"version": 1, "body": "a\u0000"})
    assert autosave.status_code == 400
    assert editor_client.get("/admin/issues", query_string={"q": "\x00"}).status_code == 400
    db.session.refresh(issue)
    assert issue.body == "Hello." and issue.version == 1


@pytest.mark.parametrize("attack", HEADER_ATTACKS[:1] + HEADER_ATTACKS[4:5])
def test_preflight_blocks_a_send_with_an_injected_subject(app, users, attack):
    from app.sending.service import SendError, create_send
    from tests.support.rendering import preflight

    mailing = create_list("Readers")
    issue = create_issue("Blocked", user=users["editor"], subject=attack, body="Hello.", lists=[mailing])
    assert "header-injection" in {p.code for p in preflight(issue)}
    with pytest.raises(SendError):
        create_send(issue, [mailing])


# --- path traversal -------------------------------------------------------------------


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


SENTINEL = b"\x89PNG\r\n\x1a\nSENTINEL-OUTSIDE-MEDIA"
UPLOAD_NAMES = [
    "../../etc/passwd.png",
    "..\\..\\x.png",
    "%2e%2e/%2e%2e/x.png",
    "/etc/passwd.png",
    "/tmp/abs.png",
    "C:\\Windows\\x.png",
    "ok\x00.png",
    "....//x.png",
    ".hidden.png",
    "..png",
    "a/../../b.png",
    "images/../../../x.png",
    "\u2025/x.png",
    "x.png/..",
]
URL_PATHS = [
    "../sentinel.png",
    "..%2fsentinel.png",
    "%2e%2e/sentinel.png",
    "%2e%2e%2fsentinel.png",
    "..%5csentinel.png",
    "....//sentinel.png",
    "images/../../sentinel.png",
    "%252e%252e%252fsentinel.png",
    "/sentinel.png",
    "//sentinel.png",
    "%2Fsentinel.png",
    "images/%00/../../sentinel.png",
    "..;/sentinel.png",
    "images/..%c0%afsentinel.png",
]


@pytest.fixture
def media_root(app) -> Path:
    root = Path(app.config["MEDIA_URL"].removeprefix("file://"))
    root.mkdir(parents=True, exist_ok=True)
    # Sentinels just outside the media folder, at the places a traversal would reach.
    for place in (root.parent / "sentinel.png", root.parent / "images" / "sentinel.png"):
        place.parent.mkdir(parents=True, exist_ok=True)
        place.write_bytes(SENTINEL)
    return root


def _files_outside(root: Path) -> set[Path]:
    return {p for p in root.parent.rglob("*") if p.is_file() and root not in p.parents}


def test_upload_names_cannot_write_outside_the_media_folder(app, editor_client, media_root):
    from app.media.models import MediaItem

    before = _files_outside(media_root)
    for name in UPLOAD_NAMES:
        response = editor_client.post(
            "/admin/media/upload", content_type="multipart/form-data", data={"files": (io.BytesIO(_png()), name)}
        )
        assert response.status_code in (302, 400), (name, response.status_code)
    assert _files_outside(media_root) == before
    for item in db.session.scalars(select(MediaItem)):
        assert item.path.startswith("images/") and ".." not in item.path
        assert (media_root / item.path).resolve().is_relative_to(media_root.resolve())
    # A plain name still works (the checks above are not vacuous).
    ok = editor_client.post(
        "/admin/media/upload", content_type="multipart/form-data", data={"files": (io.BytesIO(_png()), "fine.png")}
    )
    assert ok.status_code == 302


def test_import_paths_cannot_escape_the_media_folder(app, media_root):
    from app.media.service import MediaError, import_file

    before = _files_outside(media_root)
    for path in [
        "images/../../x.png",
        "/images/../x.png",
        "images/..\\x.png",
        "images/\x00.png",
        "../images/x.png",
        "images//etc/x.png",
        "images/./x.png",
        "etc/passwd.png",
    ]:
        with pytest.raises(MediaError):
            import_file(path, _png())
    assert _files_outside(media_root) == before


@pytest.mark.parametrize("prefix", ["/media/", "/images/"])
def test_media_urls_never_serve_files_outside_the_media_folder(app, client, media_root, prefix):
    from app.media.service import upload

    item = upload("real.png", _png())
    served = client.get(f"/media/{item.path}")
    assert served.status_code == 200 and served.data.startswith(b"\x89PNG")  # control: serving works
    for path in URL_PATHS:
        response = client.get(prefix + path)
        assert response.status_code in (301, 302, 308, 400, 404), (path, response.status_code)
        assert SENTINEL not in response.data, path
        if response.status_code in (301, 302, 308):
            followed = client.get(response.headers["Location"])
            assert SENTINEL not in followed.data, path


# --- CSV injection --------------------------------------------------------------------

FORMULAS = [
    "=1+2",
    "+1+2",
    "-1+2",
    "@SUM(A1:A2)",
    "\t=1+2",
    "\r=1+2",
    '=HYPERLINK("http://evil")',
    "=cmd|' /C calc'!A0",
]
FORMULA_EMAILS = ["=1+2@example.com", "+1@example.com", "-1@example.com", "=cmd@example.com"]


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _assert_formula_safe(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_subscriber_export_neutralises_formulas(app, admin_client):
    mailing = create_list("=Formula list")
    for index, name in enumerate(FORMULAS):
        add_subscriber(f"reader{index}@example.com", name, mailing)
    for email in FORMULA_EMAILS:
        add_subscriber(email, "plain", mailing)
    response = admin_client.get(f"/admin/subscribers/lists/{mailing.id}/export.csv")
    assert response.status_code == 200
    rows = _cells(response.get_data(as_text=True))
    _assert_formula_safe(rows)
    names = {row[1] for row in rows[1:]}
    # Kept readable: the value follows a leading apostrophe (whitespace names are collapsed on input).
    assert {"'=1+2", "'+1+2", "'-1+2", "'@SUM(A1:A2)"} <= names
    assert {"'" + e for e in FORMULA_EMAILS} <= {row[0] for row in rows[1:]}
    assert len(rows) == 1 + len(FORMULAS) + len(FORMULA_EMAILS)


def test_report_csv_neutralises_formulas(app, admin_client):
    from tests.support.reports import deliveries, make_send
    from tests.support.sending import recount_sends

    send = make_send(recipients=len(FORMULAS))
    emails = FORMULA_EMAILS * 2
    for delivery, formula, email in zip(deliveries(send), FORMULAS, emails, strict=True):
        delivery.email = email
        delivery.status = "failed"
        delivery.error = formula
    send.lists[0].name = "@list"
    db.session.flush()
    recount_sends()
    db.session.commit()
    response = admin_client.get(f"/admin/reports/{send.id}.csv")
    assert response.status_code == 200
    rows = _cells(response.get_data(as_text=True))
    _assert_formula_safe(rows)
    assert len(rows) == 1 + len(FORMULAS)
    flat = {cell for row in rows[1:] for cell in row}
    assert {"'=1+2", "'@list", "'=1+2@example.com"} <= flat


# --- SSRF through SNS URLs ------------------------------------------------------------

HOSTILE_URLS = [
    "http://127.0.0.1:9/x.pem",
    "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-1.pem",
    "https://user@sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-1.pem",
    "https://sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-1.pem",
    "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem",
    "file:///etc/passwd",
    "https://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://sns.us-east-1.amazonaws.com\\@evil.com/x.pem",
    "https://sns.us-east-1.amazonaws.com%2F@evil.com/x.pem",
    "https://SNS.US-EAST-1.AMAZONAWS.COM.evil.com/x.pem",
    "gopher://127.0.0.1:6379/_INFO",
]


@pytest.fixture
def sns_app(app_config):
    from tests.support.sns_signing import TOPIC_ARN, FakeSnsSession

    app_config["SNS_TOPIC_ARNS"] = TOPIC_ARN
    app_config["SNS_HTTP_SESSION"] = FakeSnsSession()
    return app_config


def _sns_rows() -> int:
    from app.sending.models import FeedbackEvent, SnsMessage

    return db.session.scalar(select(func.count()).select_from(SnsMessage)) + db.session.scalar(
        select(func.count()).select_from(FeedbackEvent)
    )


def _only_sns_hosts(requested: list[str]) -> None:
    from app.sending.sns import is_sns_url

    assert all(is_sns_url(url, host="sns.us-east-1.amazonaws.com") for url in requested), requested


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_signing_cert_url_off_sns_is_never_fetched(sns_app, app, client, url):
    from tests.support.sns_signing import notification, ses_event

    session = app.config["SNS_HTTP_SESSION"]
    for message in (
        notification(ses_event("Open", "m-1"), cert_url=url),
        notification(ses_event("Bounce", "m-2"), cert_url=url, version="1"),
    ):
        response = client.post("/webhooks/ses", data=json.dumps(message), content_type="text/plain")
        assert 400 <= response.status_code < 500
    assert session.requested == []
    assert _sns_rows() == 0


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_subscribe_url_off_the_signing_host_is_never_fetched(sns_app, app, client, url):
    from tests.support.sns_signing import subscription_confirmation

    session = app.config["SNS_HTTP_SESSION"]
    response = client.post(
        "/webhooks/ses", data=json.dumps(subscription_confirmation(subscribe_url=url)), content_type="text/plain"
    )
    assert 400 <= response.status_code < 500
    _only_sns_hosts(session.requested)  # at most the (genuine) signing certificate
    assert url not in session.requested
    assert _sns_rows() == 0
    # Control: the genuine confirmation is fetched from SNS and recorded.
    good = client.post("/webhooks/ses", data=json.dumps(subscription_confirmation()), content_type="text/plain")
    assert good.status_code == 200
    assert any("Action=ConfirmSubscription" in u for u in session.requested)


def test_nul_in_uploaded_files_and_their_names_is_handled(app, admin_client):
    """Imported files are untrusted: NUL in a name is refused, inside a file it is dropped or reported."""
    from app.issues.models import Issue
    from app.subscribers.service import find_subscriber

    csv_upload = admin_client.post(
        "/admin/subscribers/import",
        content_type="multipart/form-data",
        data={
            "file": (io.BytesIO(b"email,name\na@example.com,A\x00B\nb@example.com,Bea\n"), "x.csv"),
            "list_name": "Imported",
            "status": "active",
        },
    )
    assert csv_upload.status_code == 302
    run_jobs(app)
    assert find_subscriber("a@example.com") is None and find_subscriber("b@example.com") is not None
    for path, field, name in [
        ("/admin/subscribers/import", "file", "x\x00.csv"),
        ("/admin/issues/import", "files", "2020-01-02-y\x00-public.md"),
    ]:
        data = {field: (io.BytesIO(b"email\nc@example.com\n"), name), "list_name": "L"}
        response = admin_client.post(path, content_type="multipart/form-data", data=data)
        assert response.status_code == 400, path
    jekyll = admin_client.post(
        "/admin/issues/import",
        content_type="multipart/form-data",
        data={"files": (io.BytesIO(b"---\nlayout: newsletter\n---\nHello \x00world\n"), "2020-01-01-x-public.md")},
    )
    assert jekyll.status_code == 200
    bodies = [issue.body for issue in db.session.scalars(select(Issue))]
    assert bodies and all("\x00" not in body for body in bodies) and any("Hello world" in b for b in bodies)
