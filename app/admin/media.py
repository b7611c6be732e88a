"""Admin views for the media library: thin wrappers around ``app.media.service``."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from app.admin import bp
from app.auth import contributors_allowed
from app.db import db
from app.issues.media_usage import delete_media, issues_using
from app.media.models import MediaItem
from app.media.service import (
    MediaError,
    MediaInUse,
    markdown_snippet,
    public_url,
    search,
    set_alt_text,
    site_markdown,
    upload,
)
from app.numbers import parse_id, parse_int

# The editor's image picker shows this many matches at most (the archive has hundreds).
PICKER_LIMIT_MAX = 200


def _get_item(item_id: int) -> MediaItem:
    item = db.session.get(MediaItem, item_id)
    if item is None:
        abort(404)
    return item


def _issue_url(issue) -> str | None:
    """Link to the issue editor when the authoring area provides one."""
    try:
        return url_for("admin.issues_edit", issue_id=issue.id)
    except BuildError:
        return None


def _cards(items: list[MediaItem]) -> list[dict]:
    return [
        {
            "item": item,
            "url": public_url(item),
            "snippet": markdown_snippet(item),
            "usages": [(issue, _issue_url(issue)) for issue in issues_using(item)],
        }
        for item in items
    ]


def _page(query: str = "", errors: list[str] | None = None, status: int = 200, confirm: dict | None = None):
    return render_template(
        "admin/media/index.html", cards=_cards(search(query)), query=query, errors=errors or [], confirm=confirm
    ), status


@bp.route("/media")
@contributors_allowed
def media():
    return _page(request.args.get("q", ""))


def _item_json(item: MediaItem) -> dict:
    """One library item for the editor: ``markdown`` is what it inserts."""
    return {
        "id": item.id,
        "path": item.path,
        "url": public_url(item),
        "snippet": markdown_snippet(item),
        "markdown": site_markdown(item),
        "alt_text": item.alt_text,
        "width": item.width,
        "height": item.height,
        "name": item.original_name,
    }


@bp.route("/media.json")
@contributors_allowed
def media_json():
    """The library as JSON, for the editor's image picker: ``q`` searches, ``limit`` caps."""
    limit = parse_int(request.args.get("limit"), high=10**9)
    limit = None if limit is None else max(1, min(limit, PICKER_LIMIT_MAX))
    return jsonify([_item_json(item) for item in search(request.args.get("q", ""), limit)])


@bp.route("/media.json", methods=["POST"])
@contributors_allowed
def media_json_upload():
    """Upload one image (multipart ``file``, optional ``alt_text``) from the editor.
    The same validation as the Media page; CSRF through the X-CSRFToken header.
    201 with the item, or 400 with the message."""
    storage_file = request.files.get("file")
    if storage_file is None or not storage_file.filename:
        return jsonify(error="Choose an image to upload."), 400
    try:
        item = upload(
            storage_file.filename, storage_file.read(), current_user, alt_text=request.form.get("alt_text", "")
        )
    except MediaError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(_item_json(item)), 201


@bp.route("/media/<int:item_id>/alt.json", methods=["POST"])
@contributors_allowed
def media_alt_json(item_id: int):
    """Set an item's alt text from the editor (JSON ``{"alt_text": ...}``)."""
    item = _get_item(item_id)
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("alt_text"), str):
        return jsonify(error="Expected a JSON object with alt_text."), 400
    try:
        set_alt_text(item, data["alt_text"])
    except MediaError as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 400
    return jsonify(_item_json(item))


@bp.route("/media/upload", methods=["POST"])
@contributors_allowed
def media_upload():
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if not files:
        return _page(errors=["Choose at least one image to upload."], status=400)
    errors: list[str] = []
    created: list[MediaItem] = []
    for storage_file in files:
        # Each file stands alone: a refused one writes nothing and does not block the others.
        try:
            created.append(upload(storage_file.filename or "", storage_file.read(), current_user))
        except MediaError as exc:
            errors.append(f"{storage_file.filename}: {exc}")
    if request.accept_mimetypes.best == "application/json":
        created_json = [{"id": i.id, "path": i.path, "snippet": markdown_snippet(i)} for i in created]
        return jsonify({"created": created_json, "errors": errors}), (400 if errors else 200)
    if errors:
        for item in created:
            flash(f"Uploaded {item.original_name}.", "success")
        return _page(errors=errors, status=400)
    flash(f"Uploaded {len(created)} image(s).", "success")
    return redirect(url_for("admin.media"))


@bp.route("/media/<int:item_id>/alt", methods=["POST"])
@contributors_allowed
def media_alt(item_id: int):
    item = _get_item(item_id)
    try:
        set_alt_text(item, request.form.get("alt_text", ""))
    except MediaError as exc:
        db.session.rollback()
        return _page(errors=[str(exc)], status=400)
    flash("Alt text saved.", "success")
    return redirect(url_for("admin.media", q=request.args.get("q", "")))


@bp.route("/media/<int:item_id>/delete", methods=["POST"])
def media_delete(item_id: int):
    item = _get_item(item_id)
    confirmed = [i for i in (parse_id(x) for x in request.form.getlist("confirm_issue")) if i is not None]
    try:
        delete_media(item, confirmed)
    except MediaInUse as exc:
        return _page(errors=[str(exc)], status=409, confirm={"item": item, "issues": exc.issues})
    flash("Image deleted.", "success")
    return redirect(url_for("admin.media"))
