"""The admin home: the last issues' key rates side by side and each list's growth."""

from __future__ import annotations

from flask import render_template

from app.admin import bp
from app.reports import figures
from app.reports.growth import list_growth
from app.reports.service import recent_sends


@bp.route("/")
def dashboard():
    recent = recent_sends(limit=8)
    return render_template(
        "admin/dashboard.html",
        recent=recent,
        comparison=figures.comparison_figure(recent),
        growth=[figures.growth_figures(g) for g in list_growth()],
    )
