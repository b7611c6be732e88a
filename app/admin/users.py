from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired

from app.admin import bp
from app.auth import admin_required
from app.auth.models import ROLES, User
from app.auth.service import AccountError, create_user
from app.db import db


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    name = StringField("Name")
    role = SelectField("Role", choices=[(r, r) for r in ROLES])
    password = PasswordField("Initial password", validators=[DataRequired()])


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data or "", form.password.data or "", form.role.data or "editor",
                               form.name.data or "")
        except AccountError as exc:
            flash(str(exc), "error")
        else:
            flash(f"User {user.email} created.", "success")
            return redirect(url_for("admin.users"))
    people = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("admin/users.html", form=form, users=people)
