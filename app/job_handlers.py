"""Which function runs which kind of job: the one place that knows every
domain's background work. Wired by the app factory; the worker only sees
this mapping."""

from __future__ import annotations

from datetime import timedelta

from app.jobs import Handler, JobContext
from app.reports.retention import apply_retention
from app.subscribers import jobs as subscriber_jobs


def _retention(context: JobContext) -> dict[str, int]:
    return {"removed": apply_retention()}


def handlers() -> dict[str, Handler]:
    return {
        "reports.retention": _retention,
        "subscribers.import": subscriber_jobs.import_csv_job,
        "subscribers.confirmations": subscriber_jobs.confirmations_job,
        "subscribers.signup": subscriber_jobs.signup_job,
    }


PERIODIC = {"reports.retention": timedelta(hours=1)}
