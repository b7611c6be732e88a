"""Verification of Amazon SNS HTTP(S) messages, after warehouse's ``utils/sns.py``.

A message is accepted only when every check passes:

- ``SignatureVersion`` 1 (SHA1withRSA) or 2 (SHA256withRSA) over the canonical
  string SNS signs for its ``Type``;
- ``SigningCertURL`` is ``https://sns.<region>.amazonaws.com/<name>.pem`` exactly
  (no userinfo, port, query or fragment), so the verifier can never be made to
  fetch another URL (SSRF); certificates are cached per URL;
- ``TopicArn`` is in the configured allowlist (an empty allowlist accepts nothing);
- ``Timestamp`` is under one hour old and not more than a few minutes ahead.

The HTTP session is injected so tests serve their own certificate with no network.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["InvalidMessage", "MessageVerifier", "signing_string", "is_sns_url"]

# The whole URL, not just the host: userinfo ("sns.x.amazonaws.com@evil"),
# ports, backslashes and encoded characters all fail to match.
# A region is "us-east-1", "ap-southeast-2", "us-gov-west-1": letters, a direction,
# a number. "s3-accelerate" is no region (sns.s3-accelerate.amazonaws.com is an S3
# bucket host anyone can serve a certificate from).
_REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}"
HOST_RE = re.compile(rf"sns\.{_REGION}\.amazonaws\.com")
CERT_URL_RE = re.compile(rf"https://({HOST_RE.pattern})/[A-Za-z0-9._-]+\.pem")
MAX_AGE = timedelta(hours=1)
CERT_TTL = timedelta(hours=24)  # SNS rotates certificates rarely; re-read daily
FAILURE_TTL = timedelta(seconds=60)  # a failed fetch is not retried on every forged post
MAX_CLOCK_SKEW = timedelta(minutes=5)
MESSAGE_TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}


class InvalidMessage(ValueError):
    """The message is not a genuine, fresh SNS message for one of our topics."""


class HttpSession(Protocol):
    """What the verifier needs of ``requests.Session`` (tests inject a fake)."""

    def get(self, url: str, *, timeout: float, allow_redirects: bool) -> Any: ...


def signing_string(message: dict[str, Any]) -> bytes:
    """The canonical "Key\\nValue\\n" string SNS signs (documented per Type)."""
    kind = message.get("Type")
    if kind == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        if "Subject" not in message:
            keys.remove("Subject")
    elif kind in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    else:
        raise InvalidMessage("Unknown message Type")
    parts: list[str] = []
    for key in keys:
        value = message.get(key)
        if not isinstance(value, str):
            raise InvalidMessage(f"Missing or invalid {key}")
        parts.extend([key, value])
    return ("\n".join(parts) + "\n").encode("utf-8")


def is_sns_url(url: str, host: str | None = None) -> bool:
    """True when ``url`` is https on an SNS host (``host`` exactly, if given)."""
    if not isinstance(url, str) or any(ch in url for ch in "\\@ \t\r\n"):
        return False
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.fragment or not HOST_RE.fullmatch(parts.netloc):
        return False
    return host is None or parts.netloc == host


class MessageVerifier:
    def __init__(
        self, *, topics: Iterable[str], session: HttpSession, now: Callable[[], datetime] | None = None
    ) -> None:
        self.topics = frozenset(t.strip() for t in topics if t.strip())
        self.http = session
        self._now = now or (lambda: datetime.now(UTC))
        self._certs: dict[str, tuple[datetime, rsa.RSAPublicKey | None]] = {}
        self._lock = threading.Lock()

    def verify(self, message: Any) -> None:
        """Raise ``InvalidMessage`` unless every check passes. Cheap checks run
        first so a forged post never causes a certificate fetch."""
        if not isinstance(message, dict):
            raise InvalidMessage("Not an SNS message")
        # JSON can carry a list or an object anywhere: a field of the wrong type
        # must be a refusal (4xx), not a TypeError (unhashable in the set) = 500.
        for key in ("Type", "SignatureVersion", "TopicArn", "Timestamp", "Signature", "SigningCertURL", "MessageId"):
            if not isinstance(message.get(key), str):
                raise InvalidMessage(f"Missing or invalid {key}")
        if message.get("Type") not in MESSAGE_TYPES:
            raise InvalidMessage("Unknown message Type")
        digest = HASHES.get(str(message.get("SignatureVersion")))
        if digest is None:
            raise InvalidMessage("Unknown SignatureVersion")
        if message.get("TopicArn") not in self.topics:
            raise InvalidMessage("Unknown TopicArn")
        self._check_timestamp(message.get("Timestamp"))
        data = signing_string(message)
        try:
            signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidMessage("Malformed Signature") from exc
        public_key = self._public_key(message.get("SigningCertURL"))
        try:
            public_key.verify(signature, data, padding.PKCS1v15(), digest())
        except InvalidSignature:
            raise InvalidMessage("Invalid Signature") from None

    def cert_host(self, message: dict[str, Any]) -> str:
        """The (already validated) SNS host of a verified message."""
        return urlsplit(message["SigningCertURL"]).netloc

    def _check_timestamp(self, value: Any) -> None:
        if not isinstance(value, str):
            raise InvalidMessage("Missing Timestamp")
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidMessage("Unknown Timestamp format") from None
        if stamp.tzinfo is None:
            raise InvalidMessage("Timestamp without time zone")
        now = self._now()
        if now - stamp > MAX_AGE:
            raise InvalidMessage("Message has expired")
        if stamp - now > MAX_CLOCK_SKEW:
            raise InvalidMessage("Timestamp is in the future")

    def _public_key(self, url: Any) -> rsa.RSAPublicKey:
        if not isinstance(url, str) or not CERT_URL_RE.fullmatch(url):
            raise InvalidMessage("Invalid location for SigningCertURL")
        now = self._now()
        with self._lock:
            cached = self._certs.get(url)
        if cached is not None and cached[0] > now:
            if cached[1] is None:
                raise InvalidMessage("Could not fetch the signing certificate (cached failure)")
            return cached[1]
        try:
            key = self._fetch(url)
        except InvalidMessage:
            with self._lock:
                self._certs[url] = (now + FAILURE_TTL, None)
            raise
        with self._lock:
            self._certs[url] = (now + CERT_TTL, key)
        return key

    def _fetch(self, url: str) -> rsa.RSAPublicKey:
        try:
            response = self.http.get(url, timeout=10, allow_redirects=False)
            response.raise_for_status()
            if getattr(response, "status_code", 200) != 200:
                raise InvalidMessage("Could not fetch the signing certificate")
            cert = x509.load_pem_x509_certificate(response.content)
        except InvalidMessage:
            raise
        except Exception as exc:  # network error, HTTP error or not a certificate
            raise InvalidMessage("Could not fetch the signing certificate") from exc
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidMessage("Signing certificate is not RSA")
        return key
