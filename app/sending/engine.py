"""The delivery engine: starts due sends and delivers queued recipients.

It receives its ports (a delivery store, a transport, a pacer, a clock, a
retry policy) and knows nothing of SQL, SES or Flask. Crash safety rests on
the store: a recipient is claimed (worker id + lease) before its message goes
out and its outcome recorded as soon as the transport answers. A worker that
dies leaves claims behind; when their lease expires they become ``unknown``
and are never sent again automatically.

Throughput: messages go out from a thread pool so one worker keeps many
requests in flight; only the engine's own thread talks to the store, once per
cycle (record the answers that arrived, take tokens, claim the next batch)."""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from app.mail import PermanentError, Transport, UncertainError
from app.sending.policy import RetryPolicy, Signal
from app.sending.ports import Clock, DeliveryStore, Outcome, PacerPort, RecipientRow, SystemClock

__all__ = ["Settings", "Worker"]

log = logging.getLogger(__name__)
MAX_THREADS = 128


@dataclass
class Settings:
    threads: int = 0  # 0: sized from the rate once the quota is known
    lease: timedelta = field(default_factory=lambda: timedelta(seconds=300))
    poll: float = 1.0
    housekeeping_every: float = 1.0
    # How long a stopping worker waits for answers still in flight. A request
    # that hangs longer is left claimed (its lease expires: ``unknown``), never
    # released to the queue, since it may yet go out.
    drain_timeout: float = 60.0


