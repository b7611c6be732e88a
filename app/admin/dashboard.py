from __future__ import annotations

from flask import render_template

from app.admin import bp


@bp.route("/")
def dashboard():
    return render_template("admin/dashboard.html")
