"""The admin home: the last issues' key rates side by side and each list's growth."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_login import current_user

from app.admin import bp
from app.auth import contributors_allowed
from app.db import utcnow
from app.issues.assignments import due_at, open_assignments, waiting_on_others
from app.issues.collection import IssueQuery, search_issues
from app.reports import figures
from app.reports.growth import list_growth
from app.reports.service import recent_sends
from app.sending.service import scheduled_times


@bp.route("/")
@contributors_allowed
def dashboard():
    waiting = open_assignments(current_user)
    lead = timedelta(hours=float(current_app.config["ASSIGNMENT_LEAD_HOURS"]))
    scheduled = scheduled_times({item.issue.id for item in waiting})
    dues = {item.issue.id: due_at(item.issue, lead, scheduled.get(item.issue.id)) for item in waiting}
    work = {"waiting_on_you": waiting, "dues": dues, "now": utcnow()}
    if current_user.is_contributor:
        # Their own drafts; the figures about readers are not theirs to see.
        drafts = search_issues(IssueQuery(sort="edited", viewer=current_user)).issues
        return render_template("admin/dashboard.html", mine=drafts, **work)
    recent = recent_sends(limit=8)
    return render_template(
        "admin/dashboard.html",
        waiting_on_others=waiting_on_others(current_user),
        **work,
        recent=recent,
        comparison=figures.comparison_figure(recent),
        growth=[figures.growth_figures(g) for g in list_growth()],
    )
