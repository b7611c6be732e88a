"""The CSV import's mapping step: after the upload, before the import job,
the admin sees every extra column with a proposed attribute name and type."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin import bp
from app.attributes import ATTRIBUTE_TYPES
from app.db import db
from app.subscribers.csv_columns import MODES, apply_mapping
from app.subscribers.csv_import import CsvImportError
from app.subscribers.imports import propose_columns, queue_import, stored_csv
from app.subscribers.lists import ListError


@bp.route("/subscribers/import/columns/<int:upload_id>", methods=["GET", "POST"])
def subscribers_import_columns(upload_id: int):
    stored = stored_csv(upload_id, current_user.id)
    list_name = request.values.get("list_name", "")
    status = request.values.get("status", "active")
    try:
        proposal = propose_columns(stored)
    except CsvImportError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.subscribers_import"))
    if request.method == "POST":
        try:
            mapping = apply_mapping(proposal, request.form)
            job = queue_import(stored, list_name, status, current_user.id, mapping)
            db.session.commit()
        except (CsvImportError, ListError) as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            return redirect(url_for("admin.subscribers_import_status", job_id=job.id))
    page = render_template(
        "admin/subscribers/columns.html",
        upload=stored,
        proposal=proposal,
        list_name=list_name,
        status=status,
        types=ATTRIBUTE_TYPES,
        modes=MODES,
        form=request.form if request.method == "POST" else None,
    )
    return page, 400 if request.method == "POST" else 200
