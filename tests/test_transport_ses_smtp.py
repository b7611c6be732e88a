"""SES v2 and SMTP transports: what they send and how they classify errors."""

from __future__ import annotations

import email

import boto3
import pytest
import requests
from aiosmtpd.controller import Controller

from app.mail import (
    OutgoingMessage,
    PermanentError,
    ThrottledError,
    TransientError,
    get_transport,
)
from app.mail.ses import SesTransport
from app.mail.smtp import SmtpTransport
from tests.conftest import free_port
from tests.support.fake_ses import FakeSes

RAW = b"From: newsletter@example.com\r\nTo: reader@example.com\r\nSubject: Hi\r\n\r\nHello\r\n"


def message(recipient: str = "reader@example.com") -> OutgoingMessage:
    return OutgoingMessage(
        "newsletter@example.com",
        recipient,
        RAW.replace(b"reader@example.com", recipient.encode()),
        tags={"send": "7", "issue": "3"},
    )


def test_ses_sends_raw_with_tags_and_configuration_set(app, aws):
    client = boto3.client("sesv2")
    client.create_email_identity(EmailIdentity="newsletter@example.com")
    client.create_configuration_set(ConfigurationSetName="pressroom")
    app.config.update(TRANSPORT="ses", SES_CONFIGURATION_SET="pressroom")
    transport = get_transport()
    assert isinstance(transport, SesTransport)
    assert transport.client.meta.config.retries["total_max_attempts"] == 1  # no blind retries
    message_id = transport.send(message())
    sent = requests.get(f"{aws}/moto-api/data.json", timeout=10).json()["ses"]["RawMessage"]
    assert [m["id"] for m in sent] == [message_id]
    assert email.message_from_string(sent[0]["raw_data"])["Subject"] == "Hi"
    # SES writes its own Feedback-ID into what it delivers: a second one would split Gmail's counts.
    assert email.message_from_string(sent[0]["raw_data"])["Feedback-ID"] is None
    # moto has no SES v2 GetAccount: the v1 quota is read instead.
    quota = transport.read_quota()
    assert quota.max_send_rate == 1.0 and quota.max_24h == 200


def test_ses_unverified_sender_is_a_permanent_failure(app, aws):
    transport = SesTransport.from_environment()
    with pytest.raises(PermanentError, match="MessageRejected"):
        transport.send(message())


def test_ses_throttling_and_5xx_are_transient(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with FakeSes(p_throttle=1.0) as ses:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", ses.url)
        with pytest.raises(ThrottledError):
            SesTransport.from_environment().send(message())
        assert ses.state.throttled == 1  # exactly one request: no automatic retry
    with FakeSes(p_error=1.0) as ses:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", ses.url)
        with pytest.raises(TransientError) as caught:
            SesTransport.from_environment().send(message())
        assert not isinstance(caught.value, ThrottledError) and ses.state.errors == 1
    with FakeSes(rate=5) as ses:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", ses.url)
        assert SesTransport.from_environment().read_quota().max_send_rate == 5


class Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("gone@"):
            return "550 5.1.1 No such user"
        if address.startswith("busy@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 Message accepted"


def test_smtp_transport_against_aiosmtpd():
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        transport = SmtpTransport.from_url(f"smtp://127.0.0.1:{port}")
        assert transport.send(message()).startswith("smtp-")
        assert transport.send(message("second@example.com"))  # connection reused
        with pytest.raises(PermanentError, match="550"):
            transport.send(message("gone@example.com"))
        with pytest.raises(TransientError, match="451"):
            transport.send(message("busy@example.com"))
        assert transport.send(message("third@example.com"))  # still usable after refusals
        transport.close()
    finally:
        controller.stop()
    assert [tos for _, tos, _ in recorder.messages] == [
        ["reader@example.com"],
        ["second@example.com"],
        ["third@example.com"],
    ]
    assert {frm for frm, _, _ in recorder.messages} == {"newsletter@example.com"}
    relayed = email.message_from_bytes(recorder.messages[0][2])
    assert relayed["Subject"] == "Hi"
    # Gmail's feedback loop: the send, the issue, the kind of mail and the sender, never the reader.
    assert relayed.get_all("Feedback-ID") == ["7:3:newsletter:example.com"]
    with pytest.raises(ValueError):
        SmtpTransport.from_url("smtps://x")
