"""Amazon SES v2 transport.

SES has no idempotency key, so botocore's automatic retries are switched off
for the send client: a retry after a timeout could deliver a message twice.
The engine decides what to do from the error class we raise instead."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from app.mail.message import (
    AccountPausedError,
    OutgoingMessage,
    PermanentError,
    ThrottledError,
    TransientError,
    UncertainError,
)

THROTTLING_CODES = {"TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException"}
PAUSED_CODES = {
    "AccountSuspendedException",
    "SendingPausedException",
    "AccountSendingPausedException",
    "ConfigurationSetSendingPausedException",
}
PERMANENT_CODES = {
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "BadRequestException",
    "NotFoundException",
    "InvalidParameterValue",
}
# Tag values allow only ASCII letters, digits, underscore, dash, dot, at.
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.@-]")


@dataclass(frozen=True)
class Quota:
    max_send_rate: float
    max_24h: int | None  # None: no daily limit (SES says -1)
    sent_last_24h: int


def classify(error: Exception) -> Exception:
    """Map a botocore error to the engine's TransportError classes."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "") or code
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in THROTTLING_CODES or status == 429:
            return ThrottledError(f"{code}: {message}")
        if code in PAUSED_CODES:
            return AccountPausedError(f"{code}: {message}")
        if status >= 500:
            return TransientError(f"{code or status}: {message}")
        if code in PERMANENT_CODES or 400 <= status < 500:
            return PermanentError(f"{code}: {message}")
        return TransientError(f"{code}: {message}")
    if isinstance(error, ReadTimeoutError | ConnectionClosedError):
        # The request went out; SES may have accepted it.
        return UncertainError(f"no answer from SES: {error}")
    if isinstance(error, ConnectTimeoutError | EndpointConnectionError):
        return TransientError(f"cannot reach SES: {error}")
    return error


class SesTransport:
    def __init__(
        self, client: Any, configuration_set: str | None = None, quota_clients: tuple[Any, Any] | None = None
    ) -> None:
        self.client = client
        self.configuration_set = configuration_set
        self._quota_clients = quota_clients

    @classmethod
    def from_environment(cls, configuration_set: str | None = None) -> SesTransport:
        """Clients from the standard boto3 environment (region, credentials,
        AWS_ENDPOINT_URL_SESV2 for a local endpoint)."""
        send_config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            max_pool_connections=128,
        )
        session = boto3.session.Session()
        client = session.client("sesv2", config=send_config)
        return cls(client, configuration_set, quota_clients=(session.client("sesv2"), session.client("ses")))

    def send(self, message: OutgoingMessage) -> str:
        kwargs: dict[str, Any] = {
            "FromEmailAddress": message.sender,
            "Destination": {"ToAddresses": [message.recipient]},
            "Content": {"Raw": {"Data": message.raw}},
        }
        if message.tags:
            kwargs["EmailTags"] = [
                {"Name": _TAG_UNSAFE.sub("_", k), "Value": _TAG_UNSAFE.sub("_", v)} for k, v in message.tags.items()
            ]
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        try:
            response = self.client.send_email(**kwargs)
        except Exception as exc:
            raise classify(exc) from exc
        return response["MessageId"]

    def read_quota(self) -> Quota:
        """SES v2 GetAccount, falling back to v1 GetSendQuota (moto has no v2 GetAccount)."""
        v2, v1 = self._quota_clients or (self.client, None)
        try:
            quota = v2.get_account()["SendQuota"]
        except (ClientError, KeyError, NotImplementedError):
            if v1 is None:
                raise
            quota = v1.get_send_quota()
        return Quota(float(quota["MaxSendRate"]), _daily_limit(quota["Max24HourSend"]), int(quota["SentLast24Hours"]))


def _daily_limit(value: float) -> int | None:
    """SES reports an unlimited 24-hour quota as -1; None means "no limit" here."""
    return None if float(value) < 0 else int(value)


class IdentityUnknown(Exception):
    """SES could not be asked (no credentials, no network): the caller warns, never blocks."""


def sender_verified(address: str, client: Any | None = None) -> bool:
    """Whether SES may send from ``address``: the address itself or its domain
    is a verified identity (SES v1 GetIdentityVerificationAttributes, which
    moto implements). Raises :class:`IdentityUnknown` when SES cannot answer."""
    domain = address.rsplit("@", 1)[-1]
    try:
        client = client or boto3.session.Session().client(
            "ses", config=Config(connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 2})
        )
        found = client.get_identity_verification_attributes(Identities=[address, domain])
    except (BotoCoreError, ClientError) as exc:
        raise IdentityUnknown(str(exc)) from exc
    attributes = found.get("VerificationAttributes", {})
    return any(attributes.get(name, {}).get("VerificationStatus") == "Success" for name in (address, domain))
