from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from app.auth import service
from app.auth.models import NOTIFY_CHOICES
from app.db import db
from app.security import limiter

bp = Blueprint("auth", __name__, url_prefix="/admin")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    new = PasswordField("New password", validators=[DataRequired(), Length(min=service.MIN_PASSWORD_LENGTH)])
    confirm = PasswordField("Repeat new password", validators=[EqualTo("new", "The passwords differ.")])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: ``next=`` must not be an open redirect."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return url_for("admin.dashboard")


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], error_message="Too many login attempts. Wait a minute.")
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data or "", form.password.data or "")
        if user:
            service.start_session(user, request.headers.get("User-Agent", ""))
            db.session.commit()
            login_user(user)
            if user.must_change_password:
                flash("An admin reset your password: choose a new one to continue.", "warning")
                return redirect(url_for("auth.account"))
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong email or password.", "error")
        return render_template("admin/login.html", form=form), 401
    return render_template("admin/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Ended on the server: a copy of this cookie taken before logout works no more.
        service.end_session(current_user.session_key)
        db.session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


def _password_check_limit() -> str:
    from flask import current_app

    return current_app.config.get("PASSWORD_CHECK_RATE_LIMIT", "5 per minute")


@bp.route("/account", methods=["GET", "POST"])
@login_required
@limiter.limit(
    _password_check_limit,
    methods=["POST"],
    key_func=lambda: f"account:{current_user.get_id()}",
    error_message="Too many password attempts. Wait a minute.",
)
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        if not service.authenticate(current_user.email, form.current.data or ""):
            flash("The current password is wrong.", "error")
        else:
            try:
                service.change_password(current_user, form.new.data or "")
            except service.AccountError as exc:
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash("Password changed. Your other sessions have been logged out.", "success")
                return redirect(url_for("auth.account"))
    return render_template("admin/account.html", form=form, notify_choices=NOTIFY_CHOICES)


@bp.post("/account/notifications")
@login_required
def account_notifications():
    """How the user hears about placeholders that name them."""
    try:
        service.set_notify(current_user, request.form.get("notify", ""))
    except service.AccountError as exc:
        flash(str(exc), "error")
        return render_template("admin/account.html", form=PasswordForm(), notify_choices=NOTIFY_CHOICES), 400
    db.session.commit()
    flash("Notification setting saved.", "success")
    return redirect(url_for("auth.account"))
