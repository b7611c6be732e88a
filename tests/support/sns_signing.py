"""Sign SNS messages exactly like Amazon SNS does, with a key and self-signed
certificate made in the test, and serve that certificate through a fake HTTP
session (no network): pass ``FakeSnsSession`` as ``SNS_HTTP_SESSION``."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from app.sending.sns import signing_string

REGION = "us-east-1"
CERT_URL = f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
TOPIC_ARN = f"arn:aws:sns:{REGION}:123456789012:pressroom-ses-events"


@dataclass(frozen=True)
class SigningKey:
    key: rsa.RSAPrivateKey
    cert_pem: bytes


@lru_cache(maxsize=2)
def signing_key(name: str = "sns") -> SigningKey:
    """An RSA key and a self-signed certificate (cached: key generation is slow)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return SigningKey(key, cert.public_bytes(serialization.Encoding.PEM))


def sign(message: dict[str, Any], version: str = "2", key: SigningKey | None = None) -> dict[str, Any]:
    """Add SignatureVersion and Signature as SNS would."""
    key = key or signing_key()
    message = dict(message, SignatureVersion=version)
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 (SNS v1 is SHA1)
    signature = key.key.sign(signing_string(message), padding.PKCS1v15(), digest)
    message["Signature"] = base64.b64encode(signature).decode()
    return message


def sns_timestamp(when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def notification(
    record: dict[str, Any],
    *,
    version: str = "2",
    topic: str = TOPIC_ARN,
    cert_url: str = CERT_URL,
    when: datetime | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """A signed SNS Notification carrying one SES record."""
    return sign(
        {
            "Type": "Notification",
            "MessageId": message_id or str(uuid.uuid4()),
            "TopicArn": topic,
            "Message": json.dumps(record),
            "Timestamp": sns_timestamp(when),
            "SigningCertURL": cert_url,
            "UnsubscribeURL": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:x",
        },
        version,
    )


def subscription_confirmation(*, subscribe_url: str | None = None, version: str = "2") -> dict[str, Any]:
    token = uuid.uuid4().hex
    return sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": token,
            "TopicArn": TOPIC_ARN,
            "Message": f"You have chosen to subscribe to the topic {TOPIC_ARN}.",
            "SubscribeURL": subscribe_url
            or (f"https://sns.{REGION}.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC_ARN}&Token={token}"),
            "Timestamp": sns_timestamp(),
            "SigningCertURL": CERT_URL,
        },
        version,
    )


def ses_event(
    event_type: str,
    message_id: str,
    *,
    tags: dict[str, list[str]] | None = None,
    destination: str = "reader@example.com",
    **section: Any,
) -> dict[str, Any]:
    """An SES event-publishing record (``eventType``)."""
    record: dict[str, Any] = {
        "eventType": event_type,
        "mail": {
            "timestamp": sns_timestamp(),
            "messageId": message_id,
            "destination": [destination],
            "tags": tags or {},
        },
    }
    key = event_type[:1].lower() + event_type[1:]
    # Either the section's fields as keywords, or the section itself (bounce={...}).
    fields = section[key] if set(section) == {key} else section
    record[key] = {"timestamp": sns_timestamp(), **fields}
    return record


def ses_notification(
    kind: str, message_id: str, *, destination: str = "reader@example.com", **section: Any
) -> dict[str, Any]:
    """An SES notification-format record (``notificationType``)."""
    record = ses_event(kind, message_id, destination=destination, **section)
    record["notificationType"] = record.pop("eventType")
    return record


class FakeResponse:
    def __init__(self, status: int, content: bytes = b"") -> None:
        self.status_code = status
        self.content = content

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


@dataclass
class FakeSnsSession:
    """Stands in for requests.Session: serves the test certificate at CERT_URL,
    answers SNS SubscribeURLs with 200, and records every URL asked for."""

    key: SigningKey = field(default_factory=signing_key)
    requested: list[str] = field(default_factory=list)

    def get(self, url: str, **kwargs: Any) -> FakeResponse:
        self.requested.append(url)
        if url == CERT_URL:
            return FakeResponse(200, self.key.cert_pem)
        if url.startswith(f"https://sns.{REGION}.amazonaws.com/?Action=ConfirmSubscription"):
            return FakeResponse(200, b"<ConfirmSubscriptionResponse/>")
        return FakeResponse(404)
