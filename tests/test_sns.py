"""SNS signature verification (no network: the certificate is served by a fake session)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.sending.sns import InvalidMessage, MessageVerifier
from tests.support.sns_signing import (
    CERT_URL,
    TOPIC_ARN,
    FakeSnsSession,
    notification,
    sign,
    signing_key,
    subscription_confirmation,
)


def make_verifier() -> tuple[MessageVerifier, FakeSnsSession]:
    session = FakeSnsSession()
    return MessageVerifier(topics=[TOPIC_ARN], session=session), session


@pytest.mark.parametrize("version", ["1", "2"])
def test_valid_messages_of_both_signature_versions_verify(version: str) -> None:
    verifier, session = make_verifier()
    verifier.verify(notification({"eventType": "Open"}, version=version))
    verifier.verify(subscription_confirmation(version=version))
    assert session.requested == [CERT_URL]  # fetched once, then cached


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com@evil.example/SimpleNotificationService-1.pem",
        "https://evil.example@sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem",
        "https://evil.example/sns.us-east-1.amazonaws.com/x.pem",
        "https://sqs.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem?x=1",
        "https://sns.us-east-1.amazonaws.com\\@evil.example/x.pem",
    ],
)
def test_certificate_url_off_an_sns_host_is_refused_without_fetching(url: str) -> None:
    verifier, session = make_verifier()
    with pytest.raises(InvalidMessage, match="SigningCertURL"):
        verifier.verify(notification({}, cert_url=url))
    assert session.requested == []


def test_tampered_message_fails_signature() -> None:
    verifier, _ = make_verifier()
    message = notification({"eventType": "Open"})
    message["Message"] = message["Message"].replace("Open", "Click")
    with pytest.raises(InvalidMessage, match="Signature"):
        verifier.verify(message)


def test_message_signed_by_another_key_fails() -> None:
    verifier, _ = make_verifier()
    message = sign(notification({})) | {}
    forged = sign(
        {k: v for k, v in message.items() if k not in ("Signature", "SignatureVersion")}, key=signing_key("attacker")
    )
    with pytest.raises(InvalidMessage, match="Signature"):
        verifier.verify(forged)


@pytest.mark.parametrize("delta", [timedelta(hours=-1, minutes=-1), timedelta(minutes=30)])
def test_stale_or_future_timestamp_is_refused(delta: timedelta) -> None:
    verifier, _ = make_verifier()
    with pytest.raises(InvalidMessage, match="expired|future"):
        verifier.verify(notification({}, when=datetime.now(UTC) + delta))


def test_unknown_topic_and_empty_allowlist_are_refused() -> None:
    verifier, session = make_verifier()
    with pytest.raises(InvalidMessage, match="TopicArn"):
        verifier.verify(notification({}, topic="arn:aws:sns:us-east-1:999999999999:other"))
    closed = MessageVerifier(topics=[""], session=session)
    with pytest.raises(InvalidMessage, match="TopicArn"):
        closed.verify(notification({}))
    assert session.requested == []


@pytest.mark.parametrize(
    "broken",
    [
        {"SignatureVersion": "3"},
        {"Type": "Other"},
        {"Signature": "not base64!"},
        {"Timestamp": "yesterday"},
    ],
)
def test_malformed_fields_are_refused(broken: dict) -> None:
    verifier, _ = make_verifier()
    with pytest.raises(InvalidMessage):
        verifier.verify(notification({}) | broken)
    with pytest.raises(InvalidMessage):
        verifier.verify(["not", "a", "dict"])


@pytest.mark.parametrize(
    "key", ["TopicArn", "Type", "SignatureVersion", "Signature", "SigningCertURL", "Timestamp", "MessageId"]
)
@pytest.mark.parametrize("value", [["x"], {"a": 1}, 1])
def test_fields_of_the_wrong_json_type_are_refused_not_a_crash(key: str, value: object) -> None:
    verifier, session = make_verifier()
    with pytest.raises(InvalidMessage, match=key):
        verifier.verify(notification({}) | {key: value})
    assert session.requested == []
