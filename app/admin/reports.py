"""Admin views for reports: one page per send, its CSV export, and a list."""

from __future__ import annotations

from flask import Response, render_template, stream_with_context

from app.admin import bp
from app.auth import admin_required
from app.db import db
from app.reports import figures
from app.reports.service import problems, recent_sends, recipients_csv, send_report, timeline, top_links
from app.sending.models import Send
from app.settings import get_setting


@bp.route("/reports/")
def reports():
    return render_template("admin/reports/index.html", recent=recent_sends(limit=50))


@bp.route("/reports/<int:send_id>")
def reports_send(send_id: int):
    send = db.get_or_404(Send, send_id, description="There is no such send.")
    report = send_report(send)
    hours, counts = timeline(send)
    summary, latest = problems(send)
    return render_template(
        "admin/reports/send.html",
        send=send,
        report=report,
        funnel=figures.funnel_figure(report),
        rates=figures.rate_figures(report),
        timeline=figures.timeline_figure(hours, counts),
        links=top_links(send),
        problem_summary=summary,
        problem_events=latest,
        track_clicks=get_setting("track_clicks"),
        track_opens=get_setting("track_opens"),
    )


@bp.route("/reports/<int:send_id>.csv")
@admin_required  # every recipient's address and behaviour: personal data in bulk, like list exports
def reports_send_csv(send_id: int):
    send = db.get_or_404(Send, send_id, description="There is no such send.")
    slug = send.issue.slug if send.issue is not None else f"send-{send.id}"
    return Response(
        stream_with_context(recipients_csv(send)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="report-{slug}-{send.id}.csv"'},
    )
