"""Admin views for subscribers and lists: thin wrappers around
``app.subscribers`` (browse, service, imports, csv_export, lists).

Editors may browse, add, unsubscribe and import; suppressing, erasing,
exporting (personal data in bulk) and editing lists are for admins."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from app.admin import bp
from app.admin.subscriber_search import parse_search
from app.auth import admin_required
from app.db import db
from app.errors import DomainError, http_status
from app.numbers import parse_id
from app.reports.subscriber_history import history, timeline
from app.segments.store import all_segments
from app.sending.erasure import erase_subscriber
from app.subscribers import browse
from app.subscribers.attributes import attribute_errors, change_email, definitions, rename, update_attributes
from app.subscribers.bulk import ACTIONS, ADMIN_ONLY
from app.subscribers.confirmations import ConfirmationCapReached
from app.subscribers.csv_export import export_rows
from app.subscribers.csv_import import CsvImportError
from app.subscribers.imports import job_status, propose_columns, queue_import, store_csv
from app.subscribers.lists import ListError, create_list, slugify, update_list
from app.subscribers.models import MailingList, Subscriber, SubscriberImport
from app.subscribers.service import (
    SubscriberError,
    add_subscriber,
    get_subscriber,
    suppress_subscriber,
    unsubscribe,
)


def _subscriber_or_404(subscriber_id: int) -> Subscriber:
    try:
        return get_subscriber(subscriber_id)
    except SubscriberError:
        abort(404)


@bp.route("/subscribers")
def subscribers():
    search = parse_search(request.args)
    page = browse.search(
        search.filters,
        after=request.args.get("after"),
        before=request.args.get("before"),
        last=request.args.get("last") == "1",
    )
    # A segment's condition can make the count (exact up to 100,000) the slow part of
    # the page at a million rows: the page shows its rows at once and fetches the count.
    deferred = search.filters.condition is not None
    return render_template(
        "admin/subscribers/index.html",
        page=page,
        total=None if deferred else browse.count(search.filters),
        count_url=f"{url_for('admin.subscribers_count')}?{urlencode(list(request.args.items(multi=True)))}"
        if deferred
        else None,
        lists=browse.all_lists(),
        segments=all_segments(),
        filters=search.params,
        states=browse.STATES,
        actions=ACTIONS,
        admin_only=ADMIN_ONLY,
    )


@bp.get("/subscribers/count.json")
def subscribers_count():
    """The number of matches of the list's filters (the page loads it when a segment filters)."""
    total = browse.count(parse_search(request.args).filters)
    return jsonify(value=total.value, exact=total.exact)


@bp.route("/subscribers/add", methods=["POST"])
def subscribers_add():
    raw = request.form.get("list_id", "")
    mailing_list = db.get_or_404(MailingList, parse_id(raw) or 0)
    try:
        form = request.form
        subscriber = add_subscriber(
            form.get("email", ""),
            form.get("name", ""),
            mailing_list,
            form.get("status", "active"),
            source=f"admin:{current_user.email}",
            user_id=current_user.id,
        )
    except (SubscriberError, ConfirmationCapReached) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.subscribers"))
    browse.forget_counts()
    flash(f"{subscriber.email} added to {mailing_list.name}.", "success")
    return redirect(url_for("admin.subscribers_view", subscriber_id=subscriber.id))


def _view(subscriber: Subscriber, status: int = 200, **forms: Any) -> tuple[str, int]:
    """The subscriber page; ``forms`` carries a refused form's values and errors."""
    return render_template(
        "admin/subscribers/view.html",
        subscriber=subscriber,
        history=history(subscriber),
        timeline=timeline(subscriber),
        attributes=definitions(),
        lists=browse.all_lists(),
        states=browse.subscription_states(subscriber),
        **{"details": None, "attribute_form": None, **forms},
    ), status


@bp.route("/subscribers/<int:subscriber_id>")
def subscribers_view(subscriber_id: int):
    return _view(_subscriber_or_404(subscriber_id))


