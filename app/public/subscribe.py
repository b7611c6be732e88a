"""Public views: signup with double opt-in, confirm, unsubscribe, resubscribe.

Unsubscribe GET changes nothing (link scanners and prefetchers follow GET);
POST acts, including the RFC 8058 one-click POST that mail providers send
without cookies or CSRF token, so those views are CSRF-exempt: the signed
per-recipient token in the URL is what authorises them."""

from __future__ import annotations

from flask import Response, current_app, make_response, render_template, request

from app.db import db
from app.i18n import gettext as _
from app.i18n import use_language
from app.numbers import parse_id
from app.public import bp
from app.security import PUBLIC_CSP, csrf, limiter
from app.subscribers import preferences
from app.subscribers.lists import public_lists
from app.subscribers.service import (
    SubscriberError,
    TokenError,
    confirm,
    lists_to_confirm,
    read_target,
    resubscribe,
    signup,
    unsubscribe,
)
from app.tokens import InvalidToken

HONEYPOT = "website"


def _signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def subscribe():
    lists = public_lists()
    if len(lists) == 1:
        use_language(lists[0].language)
    if request.method == "GET":
        return _with_hints_script(render_template("public/subscribe.html", lists=lists, form={}, error=None))
    if request.form.get(HONEYPOT):
        # A bot filled the invisible field: pretend success, do nothing.
        return render_template("public/subscribe_done.html")
    if len(lists) == 1:
        chosen = [lists[0].id]
    else:
        chosen = [i for i in (parse_id(v) for v in request.form.getlist("list")) if i is not None]
    try:
        signup(request.form.get("email", ""), request.form.get("name", ""), chosen, _browser_hints())
        db.session.commit()
    except SubscriberError as exc:
        page = render_template("public/subscribe.html", lists=lists, form=request.form, error=str(exc))
        return _with_hints_script(page), 400
    return render_template("public/subscribe_done.html")


def _with_hints_script(page: str) -> Response:
    """Public pages run no script; this page, which shows no newsletter
    content, runs one of our own files: the time-zone hint."""
    response = make_response(page)
    response.headers["Content-Security-Policy"] = PUBLIC_CSP.replace("script-src 'none'", "script-src 'self'")
    return response


def _browser_hints() -> dict[str, str]:
    """The reader's time zone (filled in by /subscribe's script) and the
    language their browser asks for first (its Accept-Language header)."""
    languages = [value for value, _quality in request.accept_languages if value != "*"]
    return {"time_zone": request.form.get("time_zone", ""), "language": languages[0] if languages else ""}


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm_subscription(token: str):
    try:
        pending = lists_to_confirm(token)
        use_language(pending[0].language if pending else None)
        if request.method == "GET":
            return render_template("public/confirm.html", lists=pending)
        lists = confirm(token)
    except TokenError as exc:
        return render_template("public/confirm_invalid.html", message=str(exc)), 400
    return render_template("public/confirm_done.html", lists=lists)


def _language_of(target) -> str | None:
    """The unsubscribe page speaks the language of the list its link is for."""
    if target.mailing_list is not None:
        return target.mailing_list.language
    subscriptions = target.subscriber.subscriptions if target.subscriber else []
    return subscriptions[0].list.language if subscriptions else None


def _preferences_page(target, *, saved: list[str] | None = None, error: str | None = None) -> str:
    subscriber = target.subscriber
    return render_template(
        "public/unsubscribe.html",
        target=target,
        choices=preferences.choices(subscriber) if subscriber else [],
        blocked=preferences.blocked_reason(subscriber) if subscriber else None,
        saved=saved,
        error=error,
    )


def _invalid_unsubscribe():
    return render_template("public/unsubscribe_invalid.html"), 400


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe_page(token: str):
    try:
        target = read_target(token)
    except InvalidToken:
        return _invalid_unsubscribe()
    use_language(_language_of(target))
    if request.method == "GET":
        return _preferences_page(target)
    if request.form.get("action") == "preferences" and target.subscriber is not None:
        # The preference centre's own form; a one-click POST (RFC 8058) never has it.
        try:
            wanted = [i for i in (parse_id(v) for v in request.form.getlist("list")) if i is not None]
            changed = preferences.save_choices(target.subscriber, wanted, request.form.get("name"))
            db.session.commit()
        except SubscriberError as exc:
            db.session.rollback()
            return _preferences_page(target, error=str(exc)), 400
        return _preferences_page(target, saved=changed or [_("nothing changed")])
    everything = request.form.get("scope") == "all"
    resubscribe_token = None
    if target.list_gone and not everything:
        pass  # a deleted list sends nothing: never widen this into "unsubscribe from everything"
    elif target.subscriber is not None:
        resubscribe_token = unsubscribe(target.subscriber, target.mailing_list, everything=everything)
    return render_template(
        "public/unsubscribe_done.html", target=target, everything=everything, resubscribe_token=resubscribe_token
    )


@bp.route("/resubscribe", methods=["POST"])
@csrf.exempt  # the signed, short-lived resubscribe token in the form is the proof
def resubscribe_page():
    try:
        resubscribe(request.form.get("token", ""))
    except TokenError as exc:
        return render_template("public/confirm_invalid.html", message=str(exc)), 400
    return render_template("public/unsubscribe_resubscribed.html")