class Worker:
    def __init__(
        self,
        worker_id: str,
        store: DeliveryStore,
        transport: Transport,
        pacer: PacerPort,
        *,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.id = worker_id
        self.store, self.transport, self.pacer = store, transport, pacer
        self.clock = clock or SystemClock()
        self.policy = policy or RetryPolicy()
        self.settings = settings or Settings()
        self.threads = self.settings.threads
        self.stop_event = threading.Event()
        # Answers arrive on a queue (O(1) per message, whatever the number in flight).
        self.inflight = 0
        self.flying: set[int] = set()  # delivery ids sent and not answered yet
        self.results: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self.answered: list[Outcome] = []  # answers not yet written (written within one cycle)
        self._next_housekeeping = 0.0
        self._next_renewal = 0.0
        self.sent = 0

    def stop(self) -> None:
        """Graceful stop: no new claims; in-flight messages finish and are recorded."""
        self.stop_event.set()

    # --- main loop -------------------------------------------------------------------

    def run(self, once: bool = False) -> int:
        """Deliver until stopped (or, with ``once``, until nothing is due). Returns messages sent."""
        self.pacer.refresh_quota(force=True)
        if not self.threads:
            # Enough requests in flight for ~200 ms of sending at the ceiling
            # rate: API latency, plus GIL queueing under load, never caps it.
            self.threads = max(8, min(MAX_THREADS, math.ceil(self.pacer.ceiling * 0.2)))
        pool = ThreadPoolExecutor(self.threads, thread_name_prefix="send")
        try:
            self._loop(pool, once)
        finally:
            self._drain()
            self.store.release(self.id, keep=frozenset(self.flying))
            pool.shutdown(wait=not self.flying)
            self.store.finish_done_sends()
        return self.sent

    def _loop(self, pool: ThreadPoolExecutor, once: bool) -> None:
        send_id: int | None = None
        while not self.stop_event.is_set():
            self._housekeeping()
            if send_id is None:
                send_id = self.store.next_send()
            if send_id is None:
                if self.inflight or self.answered:
                    answered, self.answered = self.answered + self._gather(self.settings.poll), []
                    with self.store.cycle():
                        signal = self._record(answered)
                    self._follow_up(signal)
                elif once and not self.store.work_pending():
                    return
                else:
                    retry = self.store.seconds_to_next_retry()
                    self.clock.wait(
                        min(self.settings.poll, retry if retry is not None else self.settings.poll), self.stop_event
                    )
                continue
            free, batch = self.threads - self.inflight, self._batch()
            if free < batch:
                # Let answers accumulate; the next cycle's transaction records them.
                self.answered += self._gather(self.settings.poll, want=batch - free)
                continue
            try:
                composer = self.store.composer(send_id)  # before claiming: a send that cannot be built claims nothing
            except Exception as exc:
                log.exception("send %s: cannot build messages", send_id)
                self.store.pause(send_id, f"Cannot build the messages: {exc}")
                send_id = None
                continue
            # Tokens first, in a transaction of their own: the shared bucket row
            # stays locked for one statement, not for every worker's whole claim.
            with self.store.cycle():
                grant = self.pacer.acquire(free, minimum=batch)
            # Then one transaction: record what finished, claim rows.
            answered, self.answered = self.answered + self._gather(0), []
            with self.store.cycle():
                signal = self._record(answered)
                claimed, rows = (
                    self.store.claim(send_id, grant.tokens, self.id, self.settings.lease) if grant.tokens else (0, [])
                )
            if claimed < grant.tokens:
                with self.store.cycle():
                    self.pacer.refund(grant.tokens - claimed)
            self._follow_up(signal)
            if rows:
                self._submit(pool, send_id, rows, composer.compose)
            elif grant.tokens:
                send_id = None  # paused, finished, all skipped or only future retries: look again
            elif self.inflight:
                # Wait for tokens while collecting answers; the next cycle records them.
                self.answered += self._gather(grant.wait, want=self.threads)
            elif grant.reason == "quota" and once:
                log.warning("the 24-hour sending quota is used up; the rest waits for the next run")
                return
            else:
                self.clock.wait(min(grant.wait, 1.0), self.stop_event)

    def _batch(self) -> int:
        """Claim at least this many rows at a time (about 20 ms of sending),
        so store round trips do not grow with the rate."""
        return max(1, min(self.threads // 2, int(self.pacer.ceiling * 0.02)))

    def _housekeeping(self) -> None:
        now = self.clock.monotonic()
        if now >= self._next_renewal and (self.inflight or self.answered):
            self._next_renewal = now + self.settings.lease.total_seconds() / 3
            self.store.renew(self.id, self.settings.lease)
        if now < self._next_housekeeping:
            return
        self._next_housekeeping = now + self.settings.housekeeping_every
        self.store.expire_leases()
        self.store.refresh_retries()
        with self.store.cycle():
            self.store.skip_cancelled()
        for send_id, error in self.store.start_due_sends():
            if error is None:
                log.info("send %s started", send_id)
        self.store.finish_done_sends()
        self.pacer.refresh_quota()

    # --- sending -----------------------------------------------------------------------

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        send_id: int,
        rows: list[RecipientRow],
        compose: Callable[[RecipientRow], object],
    ) -> None:
        transport = self.transport
        for row in rows:

            def task(row: RecipientRow = row) -> None:
                outcome = Outcome(row, send_id, error=UncertainError("the sending thread stopped"))
                try:
                    message = compose(row)
                except Exception as exc:  # a rendering bug or a bad address: nothing was sent
                    outcome = Outcome(row, send_id, error=PermanentError(f"cannot build the message: {exc}"))
                else:
                    try:
                        outcome = Outcome(row, send_id, message_id=transport.send(message))  # type: ignore[arg-type]
                    except Exception as exc:
                        outcome = Outcome(row, send_id, error=exc)
                finally:
                    self.results.put(outcome)  # always exactly one answer per task

            self.inflight += 1
            self.flying.add(row.delivery_id)
            pool.submit(task)

    def _gather(self, timeout: float, want: int = 1) -> list[Outcome]:
        """Wait up to ``timeout`` for ``want`` answers (fewer if time runs out)
        and return every answer that has arrived."""
        done: list[Outcome] = []
        deadline = self.clock.monotonic() + timeout
        while self.inflight:
            remaining = deadline - self.clock.monotonic()
            try:
                if len(done) < want and remaining > 0:
                    done.append(self.results.get(timeout=remaining))
                else:
                    done.append(self.results.get_nowait())
            except queue.Empty:
                break
            self.inflight -= 1
            self.flying.discard(done[-1].row.delivery_id)
        return done

    def _drain(self) -> None:
        answered, self.answered = self.answered, []
        with self.store.cycle():
            signal = self._record(answered)
        self._follow_up(signal)
        deadline = self.clock.monotonic() + self.settings.drain_timeout
        while self.inflight and self.clock.monotonic() < deadline:
            batch = self._gather(min(self.settings.poll, max(0.0, deadline - self.clock.monotonic())))
            with self.store.cycle():
                signal = self._record(batch)
            self._follow_up(signal)
        if self.inflight:
            log.warning(
                "worker %s: %d requests did not answer in %.0f s; they become unknown when their lease expires",
                self.id,
                self.inflight,
                self.settings.drain_timeout,
            )

    def _record(self, outcomes: list[Outcome]) -> tuple[bool, list[tuple[int, str]]]:
        """Write every outcome (inside the caller's cycle); returns what must
        happen after the commit: slow the account down, pause sends."""
        now = self.clock.now()
        throttle, pauses = False, []
        decisions = []
        for outcome in outcomes:
            decision, signal = self.policy.decide(outcome, now)
            decisions.append(decision)
            if outcome.error is not None and not isinstance(outcome.error, Exception):
                log.error("unexpected transport failure", exc_info=outcome.error)
            throttle = throttle or signal.throttle
            if signal.pause_reason:
                pauses.append((outcome.send_id, signal.pause_reason))
            if decision.verdict == "sent":
                self.sent += 1
        self.store.record(decisions, self.id)
        return throttle, pauses

    def _follow_up(self, signal: tuple[bool, list[tuple[int, str]]] | Signal) -> None:
        throttle, pauses = signal if isinstance(signal, tuple) else (signal.throttle, [])
        if throttle:
            self.pacer.throttled()
        for send_id, reason in dict(pauses).items():
            self.store.pause(send_id, reason)