@bp.route("/subscribers/<int:subscriber_id>/details", methods=["POST"])
def subscribers_details(subscriber_id: int):
    """Name and address. A refused address is shown beside its field, the typed values kept."""
    subscriber = _subscriber_or_404(subscriber_id)
    form = {"name": request.form.get("name", ""), "email": request.form.get("email", "")}
    changed, errors, status = False, {}, 400
    for field, change in (("name", rename), ("email", change_email)):
        try:
            changed = change(subscriber, form[field], current_user) or changed
        except DomainError as exc:
            errors[field], status = str(exc), max(status, http_status(exc))
    if errors:
        db.session.rollback()
        return _view(_subscriber_or_404(subscriber_id), status, details={**form, "errors": errors})
    db.session.commit()
    flash("Saved." if changed else "Nothing changed.", "success")
    return redirect(url_for("admin.subscribers_view", subscriber_id=subscriber_id))


@bp.route("/subscribers/<int:subscriber_id>/attributes", methods=["POST"])
def subscribers_attributes(subscriber_id: int):
    subscriber = _subscriber_or_404(subscriber_id)
    types = definitions()
    changes = {key: request.form.get(f"attr.{key}", "").strip() or None for key in types}
    errors = attribute_errors(changes, types)
    if not errors:
        try:
            lines = update_attributes(subscriber, changes, current_user)
        except DomainError as exc:
            errors = {"": str(exc)}
    if errors:
        db.session.rollback()
        form = {"values": {k: v or "" for k, v in changes.items()}, "errors": errors}
        return _view(_subscriber_or_404(subscriber_id), 400, attribute_form=form)
    db.session.commit()
    flash(f"Attributes saved ({len(lines)} changed)." if lines else "Nothing changed.", "success")
    return redirect(url_for("admin.subscribers_view", subscriber_id=subscriber_id))


@bp.route("/subscribers/<int:subscriber_id>/unsubscribe", methods=["POST"])
def subscribers_unsubscribe(subscriber_id: int):
    subscriber = _subscriber_or_404(subscriber_id)
    raw = request.form.get("list_id", "")
    list_id = parse_id(raw)
    mailing_list = db.get_or_404(MailingList, list_id) if list_id else None
    unsubscribe(subscriber, mailing_list, everything=mailing_list is None, source=f"admin:{current_user.email}")
    browse.forget_counts()
    flash(f"Unsubscribed from {mailing_list.name if mailing_list else 'every list'}.", "success")
    return redirect(url_for("admin.subscribers_view", subscriber_id=subscriber_id))


@bp.route("/subscribers/<int:subscriber_id>/suppress", methods=["POST"])
@admin_required
def subscribers_suppress(subscriber_id: int):
    subscriber = _subscriber_or_404(subscriber_id)
    suppress_subscriber(subscriber, "manual", f"admin:{current_user.email}")
    browse.forget_counts()
    flash(f"{subscriber.email} is suppressed: nothing will be sent to it.", "success")
    return redirect(url_for("admin.subscribers_view", subscriber_id=subscriber_id))


@bp.route("/subscribers/<int:subscriber_id>/delete", methods=["POST"])
@admin_required
def subscribers_delete(subscriber_id: int):
    subscriber = _subscriber_or_404(subscriber_id)
    erase_subscriber(subscriber)
    browse.forget_counts()
    flash("Subscriber erased. A hash of the address stays on the suppression list.", "success")
    return redirect(url_for("admin.subscribers"))


