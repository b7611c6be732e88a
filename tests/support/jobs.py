"""Running the worker's background jobs inside a test."""

from __future__ import annotations

from flask import Flask

from app.db import db
from app.jobs import runner


def run_jobs(app: Flask) -> int:
    """Run every job that is due (as ``pressroom worker`` would); returns how many ran."""
    db.session.commit()
    total = 0
    job_runner = runner("test-worker", app)
    while ran := job_runner.tick():
        total += ran
    db.session.expire_all()
    return total
