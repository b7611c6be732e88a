"""Bulk actions from the subscriber list: the request names an action and
either the ticked subscribers (``ids``) or every match of the search
(``scope=all``); a page asking "Erase 10,000 subscribers?" comes first, and
only its button (``confirm=1``) acts. A ticked selection runs in the request;
all matches become a worker job whose page shows its progress."""

from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.subscriber_search import parse_search
from app.auth import admin_required
from app.db import db
from app.jobs import read_upload
from app.jobs.models import Job
from app.numbers import parse_id, parse_ids
from app.sending.erasure import erase_subscriber
from app.subscribers import browse, bulk, bulk_export

MAX_SELECTED = 500  # a ticked selection is a page (50); more is not a selection


def _actor() -> bulk.Actor:
    return bulk.Actor(current_user.id, current_user.email, current_user.is_admin)


def _job_or_404(bulk_id: int) -> Job:
    job = db.get_or_404(Job, bulk_id)
    if job.kind != bulk.KIND:
        abort(404)
    return job


@bp.route("/subscribers/bulk", methods=["POST"])
def subscribers_bulk():
    form = request.form
    search = parse_search(form)
    everything = form.get("scope") == "all"
    ids = None if everything else parse_ids(form.getlist("ids"))
    if (ids is None and not everything) or (ids is not None and len(ids) > MAX_SELECTED):
        abort(400)
    chosen = bulk.plan(form.get("action", ""), parse_id(form.get("target_list") or ""), ids, _actor())
    total = browse.count(search.filters) if everything else browse.Count(len(chosen.ids or []), True)
    if form.get("confirm") != "1":
        return render_template("admin/subscribers/bulk_confirm.html", plan=chosen, total=total, search=search)
    if everything:
        job = bulk.start_job(chosen, search.frozen(), total.value, _actor())
        db.session.commit()
        return redirect(url_for("admin.subscribers_bulk_status", bulk_id=job.id))
    if chosen.action == "export":
        return _csv(bulk_export.export_selection(chosen.ids or []), "subscribers-selection.csv")
    counts = bulk.run_now(chosen, _actor(), erase_subscriber)
    flash(f"{chosen.label}: {bulk.summary(counts) or 'nothing to change'}.", "success")
    return redirect(url_for("admin.subscribers", **search.params))


@bp.route("/subscribers/bulk/<int:bulk_id>")
def subscribers_bulk_status(bulk_id: int):
    job = _job_or_404(bulk_id)
    return render_template("admin/subscribers/bulk_status.html", job=job, status=bulk.job_view(job))


@bp.route("/subscribers/bulk/<int:bulk_id>.json")
def subscribers_bulk_progress(bulk_id: int):
    return jsonify(bulk.job_view(_job_or_404(bulk_id)))


@bp.route("/subscribers/bulk/<int:bulk_id>/export.csv")
@admin_required
def subscribers_bulk_export(bulk_id: int):
    upload_id = (_job_or_404(bulk_id).result or {}).get("upload")
    if not upload_id:
        abort(404)
    chunks = (chunk.decode("utf-8") for chunk in read_upload(int(upload_id)))
    return _csv(chunks, f"subscribers-{bulk_id}.csv")


def _csv(lines, filename: str) -> Response:  # noqa: ANN001 (an iterator of text)
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