@bp.route("/subscribers/import", methods=["GET", "POST"])
def subscribers_import():
    if request.method == "POST":
        try:
            list_name, status = request.form.get("list_name", ""), request.form.get("status", "active")
            stored = store_csv(request.files.get("file"), list_name, status, current_user.id)
            proposal = propose_columns(stored)  # no email column, not CSV: say so now, keep nothing
            job = None if proposal.columns else queue_import(stored, list_name, status, current_user.id)
            db.session.commit()
        except (CsvImportError, ListError) as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return render_template("admin/subscribers/import.html", lists=browse.all_lists()), 400
        if job is not None:  # only email and name: nothing to map
            return redirect(url_for("admin.subscribers_import_status", job_id=job.id))
        # Extra columns: the mapping step (columns -> attributes), then the job.
        return redirect(
            url_for("admin.subscribers_import_columns", upload_id=stored.id, list_name=list_name, status=status)
        )
    return render_template("admin/subscribers/import.html", lists=browse.all_lists())


@bp.route("/subscribers/imports/<int:job_id>")
def subscribers_import_status(job_id: int):
    job = db.get_or_404(SubscriberImport, job_id)
    return render_template("admin/subscribers/import_status.html", job=job, status=job_status(job))


@bp.route("/subscribers/imports/<int:job_id>.json")
def subscribers_import_progress(job_id: int):
    return jsonify(job_status(db.get_or_404(SubscriberImport, job_id)))


@bp.route("/subscribers/lists/<int:list_id>/export.csv")
@admin_required
def subscribers_export(list_id: int):
    mailing_list = db.get_or_404(MailingList, list_id)
    status = request.args.get("status") or None
    filename = f"{mailing_list.slug or 'list'}-subscribers.csv"
    return Response(
        stream_with_context(export_rows(mailing_list, status, sorted(definitions()))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _list_form() -> dict:
    form = request.form
    return {
        "name": form.get("name", ""),
        "display_name": form.get("display_name", ""),
        "language": form.get("language", ""),
        "slug": form.get("slug", ""),
        "description": form.get("description", ""),
        "from_address": form.get("from_address", ""),
        "public": form.get("public") == "on",
    }


@bp.route("/subscribers/lists", methods=["GET", "POST"])
def subscribers_lists():
    if request.method == "POST":
        if not current_user.is_admin:
            abort(403)
        data = _list_form()
        try:
            mailing_list = create_list(
                data["name"],
                public=data["public"],
                description=data["description"],
                from_address=data["from_address"],
                commit=False,
            )
            if (
                (data["slug"] and slugify(data["slug"]) != mailing_list.slug)
                or data["display_name"].strip()
                or data["language"] not in ("", "en")
            ):
                update_list(mailing_list, **data)
            db.session.commit()
        except ListError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return render_template(
                "admin/lists/index.html", lists=browse.all_lists(), counted=_counts(), form=data
            ), 400
        browse.forget_counts()
        flash(f"List {mailing_list.name} created.", "success")
        return redirect(url_for("admin.subscribers_lists"))
    return render_template("admin/lists/index.html", lists=browse.all_lists(), counted=_counts(), form={})


def _counts() -> browse.ListCounts:
    return browse.list_counts(fresh=request.args.get("recount") == "1")


@bp.route("/subscribers/lists/<int:list_id>", methods=["GET", "POST"])
def subscribers_lists_edit(list_id: int):
    mailing_list = db.get_or_404(MailingList, list_id)
    if request.method == "POST":
        if not current_user.is_admin:
            abort(403)
        try:
            update_list(mailing_list, **_list_form())
        except ListError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return render_template(
                "admin/lists/edit.html",
                mailing_list=mailing_list,
                form=_list_form(),
                counts=browse.list_counts().counts.get(list_id, {}),
            ), 400
        flash("List saved.", "success")
        return redirect(url_for("admin.subscribers_lists"))
    form = {
        "name": mailing_list.name,
        "display_name": mailing_list.display_name or "",
        "language": mailing_list.language,
        "slug": mailing_list.slug,
        "description": mailing_list.description,
        "from_address": mailing_list.from_address or "",
        "public": mailing_list.public,
    }
    return render_template(
        "admin/lists/edit.html",
        mailing_list=mailing_list,
        form=form,
        counts=browse.list_counts().counts.get(list_id, {}),
    )
