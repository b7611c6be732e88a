"""Durable background jobs (see :mod:`app.jobs.models`). The app factory
registers the handlers of every kind (:func:`init_app`); this package knows
none of them, so it stays below every domain."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from flask import Flask, current_app

from app.jobs.queue import enqueue, read_upload, set_progress, store_upload
from app.jobs.runner import Handler, JobContext, JobRunner, RetryLater

__all__ = [
    "Handler",
    "JobContext",
    "JobRunner",
    "RetryLater",
    "enqueue",
    "init_app",
    "read_upload",
    "runner",
    "set_progress",
    "store_upload",
]

EXTENSION = "pressroom.jobs"


def init_app(app: Flask, handlers: Mapping[str, Handler], periodic: Mapping[str, timedelta] | None = None) -> None:
    app.extensions[EXTENSION] = (dict(handlers), dict(periodic or {}))


def runner(worker_id: str, app: Flask | None = None) -> JobRunner:
    """A runner with the app's handlers (one per worker process)."""
    handlers, periodic = (app or current_app).extensions[EXTENSION]
    return JobRunner(handlers, worker_id, periodic=periodic)
