"""Public views: media files. Local storage is served here; with S3 the same
URLs redirect to the bucket's public URL, so links in old issues keep working.

``/images/<key>`` exists because the imported archive links images as
``{{ site.github.url }}/images/...``, which resolves to the site root."""

from __future__ import annotations

import mimetypes

from flask import Response, abort, redirect
from werkzeug.wrappers import Response as BaseResponse

from app.media.storage import LocalStorage, StorageError, check_key, get_storage
from app.public import bp

IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


def _serve(key: str) -> BaseResponse:
    try:
        check_key(key)
    except StorageError:
        abort(404)
    content_type = IMAGE_TYPES.get(key.rsplit(".", 1)[-1].lower())
    if content_type is None:
        # Only validated raster images are ever stored; never serve anything else.
        abort(404)
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        if not storage.exists(key):
            abort(404)
        return redirect(storage.public_url(key), code=302)
    try:
        data = storage.get(key)
    except (KeyError, StorageError):
        abort(404)
    response = Response(data, content_type=content_type or mimetypes.guess_type(key)[0])
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/media/<path:key>")
def media_file(key: str) -> BaseResponse:
    return _serve(key)


@bp.route("/images/<path:key>")
def archive_image(key: str) -> BaseResponse:
    return _serve(f"images/{key}")
