"""Domain errors and the one place they become HTTP answers.

Domain code raises a subclass of :class:`DomainError` whose *kind* says what
went wrong (the input, a missing thing, a conflict with the stored state, a
refusal by a rule, too many requests); it never carries an HTTP code. Views
may catch these to flash a message; anything they let through is turned into a
4xx page or JSON here, with the message shown as is. A user never sees a
traceback, and nothing half-saved survives an unexpected error."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.db import db

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "Refused",
    "TooLarge",
    "TooMany",
    "Unavailable",
    "http_status",
    "init_app",
]


class DomainError(Exception):
    """A refusal the user can act on; the message is shown as is."""


class InvalidInput(DomainError, ValueError):
    """The input itself is wrong (a malformed date, an unknown list)."""


class NotFound(DomainError, LookupError):
    """What the request names does not exist (or no longer does)."""


class Forbidden(DomainError):
    """The caller may not do this (a role, a signature that does not verify)."""


class Conflict(DomainError):
    """The stored state moved on (someone else saved, the issue was sent)."""


class Refused(DomainError):
    """Well-formed, but a rule says no (preflight errors, approval missing)."""


class TooLarge(DomainError):
    """The input is over a size limit."""


class TooMany(DomainError):
    """A rate or quota limit; try again later."""


class Unavailable(DomainError):
    """Something this depends on failed; retrying later may work."""


_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidInput, 400),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (TooLarge, 413),
    (Refused, 422),
    (TooMany, 429),
    (Unavailable, 503),
)


def http_status(error: DomainError) -> int:
    """The HTTP status of a domain error. A domain's base error is usually
    InvalidInput and its special cases add a more precise kind
    (``class ConflictError(IssueError, Conflict)``): the precise kind wins."""
    statuses = dict(_STATUS)
    kinds = [kind for kind in type(error).__mro__ if kind in statuses]
    precise = [kind for kind in kinds if kind is not InvalidInput]
    return statuses[(precise or kinds or [InvalidInput])[0]]


def _wants_json() -> bool:
    return (
        request.path.startswith(("/webhooks/", "/api/"))
        or request.accept_mimetypes.best == "application/json"
        or request.is_json
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template(
            "error.html",
            code=400,
            title="Form expired",
            message="The form was missing its security token or it expired. Go back, reload the page and try again.",
        ), 400

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        status = http_status(error)
        if _wants_json():
            return {"error": type(error).__name__, "message": str(error)}, status
        return render_template("error.html", code=status, title="That did not work", message=str(error)), status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _wants_json():
            return {"error": error.name, "message": error.description}, error.code
        if error.code == 404 and not request.path.startswith(("/admin", "/webhooks")):
            # A reader followed a wrong or old address: the site's own page, in their language.
            return render_template("public/not_found.html"), 404
        return render_template("error.html", code=error.code, title=error.name, message=error.description), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_template(
            "error.html",
            code=500,
            title="Something went wrong",
            message="The error was logged. Nothing you submitted was half-saved.",
        ), 500
