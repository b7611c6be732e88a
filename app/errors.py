"""Friendly error pages; a user never sees a traceback."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.db import db


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template("error.html", code=400, title="Form expired",
                               message="The form was missing its security token or it expired. "
                                       "Go back, reload the page and try again."), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith("/webhooks/") or request.accept_mimetypes.best == "application/json":
            return {"error": error.name, "message": error.description}, error.code
        return render_template("error.html", code=error.code, title=error.name,
                               message=error.description), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_template("error.html", code=500, title="Something went wrong",
                               message="The error was logged. Nothing you submitted was half-saved."), 500
