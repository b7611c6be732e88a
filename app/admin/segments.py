"""Segments in the admin: the list, the editor with its builder and live
count, and the JSON preview the editor calls as you type."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.admin import bp
from app.db import db
from app.errors import DomainError
from app.numbers import parse_id
from app.segments import store
from app.segments.models import Segment
from app.subscribers.attributes import definitions
from app.subscribers.models import MailingList


def _all_lists() -> list[MailingList]:
    return list(db.session.scalars(select(MailingList).order_by(MailingList.name)))


def _chosen_lists(values: list[str]) -> list[MailingList]:
    ids = {i for i in (parse_id(v) for v in values) if i is not None}
    return list(db.session.scalars(select(MailingList).where(MailingList.id.in_(ids)))) if ids else []


def _editor(segment: Segment | None, status: int = 200, error: DomainError | None = None):
    form = request.form
    context = {
        "segment": segment,
        "lists": _all_lists(),
        "attributes": definitions(),
        "name": form.get("name", segment.name if segment else ""),
        "expression": form.get("expression", segment.expression if segment else ""),
        "chosen": {lst.id for lst in _chosen_lists(form.getlist("list"))}
        if request.method == "POST"
        else {lst.id for lst in (segment.lists if segment else [])},
        "error": error,
    }
    return render_template("admin/segments/edit.html", **context), status


@bp.route("/segments")
def segments():
    return render_template("admin/segments/index.html", segments=store.all_segments())


@bp.route("/segments/new", methods=["GET", "POST"])
def segments_new():
    if request.method == "GET":
        return _editor(None)
    form = request.form
    try:
        segment = store.create_segment(
            form.get("name", ""), _chosen_lists(form.getlist("list")), form.get("expression", ""), current_user.id
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _editor(None, 422, exc)
    flash(f"Segment “{segment.name}” saved.", "success")
    return redirect(url_for("admin.segments_edit", segment_id=segment.id), 303)


@bp.route("/segments/<int:segment_id>", methods=["GET", "POST"])
def segments_edit(segment_id: int):
    segment = store.get_segment(segment_id)
    if request.method == "GET":
        return _editor(segment)
    form = request.form
    try:
        store.update_segment(
            segment, form.get("name", ""), _chosen_lists(form.getlist("list")), form.get("expression", "")
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _editor(store.get_segment(segment_id), 422, exc)
    flash(
        f"Segment “{segment.name}” saved. Sends already scheduled keep the condition they were scheduled with.",
        "success",
    )
    return redirect(url_for("admin.segments_edit", segment_id=segment.id), 303)


@bp.route("/segments/<int:segment_id>/delete", methods=["POST"])
def segments_delete(segment_id: int):
    segment = store.get_segment(segment_id)
    name = segment.name
    store.delete_segment(segment)
    db.session.commit()
    flash(f"Segment “{name}” deleted. Sends made for it keep its name and condition.", "success")
    return redirect(url_for("admin.segments"), 303)


@bp.route("/segments/<int:segment_id>/count.json")
def segments_count(segment_id: int):
    """How many readers the saved segment reaches now (the list page asks per row)."""
    segment = store.get_segment(segment_id)
    try:
        result = store.preview(segment.lists, segment.expression, limit=0)
    except DomainError as exc:
        return jsonify({"error": str(exc)}), 422
    return jsonify({"count": result.count})


@bp.route("/segments/preview", methods=["POST"])
def segments_preview():
    """{count, sample, canonical} for the lists and expression being edited,
    or {error, column} (422) pointing at the problem."""
    data = request.get_json(silent=True) or {}
    lists = _chosen_lists([str(v) for v in data.get("lists", [])][:100])
    expression = str(data.get("expression", ""))[:5000]
    try:
        result = store.preview(lists, expression)
    except DomainError as exc:
        return jsonify({"error": str(getattr(exc, "detail", exc)), "column": getattr(exc, "column", None)}), 422
    return jsonify({"count": result.count, "sample": result.sample, "canonical": result.canonical})
