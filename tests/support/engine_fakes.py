"""In-memory ports for the delivery engine: a store, transports and a clock.
They let the engine's rules run in milliseconds, with no database or SES."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.mail import OutgoingMessage
from app.sending.ports import Decision, RecipientRow, Verdict


class FakeClock:
    """Real monotonic time (queues wait on it), but waiting costs nothing: it
    moves the clock on, so retries and leases far ahead come due at once."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.start = datetime(2026, 6, 1, 9, 0)
        self.started = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.started + self.offset)

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        self.advance(seconds)
        time.sleep(0.001)
        return stop.is_set()


@dataclass
class Row:
    id: int
    send_id: int
    status: str = "queued"
    worker: str | None = None
    lease: datetime | None = None
    attempts: int = 0
    next_at: datetime | None = None
    error: str = ""
    message_id: str | None = None
    subscribed: bool = True


class StaticComposer:
    def compose(self, row: RecipientRow) -> OutgoingMessage:
        return OutgoingMessage("news@example.com", row.email, b"Subject: hi\r\n\r\nhello\r\n")


@dataclass
class MemoryStore:
    clock: FakeClock
    rows: dict[int, Row] = field(default_factory=dict)
    sends: dict[int, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    pause_reasons: dict[int, str] = field(default_factory=dict)
    on_record: Callable[[list[Decision]], None] | None = None

    def add_send(self, send_id: int, recipients: int, status: str = "running") -> None:
        self.sends[send_id] = status
        base = len(self.rows)
        for n in range(recipients):
            self.rows[base + n + 1] = Row(base + n + 1, send_id)

    def counts(self, send_id: int) -> dict[str, int]:
        result: dict[str, int] = {}
        for row in self.rows.values():
            if row.send_id == send_id:
                result[row.status] = result.get(row.status, 0) + 1
        return result

    @contextmanager
    def cycle(self) -> Iterator[None]:
        with self.lock:
            yield

    def start_due_sends(self) -> Iterator[tuple[int, str | None]]:
        return iter(())

    def _due(self, row: Row) -> bool:
        return row.status == "queued" and (row.next_at is None or row.next_at <= self.clock.now())

    def next_send(self) -> int | None:
        for send_id, status in sorted(self.sends.items()):
            if status == "running" and any(r.send_id == send_id and self._due(r) for r in self.rows.values()):
                return send_id
        return None

    def work_pending(self) -> bool:
        return any(self.sends[r.send_id] == "running" and r.status == "queued" for r in self.rows.values())

    def seconds_to_next_retry(self) -> float | None:
        times = [r.next_at for r in self.rows.values() if r.status == "queued" and r.next_at is not None]
        return None if not times else max(0.01, (min(times) - self.clock.now()).total_seconds())

    def claim(self, send_id: int, limit: int, worker_id: str, lease: timedelta) -> tuple[int, list[RecipientRow]]:
        if self.sends.get(send_id) != "running":
            return 0, []
        claimed = [r for r in sorted(self.rows.values(), key=lambda r: r.id) if r.send_id == send_id and self._due(r)][
            :limit
        ]
        keep = []
        for row in claimed:
            row.status, row.worker, row.lease = "claimed", worker_id, self.clock.now() + lease
            row.attempts += 1
            if not row.subscribed:
                row.status, row.error = "skipped", "unsubscribed"
                continue
            keep.append(RecipientRow(row.id, row.id, 1, f"r{row.id}@example.com", "R", "n", row.attempts))
        return len(claimed), keep

    def record(self, decisions: list[Decision], worker_id: str) -> None:
        for decision in decisions:
            row = self.rows[decision.delivery_id]
            if row.worker != worker_id or row.status not in ("claimed", "unknown"):
                continue
            if decision.verdict == Verdict.RETRY:
                row.status, row.worker, row.lease = "queued", None, None
                row.attempts, row.next_at, row.error = decision.attempts, decision.retry_at, decision.error
            else:
                row.status, row.error, row.message_id = decision.verdict.value, decision.error, decision.message_id
        self.skip_cancelled()
        if self.on_record is not None:
            self.on_record(decisions)

    def renew(self, worker_id: str, lease: timedelta) -> None:
        for row in self.rows.values():
            if row.worker == worker_id and row.status == "claimed":
                row.lease = self.clock.now() + lease

    def release(self, worker_id: str, keep: frozenset[int] = frozenset()) -> None:
        for row in self.rows.values():
            if row.worker == worker_id and row.status == "claimed" and row.id not in keep:
                row.status, row.worker, row.lease, row.attempts = "queued", None, None, row.attempts - 1
        self.skip_cancelled()

    def expire_leases(self) -> int:
        expired = 0
        for row in self.rows.values():
            if row.status == "claimed" and row.lease is not None and row.lease < self.clock.now():
                row.status, row.error = "unknown", "worker stopped before recording the result"
                expired += 1
        return expired

    def skip_cancelled(self) -> int:
        skipped = 0
        for row in self.rows.values():
            if row.status == "queued" and self.sends[row.send_id] == "cancelled":
                row.status, row.error = "skipped", "send cancelled"
                skipped += 1
        return skipped

    def refresh_retries(self) -> None:
        """The fake finds due retries by scanning its rows on every claim."""

    def finish_done_sends(self) -> None:
        for send_id, status in self.sends.items():
            if status == "running" and not any(
                r.send_id == send_id and r.status in ("queued", "claimed") for r in self.rows.values()
            ):
                self.sends[send_id] = "finished"

    def pause(self, send_id: int, reason: str) -> None:
        if self.sends.get(send_id) in ("running", "scheduled"):
            self.sends[send_id] = "paused"
            self.pause_reasons[send_id] = reason

    def composer(self, send_id: int) -> StaticComposer:
        return StaticComposer()


class ScriptedTransport:
    """Answers each send with the next item of a script (an exception to raise,
    or None for success), then succeeds; counts every message that went out."""

    def __init__(self, script: list[BaseException | None] | None = None, hang: threading.Event | None = None) -> None:
        self.script = list(script or [])
        self.hang = hang
        self.lock = threading.Lock()
        self.delivered: list[str] = []
        self.calls = 0

    def send(self, message: OutgoingMessage) -> str:
        with self.lock:
            self.calls += 1
            step = self.script.pop(0) if self.script else None
        if self.hang is not None:
            self.hang.wait()
        if step is not None:
            raise step
        with self.lock:
            self.delivered.append(message.recipient)
        return f"id-{message.recipient}"
