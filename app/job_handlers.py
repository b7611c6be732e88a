"""Which function runs which kind of job: the one place that knows every
domain's background work. Wired by the app factory; the worker only sees
this mapping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.issues import notifications
from app.jobs import Handler, JobContext
from app.reports.retention import apply_retention
from app.segments.store import compile_expression
from app.sending.erasure import erase_subscriber
from app.sending.service import scheduled_times
from app.subscribers import bulk, bulk_export
from app.subscribers import jobs as subscriber_jobs


def _retention(context: JobContext) -> dict[str, int]:
    return {"removed": apply_retention()}


def _bulk(context: JobContext) -> dict[str, Any]:
    """A bulk action on every match; the segment's text and lists were frozen
    into the job when the admin confirmed, and erasure is sending's (it blanks
    the address in deliveries and feedback too)."""
    segment = (context.payload.get("filters") or {}).get("segment")
    condition = compile_expression(str(segment["expression"]), [int(i) for i in segment["lists"]]) if segment else None
    return bulk.run_job(context, condition, erase_subscriber)


def _drop_old_exports(context: JobContext) -> dict[str, int]:
    return {"dropped": bulk_export.drop_old_exports(bulk.KIND)}


def _assignment_reminders(context: JobContext) -> dict[str, int]:
    """Issues know placeholders; when an issue's send is scheduled is the sends domain's."""
    return notifications.reminder_job(context, scheduled_times)


def handlers() -> dict[str, Handler]:
    return {
        "reports.retention": _retention,
        "subscribers.import": subscriber_jobs.import_csv_job,
        bulk.KIND: _bulk,
        "subscribers.drop_old_exports": _drop_old_exports,
        "subscribers.confirmations": subscriber_jobs.confirmations_job,
        "subscribers.signup": subscriber_jobs.signup_job,
        notifications.NOTIFY_KIND: notifications.notify_job,
        notifications.DIGEST_KIND: notifications.digest_job,
        notifications.REMIND_KIND: _assignment_reminders,
    }


PERIODIC = {
    "reports.retention": timedelta(hours=1),
    "subscribers.drop_old_exports": timedelta(hours=1),
    notifications.DIGEST_KIND: timedelta(days=1),
    notifications.REMIND_KIND: timedelta(hours=1),
}
