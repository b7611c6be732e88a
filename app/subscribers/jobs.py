"""The subscribers domain's background jobs (wired in :mod:`app.job_handlers`)."""

from __future__ import annotations

from typing import Any

from app.jobs import JobContext
from app.subscribers.confirmations import run_confirmations
from app.subscribers.imports import run_import_job
from app.subscribers.service import process_signup


def import_csv_job(context: JobContext) -> dict[str, Any]:
    return run_import_job(context)


def confirmations_job(context: JobContext) -> dict[str, int]:
    return run_confirmations(context)


def signup_job(context: JobContext) -> None:
    payload = context.payload
    hints = {str(k): str(v) for k, v in (payload.get("hints") or {}).items()}
    process_signup(str(payload["email"]), str(payload.get("name") or ""), [int(i) for i in payload["lists"]], hints)
