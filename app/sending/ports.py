"""What the sending engine talks to, and the neutral data it passes around.

The engine (:mod:`app.sending.engine`) knows neither SQL nor SES: it claims
recipients from a :class:`DeliveryStore`, asks a :class:`PacerPort` for
tokens, hands one :class:`~app.mail.OutgoingMessage` per recipient to a
:class:`~app.mail.Transport`, and reads the time from a :class:`Clock`. The
production adapters are :mod:`app.sending.sql_store` (SQLAlchemy, PostgreSQL
or SQLite), :mod:`app.sending.pacing` (a token bucket shared through the
database) and the app's transport; tests use in-memory fakes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from app.mail import OutgoingMessage

__all__ = [
    "Clock",
    "Composer",
    "Decision",
    "DeliveryStore",
    "Grant",
    "Outcome",
    "PacerPort",
    "RecipientRow",
    "SystemClock",
    "Verdict",
]


@dataclass(frozen=True)
class RecipientRow:
    """A claimed delivery: who gets it, and how often it was tried."""

    delivery_id: int
    subscriber_id: int | None
    list_id: int | None
    email: str
    name: str | None = ""
    nonce: str | None = None  # the subscriber's token nonce (None: a v0.1 subscriber)
    attempts: int = 1  # including this one
    subscribed_at: datetime | None = None


@dataclass
class Outcome:
    """What the transport answered for one recipient."""

    row: RecipientRow
    send_id: int
    message_id: str | None = None
    error: BaseException | None = None


class Verdict(StrEnum):
    SENT = "sent"
    FAILED = "failed"  # final: the reason is recorded
    UNKNOWN = "unknown"  # nobody can know whether it went out: never resent on its own
    RETRY = "retry"  # queued again for ``retry_at``


@dataclass(frozen=True)
class Decision:
    delivery_id: int
    verdict: Verdict
    message_id: str | None = None
    error: str = ""
    retry_at: datetime | None = None
    attempts: int = 0  # the row's attempts afterwards (a throttled try does not count)


@dataclass(frozen=True)
class Grant:
    tokens: int
    wait: float  # seconds to wait before asking again when tokens == 0
    reason: str = ""  # "quota" when the 24-hour quota is used up


class Clock(Protocol):
    def now(self) -> datetime:
        """Naive UTC, as the database stores it."""
        ...

    def monotonic(self) -> float: ...

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Sleep up to ``seconds`` or until ``stop`` is set; True when stopped."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(max(0.0, seconds))


class Composer(Protocol):
    """Builds one recipient's message; called from the engine's sending threads."""

    def compose(self, row: RecipientRow) -> OutgoingMessage: ...


class PacerPort(Protocol):
    ceiling: float

    def refresh_quota(self, force: bool = False) -> None: ...

    def acquire(self, want: int, minimum: int = 1) -> Grant: ...

    def refund(self, tokens: int) -> None: ...

    def throttled(self) -> None: ...


class DeliveryStore(Protocol):
    """Every delivery-state change the engine makes (see :mod:`app.sending.states`)."""

    def cycle(self) -> AbstractContextManager[None]:
        """One unit of work (recording, granting tokens, claiming): one commit."""
        ...

    def start_due_sends(self) -> Iterator[tuple[int, str | None]]:
        """Start every due scheduled send; yields (send id, error or None)."""
        ...

    def next_send(self) -> int | None:
        """A running send with recipients due now."""
        ...

    def work_pending(self) -> bool:
        """Anything due that a worker could deliver (for ``--once``)."""
        ...

    def seconds_to_next_retry(self) -> float | None: ...

    def claim(self, send_id: int, limit: int, worker_id: str, lease: timedelta) -> tuple[int, list[RecipientRow]]:
        """Claim up to ``limit`` due recipients; returns (how many were claimed,
        those still to send: recipients who unsubscribed or were suppressed since
        the send started are marked skipped and left out)."""
        ...

    def record(self, decisions: list[Decision], worker_id: str) -> None: ...

    def renew(self, worker_id: str, lease: timedelta) -> None: ...

    def release(self, worker_id: str, keep: frozenset[int] = frozenset()) -> None:
        """Claims a stopping worker did not send go back to the queue (not the
        ``keep`` ones: requests still in flight that may yet go out)."""
        ...

    def expire_leases(self) -> int:
        """Claims whose worker stopped renewing become ``unknown``."""
        ...

    def skip_cancelled(self) -> int: ...

    def refresh_retries(self) -> None:
        """Look up when each send's next retry is due (other workers' retries too)."""
        ...

    def finish_done_sends(self) -> None: ...

    def pause(self, send_id: int, reason: str) -> None: ...

    def composer(self, send_id: int) -> Composer: ...
