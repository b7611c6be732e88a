"""Admin views for users: create, disable/enable, change role, force a
password reset. Each change that takes rights away ends that user's sessions."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # types-WTForms 3.2 predates it
from wtforms.validators import DataRequired

from app.admin import bp
from app.auth import admin_required
from app.auth.models import ROLES, User
from app.auth.service import AccountError, create_user, reset_password, set_enabled, set_role
from app.db import db


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    name = StringField("Name")
    handle = StringField("Handle (for TODO(@handle): …)")
    role = SelectField("Role", choices=[SelectChoice(role) for role in ROLES])
    password = PasswordField("Initial password", validators=[DataRequired()])


def _page(form: UserForm, status: int = 200, temporary: tuple[str, str] | None = None):
    people = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("admin/users.html", form=form, users=people, roles=ROLES, temporary=temporary), status


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                form.email.data or "",
                form.password.data or "",
                form.role.data or "editor",
                form.name.data or "",
                handle=(form.handle.data or "").strip() or None,
            )
            db.session.commit()
        except AccountError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return _page(form, 400)
        flash(f"User {user.email} created.", "success")
        return redirect(url_for("admin.users"))
    return _page(form)


@bp.post("/users/<int:user_id>/<action>")
@admin_required
def users_action(user_id: int, action: str):
    user = db.get_or_404(User, user_id)
    temporary = None
    try:
        if action == "disable":
            set_enabled(user, False, by=current_user)
            message = f"{user.email} is disabled and logged out everywhere."
        elif action == "enable":
            set_enabled(user, True, by=current_user)
            message = f"{user.email} is enabled."
        elif action == "role":
            set_role(user, request.form.get("role", ""), by=current_user)
            message = f"{user.email} is now {user.role}; their sessions ended."
        elif action == "reset-password":
            temporary = (user.email, reset_password(user))
            message = f"{user.email} is logged out everywhere and must choose a new password."
        else:
            return ("Unknown action.", 404)
        db.session.commit()
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(UserForm(formdata=None), 400)
    flash(message, "success")
    if temporary:
        # Shown once, to this admin only: hand it over in person or by phone.
        return _page(UserForm(formdata=None), temporary=temporary)
    return redirect(url_for("admin.users"))
