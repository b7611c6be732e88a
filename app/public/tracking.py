"""Public views: click redirect ``/r/<token>`` and open pixel ``/o/<token>.gif``.
Recording a hit never blocks the reader: the redirect or pixel is served even
if the database write fails."""

from __future__ import annotations

import base64

from flask import abort, current_app, redirect, request

from app.db import db
from app.errors import http_status
from app.public import bp
from app.sending.feedback import record_event
from app.sending.models import Delivery
from app.sending.tracking import InvalidTracking, read_open_token, resolve_click
from app.settings import get_setting

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@bp.route("/r/<token>")
def track_click(token: str):
    try:
        delivery, url = resolve_click(token)
    except InvalidTracking as exc:
        abort(http_status(exc), str(exc))
    # Link checkers often probe with HEAD: only a GET (a browser following the link) counts.
    if request.method == "GET":
        try:
            record_event(delivery, "click", url=url)
            db.session.commit()
        except Exception:  # the reader still gets where they were going
            db.session.rollback()
            current_app.logger.exception("could not record a click")
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/o/<token>.gif")
def track_open(token: str):
    try:
        delivery = db.session.get(Delivery, read_open_token(token))
    except InvalidTracking:
        abort(400, "This pixel is not valid.")
    if delivery is not None and get_setting("track_opens"):
        try:
            record_event(delivery, "open")
            db.session.commit()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("could not record an open")
    return PIXEL, 200, {"Content-Type": "image/gif", "Cache-Control": "no-store, private"}
