"""The brand settings (issue 16): the sender is asked of SES when SES delivers
(refused with the reason if unverified, saved with a warning if SES cannot be
asked), addresses and the accent colour are checked, and the From, Reply-To
and confirmation mails use them."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import boto3

from app.db import db
from app.sending import service
from app.sending.worker import worker_for
from app.settings import get_setting, newsletter_sender, set_setting
from app.subscribers.lists import create_list
from tests.support.jobs import run_jobs
from tests.support.sending import make_issue, make_list

FORM = {"newsletter_name": "Fast Forward Labs", "reader_timezone": "UTC", "events_window_days": "60"}


def _save(client, **fields):
    return client.post("/admin/settings", data={**FORM, **fields}, follow_redirects=True)


def test_an_unverified_ses_sender_is_refused_with_the_reason(app, aws, admin_client) -> None:
    app.config.update(TRANSPORT="ses")
    refused = _save(admin_client, sender_name="FFL", sender_address="news@fastforwardlabs.com")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "SES has not verified news@fastforwardlabs.com or fastforwardlabs.com" in page
    assert get_setting("sender_address") == ""  # nothing saved

    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="fastforwardlabs.com")
    saved = _save(admin_client, sender_name="FFL", sender_address="news@fastforwardlabs.com")
    assert saved.status_code == 200 and "Settings saved." in saved.get_data(as_text=True)
    assert newsletter_sender() == "FFL <news@fastforwardlabs.com>"


def test_when_ses_cannot_be_asked_the_sender_is_saved_with_a_warning(app, admin_client, monkeypatch) -> None:
    app.config.update(TRANSPORT="ses")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SES", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    saved = _save(admin_client, sender_address="news@example.org")
    page = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "Settings saved." in page
    assert "SES could not be asked whether news@example.org is verified" in page
    assert get_setting("sender_address") == "news@example.org"


def test_bad_brand_values_are_refused_and_nothing_is_lost(app, admin_client) -> None:
    set_setting("accent_color", "#123456")
    response = _save(
        admin_client, accent_color="red;background:url(x)", reply_to="not an address", logo="images/nope.png"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter a colour as #rrggbb" in page and "Not an email address" in page
    assert "No image with that path in the media library" in page
    assert get_setting("accent_color") == "#123456"  # kept


def test_the_sender_and_reply_to_reach_the_newsletter_and_its_confirmations(app, client) -> None:
    set_setting("sender_name", "Fast Forward Labs")
    set_setting("sender_address", "news@example.org")
    set_setting("reply_to", "team@example.org")
    readers = make_list("weekly", 1)
    issue = make_issue()
    service.create_send(issue, [readers])
    db.session.commit()
    worker_for(app).run(once=True)
    create_list("News", public=True)
    client.post("/subscribe", data={"email": "new@example.com", "list": []})
    run_jobs(app)
    folder = Path(app.config["TRANSPORT"].removeprefix("outbox:"))
    mails = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in folder.glob("*.eml")]
    issue_mail = next(m for m in mails if m["To"].addresses[0].addr_spec == "r0@example.com")
    assert str(issue_mail["From"]) == "Fast Forward Labs <news@example.org>"
    assert str(issue_mail["Reply-To"]) == "team@example.org"
    confirmation = next(m for m in mails if m["To"].addresses[0].addr_spec == "new@example.com")
    assert str(confirmation["From"]) == "Fast Forward Labs <news@example.org>"
