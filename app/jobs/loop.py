"""Running jobs beside deliveries, in a thread of the worker process (never
in a web process): it has its own app context and database session."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from app.db import db
from app.jobs import runner as make_runner

__all__ = ["JobLoop", "run_jobs_once"]

log = logging.getLogger(__name__)


class JobLoop(threading.Thread):
    def __init__(self, app: Flask, worker_id: str, stop: threading.Event, poll: float = 1.0) -> None:
        super().__init__(name="jobs", daemon=True)
        self.app, self.worker_id, self.stop_event, self.poll = app, worker_id, stop, poll

    def run(self) -> None:
        with self.app.app_context():
            runner = make_runner(self.worker_id, self.app)
            while not self.stop_event.is_set():
                try:
                    ran = runner.tick()
                except Exception:  # the database went away for a moment: try again next poll
                    db.session.rollback()
                    log.exception("job loop: tick failed")
                    ran = 0
                if not ran:
                    self.stop_event.wait(self.poll)
            db.session.remove()


def run_jobs_once(app: Flask, worker_id: str) -> int:
    """Everything due, now (``pressroom worker --once``, tests)."""
    with app.app_context():
        total = 0
        runner = make_runner(worker_id, app)
        while ran := runner.tick():
            total += ran
        return total
