"""``pressroom worker``: the delivery engine wired to the database, the app's
mail transport and the shared token bucket, in one or several processes.

``--processes N`` forks N delivery processes; they share every send through
the database (``FOR UPDATE SKIP LOCKED`` claims) and one token bucket row, so
one command uses every core it is given. SIGTERM or SIGINT stops each
gracefully: no new claims, in-flight messages finish and are recorded, the
rest of its claims go back to the queue."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask

from app.db import db
from app.mail import get_transport
from app.sending.engine import Settings, Worker
from app.sending.pacing import SqlPacer
from app.sending.ports import SystemClock
from app.sending.sql_store import SqlDeliveryStore

__all__ = ["new_worker_id", "run_processes", "run_worker", "worker_for"]

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def worker_for(app: Flask, *, threads: int | None = None, worker_id: str | None = None) -> Worker:
    """The engine with the production ports (call inside an app context)."""
    clock = SystemClock()
    transport = get_transport(app)
    settings = Settings(
        threads=int(threads or app.config.get("SEND_THREADS") or 0),
        lease=timedelta(seconds=float(app.config.get("SEND_LEASE_SECONDS", 300))),
        poll=float(app.config.get("SEND_POLL_SECONDS", 1.0)),
        housekeeping_every=min(1.0, float(app.config.get("SEND_POLL_SECONDS", 1.0))),
    )
    return Worker(
        worker_id or new_worker_id(),
        SqlDeliveryStore(app, clock),
        transport,
        SqlPacer(transport, clock.now),
        clock=clock,
        settings=settings,
    )


def run_worker(app: Flask, once: bool = False, threads: int | None = None) -> tuple[Worker, int]:
    """Run one delivery engine in this process until stopped (SIGTERM/SIGINT)."""
    with app.app_context():
        worker = worker_for(app, threads=threads)

        def stop(signum: int, frame: object) -> None:  # noqa: ARG001
            log.info("worker %s: stopping after the current batch", worker.id)
            worker.stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            sent = worker.run(once=once)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            db.session.remove()
            # Pooled SMTP connections end with the worker (SES has nothing to close).
            close = getattr(get_transport(app), "close", None)
            if close is not None:
                close()
    return worker, sent


def _child(app: Flask, once: bool, threads: int | None) -> None:
    # A forked child must not reuse the parent's database connections.
    with app.app_context():
        db.engine.dispose(close=False)
    run_worker(app, once=once, threads=threads)


def run_processes(app: Flask, processes: int, *, once: bool = False, threads: int | None = None) -> int:
    """Fork ``processes`` delivery processes and wait for them; SIGTERM/SIGINT
    here are passed on to each. Returns how many exited with an error."""
    # Each child drops the connections it inherits without closing them
    # (dispose(close=False) in _child); the parent keeps its own. Disposing
    # here too would orphan a connection a caller's session still holds.
    context = multiprocessing.get_context("fork")
    children: list[Any] = [
        context.Process(target=_child, args=(app, once, threads), name=f"deliver-{n}") for n in range(processes)
    ]
    for child in children:
        child.start()

    def forward(signum: int, frame: object) -> None:  # noqa: ARG001
        for child in children:
            if child.pid:
                os.kill(child.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for child in children:
            child.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return sum(1 for child in children if child.exitcode)
