"""Which carrier delivers mail, chosen by ``PRESSROOM_TRANSPORT``: the file
outbox (``outbox:DIR``, the default), Amazon SES (``ses``) or an SMTP relay
(``smtp://host:port``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.mail.message import Transport
from app.mail.outbox import OutboxTransport
from app.mail.ses import SesTransport
from app.mail.smtp import SmtpTransport


def transport_from_config(spec: str, *, ses_configuration_set: str | None = None) -> Transport:
    if spec.startswith("outbox:"):
        return OutboxTransport(spec.removeprefix("outbox:"))
    if spec == "ses":
        return SesTransport.from_environment(ses_configuration_set)
    if spec.startswith("smtp://"):
        return SmtpTransport.from_url(spec)
    raise ValueError(f"Unknown PRESSROOM_TRANSPORT {spec!r}: use outbox:DIR, ses or smtp://host:port")


class LazyTransport:
    """Built on first use, once per app, from the app's configuration at that
    moment: boto3 reads the AWS environment when a client is made, and an app
    that never sends never makes one."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self._transport: Transport | None = None

    def get(self) -> Transport:
        if self._transport is None:
            self._transport = transport_from_config(
                self.config["TRANSPORT"], ses_configuration_set=self.config.get("SES_CONFIGURATION_SET")
            )
        return self._transport
