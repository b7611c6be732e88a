"""The delivery engine's rules with in-memory ports: no database, no SES, a fake
clock. Every recipient ends sent, failed, skipped or unknown, and the counts add
up, whatever the transport does. (The PostgreSQL multi-worker and SIGKILL tests
in test_worker.py run the same engine against the real store.)"""

from __future__ import annotations

import threading
from datetime import timedelta

from app.mail import AccountPausedError, PermanentError, ThrottledError, TransientError, UncertainError
from app.sending.engine import Settings, Worker
from app.sending.pacing import MemoryPacer
from app.sending.policy import RetryPolicy
from tests.support.engine_fakes import FakeClock, MemoryStore, ScriptedTransport

SEND = 1


def engine(
    store: MemoryStore,
    transport: ScriptedTransport,
    clock: FakeClock,
    *,
    rate: float = 1000.0,
    threads: int = 4,
    **settings: float,
) -> tuple[Worker, MemoryPacer]:
    pacer = MemoryPacer(rate, clock.now)
    options = {"poll": 0.01, "housekeeping_every": 0.01, **settings}
    worker = Worker(
        "w1",
        store,
        transport,
        pacer,
        clock=clock,
        settings=Settings(threads=threads, lease=timedelta(seconds=30), **options),
    )
    return worker, pacer


def test_everyone_is_sent_exactly_once() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    store.add_send(SEND, 50)
    transport = ScriptedTransport()
    worker, _ = engine(store, transport, clock)
    assert worker.run(once=True) == 50
    assert store.counts(SEND) == {"sent": 50} and sorted(transport.delivered) == sorted(set(transport.delivered))
    assert store.sends[SEND] == "finished"


def test_throttling_slows_down_retries_and_recovers() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    store.add_send(SEND, 30)
    transport = ScriptedTransport([ThrottledError("429")] * 5 + [None] * 10 + [ThrottledError("429")] * 3)
    worker, pacer = engine(store, transport, clock, rate=100.0)
    worker.run(once=True)
    assert store.counts(SEND) == {"sent": 30} and len(transport.delivered) == 30
    assert pacer.throttles >= 1
    # A throttled attempt does not count against the attempt limit.
    assert all(row.attempts <= 3 for row in store.rows.values())
    assert pacer.state.rate > 0


def test_transient_errors_back_off_then_give_up() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    store.add_send(SEND, 2)
    transport = ScriptedTransport([TransientError("503")] * 50)
    worker, _ = engine(store, transport, clock, threads=2)
    worker.policy = RetryPolicy(max_attempts=4)
    worker.run(once=True)
    counts = store.counts(SEND)
    assert counts == {"failed": 2}
    assert all("gave up after 4 attempts" in row.error for row in store.rows.values())


def test_uncertain_and_unexpected_answers_are_unknown_never_resent() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    store.add_send(SEND, 3)
    transport = ScriptedTransport([UncertainError("read timeout"), RuntimeError("boom"), PermanentError("bad")])
    worker, _ = engine(store, transport, clock, threads=1)
    worker.run(once=True)
    statuses = sorted(row.status for row in store.rows.values())
    assert statuses == ["failed", "unknown", "unknown"]
    assert transport.calls == 3  # nothing was tried twice


def test_account_pause_pauses_the_send_and_loses_nothing() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    store.add_send(SEND, 10)
    transport = ScriptedTransport([AccountPausedError("SendingPausedException")] * 3)
    worker, _ = engine(store, transport, clock, threads=2)
    worker.run(once=True)
    assert store.sends[SEND] == "paused" and "SES stopped sending" in store.pause_reasons[SEND]
    counts = store.counts(SEND)
    assert counts.get("claimed", 0) == 0 and sum(counts.values()) == 10
    store.sends[SEND] = "running"
    worker2, _ = engine(store, ScriptedTransport(), clock)
    worker2.run(once=True)
    assert store.counts(SEND) == {"sent": 10}  # resumed: the rest goes out, nobody twice


def test_pause_and_cancel_mid_batch() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    store.add_send(SEND, 40)
    store.on_record = lambda decisions: store.pause(SEND, "operator") if decisions else None
    worker, _ = engine(store, ScriptedTransport(), clock, threads=4, rate=200.0)
    worker.run(once=True)
    paused = store.counts(SEND)
    assert store.sends[SEND] == "paused" and paused.get("claimed", 0) == 0 and paused["queued"] > 0
    store.on_record = None
    store.sends[SEND] = "cancelled"
    store.skip_cancelled()
    final = store.counts(SEND)
    assert set(final) <= {"sent", "skipped"} and sum(final.values()) == 40


def test_lease_expiry_makes_a_dead_workers_claims_unknown() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    store.add_send(SEND, 5)
    claimed, rows = store.claim(SEND, 3, "dead-worker", timedelta(seconds=30))
    assert claimed == 3 and len(rows) == 3
    clock.advance(31)
    worker, _ = engine(store, ScriptedTransport(), clock)
    worker.run(once=True)
    counts = store.counts(SEND)
    assert counts == {"unknown": 3, "sent": 2}


def test_stop_drains_in_flight_and_releases_the_rest() -> None:
    """SIGTERM: what is in flight is recorded, unsent claims go back to the queue."""
    clock = FakeClock()
    store = MemoryStore(clock)
    store.add_send(SEND, 200)
    transport = ScriptedTransport()
    worker, _ = engine(store, transport, clock, threads=8, rate=200.0)
    store.on_record = lambda decisions: worker.stop() if decisions else None
    worker.run()
    counts = store.counts(SEND)
    assert counts.get("claimed", 0) == 0 and counts["sent"] == len(transport.delivered)
    assert counts["sent"] + counts["queued"] == 200


def test_a_hanging_transport_leaves_its_requests_claimed_never_requeued() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    store.add_send(SEND, 3)
    hang = threading.Event()
    transport = ScriptedTransport(hang=hang)
    worker, _ = engine(store, transport, clock, threads=3, drain_timeout=0.2)
    runner = threading.Thread(target=worker.run)
    runner.start()
    while transport.calls < 3:
        clock.wait(0.001, threading.Event())
    worker.stop()
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert store.counts(SEND) == {"claimed": 3}  # never back in the queue: they may yet go out
    clock.advance(31)
    store.expire_leases()
    assert store.counts(SEND) == {"unknown": 3}
    hang.set()


def test_skipped_recipients_use_no_message() -> None:
    clock = FakeClock()
    store = MemoryStore(clock)
    store.add_send(SEND, 4)
    store.rows[2].subscribed = False
    transport = ScriptedTransport()
    worker, _ = engine(store, transport, clock)
    worker.run(once=True)
    assert store.counts(SEND) == {"sent": 3, "skipped": 1} and len(transport.delivered) == 3
