"""The admin home: the last issues' key rates side by side and each list's growth."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from app.admin import bp
from app.auth import contributors_allowed
from app.issues.collection import IssueQuery, search_issues
from app.reports import figures
from app.reports.growth import list_growth
from app.reports.service import recent_sends


@bp.route("/")
@contributors_allowed
def dashboard():
    if current_user.is_contributor:
        # Their own drafts; the figures about readers are not theirs to see.
        mine = search_issues(IssueQuery(sort="edited", viewer=current_user)).issues
        return render_template("admin/dashboard.html", mine=mine)
    recent = recent_sends(limit=8)
    return render_template(
        "admin/dashboard.html",
        recent=recent,
        comparison=figures.comparison_figure(recent),
        growth=[figures.growth_figures(g) for g in list_growth()],
    )
