"""Admin views for sends: list, live send page, control actions, and the
"schedule a send" flow with its confirmation. Thin: parse, check, call the
sends domain (app.sending.service), respond."""

from __future__ import annotations

import math
from datetime import datetime

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.admin import bp
from app.auth import admin_required
from app.db import db
from app.errors import InvalidInput, NotFound
from app.issues.models import Issue
from app.numbers import parse_id
from app.segments import store as segments_store
from app.sending import schedule, service
from app.sending.audience import Audience
from app.sending.models import Send, SendStatus
from app.sending.service import SendError
from app.settings import get_setting
from app.subscribers.models import MailingList
from app.timezones import canonical_zones, is_zone

ACTIONS = {
    "pause": service.pause,
    "resume": service.resume,
    "cancel": service.cancel,
    "resend-unknown": service.resend_unknown,
}
DONE_MESSAGES = {
    "pause": "Send paused: no new messages go out; those in flight are recorded.",
    "resume": "Send resumed.",
    "cancel": "Send cancelled.",
    "resend-unknown": "Recipients with an unknown outcome are queued again.",
}


def _timezone() -> str:
    return get_setting("reader_timezone") or "UTC"


def _status(send: Send) -> dict:
    counts = service.counts(send)
    rate = service.sent_rate(send)
    remaining = counts["queued"] + counts["claimed"]
    eta = math.ceil(remaining / rate) if rate > 0 and send.status == "running" else None
    return {
        "id": send.id,
        "status": send.status,
        "started": send.started_at is not None,
        # Recipients the send has not reached yet: before it starts, the lists' reach.
        "not_sent": remaining if send.started_at is not None else None,
        "pause_reason": send.pause_reason,
        "counts": counts,
        "total": sum(counts.values()),
        # A send that is over has no rate (the last minute's would read 0/s).
        "rate": round(rate, 1) if send.status in (SendStatus.RUNNING, SendStatus.PAUSED) else None,
        "eta_seconds": eta,
        "errors": [{"state": s, "reason": r, "count": n} for s, r, n in service.errors_by_reason(send)],
    }


@bp.get("/sends")
def sends():
    rows = db.session.scalars(select(Send).order_by(Send.id.desc()).limit(200)).all()
    # With approval required, a draft cannot be sent: offering it would only lead to a refusal.
    states = ("approved",) if get_setting("require_approval") else ("approved", "draft")
    sendable = db.session.scalars(
        select(Issue).where(Issue.status.in_(states)).order_by(Issue.updated_at.desc()).limit(100)
    ).all()
    return render_template(
        "admin/sends/index.html",
        sends=rows,
        tz=_timezone(),
        in_zone=schedule.in_zone,
        counts=service.counts_for(send.id for send in rows),
        sendable=sendable,
    )


@bp.get("/sends/<int:send_id>")
def sends_detail(send_id: int):
    send = db.get_or_404(Send, send_id)
    info = _status(send)
    if info["not_sent"] is None:  # counted once per page view, not on every poll
        info["not_sent"] = service.count_recipients(send.lists, send.segment_expression)
    return render_template(
        "admin/sends/detail.html",
        send=send,
        info=info,
        tz=send.timezone or _timezone(),
        in_zone=schedule.in_zone,
    )


@bp.get("/sends/<int:send_id>/status.json")
def sends_status(send_id: int):
    return jsonify(_status(db.get_or_404(Send, send_id)))


@bp.post("/sends/<int:send_id>/<action>")
@admin_required
def sends_control(send_id: int, action: str):
    send = db.get_or_404(Send, send_id)
    if action not in ACTIONS:
        abort(404)
    try:
        ACTIONS[action](send)
        db.session.commit()
    except SendError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.sends_detail", send_id=send.id), 303)
    flash(DONE_MESSAGES[action], "success")
    return redirect(url_for("admin.sends_detail", send_id=send.id), 303)


def _form_lists() -> list[MailingList]:
    ids = {i for i in (parse_id(v) for v in request.form.getlist("list")) if i is not None}
    if not ids:
        return []
    query = select(MailingList).where(MailingList.id.in_(ids)).order_by(MailingList.id)
    return list(db.session.scalars(query))


@bp.route("/sends/new", methods=["GET", "POST"])
@admin_required
def sends_new():
    issue_id = parse_id(request.values.get("issue"))
    issue = db.session.get(Issue, issue_id) if issue_id else None
    if issue is None:
        abort(404)
    form = request.form
    context = {
        "issue": issue,
        "lists": list(db.session.scalars(select(MailingList).order_by(MailingList.name))),
        "zones": canonical_zones(),
        "tz": form.get("timezone", "").strip() or _timezone(),
        # Without the radio (older scripts posting ``at``), a given time means "later".
        "when": form.get("when") or ("later" if form.get("at", "").strip() else "now"),
        "chosen": {lst.id for lst in issue.lists},
        "at": form.get("at", ""),
        "segments": segments_store.all_segments(),
        "audience_kind": "segment" if form.get("audience") == "segment" else "lists",
        "segment_id": parse_id(form.get("segment")),
    }
    if request.method == "GET":
        try:  # say at once what would refuse the send, not after the form is filled in
            service.check_sendable(issue)
        except SendError as exc:
            context["blocker"] = str(exc)
        return render_template("admin/sends/new.html", **context)
    try:
        chosen, audience = _form_audience(context)
        context["chosen"] = {lst.id for lst in chosen}
        at, tz = _chosen_time(context)
        if not chosen:
            raise SendError("Choose at least one list, or a segment.")
        if form.get("step") != "create":
            service.check_sendable(issue)
            return render_template(
                "admin/sends/confirm.html",
                estimate=service.estimate(chosen, audience.expression if audience else None),
                chosen_lists=chosen,
                audience=audience,
                at_utc=at,
                at_local=schedule.in_zone(at, tz) if at else None,
                **context,
            )
        send = service.create_send(
            issue, chosen, at=at, user=current_user, timezone=tz if at else None, audience=audience
        )
        db.session.commit()
    except (SendError, InvalidInput, NotFound) as exc:  # a segment gone or no longer valid, too
        db.session.rollback()
        flash(str(exc), "error")
        return render_template("admin/sends/new.html", **context), 422
    flash("Send scheduled." if at else "Send started: the worker picks it up within seconds.", "success")
    return redirect(url_for("admin.sends_detail", send_id=send.id), 303)


def _form_audience(context: dict) -> tuple[list[MailingList], Audience | None]:
    """The checked lists, or the chosen segment's lists and its condition as of now."""
    if context["audience_kind"] != "segment":
        return _form_lists(), None
    if context["segment_id"] is None:
        raise SendError("Choose a segment, or send to whole lists.")
    segment = segments_store.get_segment(context["segment_id"])
    return list(segment.lists), segments_store.audience(segment)


def _chosen_time(context: dict) -> tuple[datetime | None, str]:
    """The form's "Send now" or "Schedule for" choice as naive UTC (None: now)
    and the zone; a scheduled time must be given, exist and lie ahead."""
    tz = context["tz"]
    if context["when"] != "later":
        return None, tz
    if not is_zone(tz):
        raise SendError(f"Unknown time zone {tz!r}: pick one from the list, e.g. Europe/Berlin.")
    if not context["at"].strip():
        raise SendError("Give the date and time to send at, or choose Send now.")
    at = schedule.parse_schedule(context["at"], tz)
    schedule.refuse_past(at, tz)
    return at, tz
