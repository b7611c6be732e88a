"""What to do with each transport answer: pure, so it is tested without a
database, a transport or a clock.

SES has no idempotency key: an answer that leaves it open whether the message
went out (a read timeout, an unexpected error) is ``unknown``, never retried on
its own. Throttling and an account pause are retried without counting the
attempt (and slow down or pause the whole send); other transient errors are
retried with exponential backoff until ``max_attempts``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.mail import AccountPausedError, PermanentError, ThrottledError, TransientError, UncertainError
from app.sending.ports import Decision, Outcome, Verdict

__all__ = ["RetryPolicy", "Signal"]

ERROR_LIMIT = 500


@dataclass(frozen=True)
class Signal:
    """Besides the row's fate: slow the account down, or pause this send."""

    throttle: bool = False
    pause_reason: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    throttle_delay: float = 0.5
    first_delay: float = 0.5
    max_delay: float = 60.0

    def backoff(self, tries: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** max(0, tries - 1))

    def decide(self, outcome: Outcome, now: datetime) -> tuple[Decision, Signal]:
        row, error = outcome.row, outcome.error
        text = "" if error is None else str(error)[:ERROR_LIMIT]
        if error is None:
            return Decision(
                row.delivery_id, Verdict.SENT, message_id=outcome.message_id, attempts=row.attempts
            ), Signal()
        if isinstance(error, ThrottledError):
            return self._retry(row.delivery_id, row.attempts - 1, text, now, self.throttle_delay), Signal(throttle=True)
        if isinstance(error, AccountPausedError):
            return self._retry(row.delivery_id, row.attempts - 1, text, now, 0.0), Signal(
                pause_reason=f"SES stopped sending for the account: {error}"
            )
        if isinstance(error, TransientError):
            if row.attempts >= self.max_attempts:
                return Decision(
                    row.delivery_id,
                    Verdict.FAILED,
                    error=f"gave up after {row.attempts} attempts: {text}"[:ERROR_LIMIT],
                    attempts=row.attempts,
                ), Signal()
            return self._retry(row.delivery_id, row.attempts, text, now, self.backoff(row.attempts)), Signal()
        if isinstance(error, UncertainError):
            return Decision(row.delivery_id, Verdict.UNKNOWN, error=text, attempts=row.attempts), Signal()
        if isinstance(error, PermanentError):
            return Decision(row.delivery_id, Verdict.FAILED, error=text, attempts=row.attempts), Signal()
        # Anything else: the request may have gone out.
        return Decision(
            row.delivery_id, Verdict.UNKNOWN, error=f"unexpected error: {error}"[:ERROR_LIMIT], attempts=row.attempts
        ), Signal()

    @staticmethod
    def _retry(delivery_id: int, attempts: int, error: str, now: datetime, delay: float) -> Decision:
        return Decision(
            delivery_id, Verdict.RETRY, error=error, retry_at=now + timedelta(seconds=delay), attempts=max(0, attempts)
        )
