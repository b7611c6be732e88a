"""The editor admin. This module only declares the blueprint; each area's
thin views live in their own module and call domain functions."""

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from app.auth import refuses_contributor
from app.i18n import LANGUAGES

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _require_login() -> BaseResponse | None:
    """Every admin page needs a logged-in user (admin-only checks are per
    view); a user whose password an admin reset must choose a new one first;
    a contributor opens only the views marked ``contributors_allowed``."""
    if current_user.must_change_password:
        return redirect(url_for("auth.account"))
    if refuses_contributor(current_app.view_functions.get(request.endpoint or "")):
        abort(403)
    return None


NAV = [
    ("admin.dashboard", "Dashboard", False),
    ("admin.issues", "Issues", False),
    ("admin.events", "Events", False),
    ("admin.media", "Media", False),
    ("admin.subscribers", "Subscribers", False),
    ("admin.segments", "Segments", False),
    ("admin.sends", "Sends", False),
    ("admin.users", "Users", True),
    ("admin.settings", "Settings", True),
]


@bp.app_context_processor
def _navigation() -> dict:
    def admin_nav() -> list[tuple[str, str]]:
        is_admin = current_user.is_authenticated and current_user.is_admin
        return [
            (endpoint, label)
            for endpoint, label, admin_only in NAV
            if endpoint in current_app.view_functions
            and (is_admin or not admin_only)
            and not refuses_contributor(current_app.view_functions[endpoint])
        ]

    def may(endpoint: str) -> bool:
        """Whether the user may open this admin view (templates hide what would 403)."""
        view = current_app.view_functions.get(endpoint)
        if view is None or not current_user.is_authenticated:
            return False
        if getattr(view, "admin_only", False) and not current_user.is_admin:
            return False
        return not refuses_contributor(view)

    return {"admin_nav": admin_nav, "may": may, "reader_languages": LANGUAGES}


from app.admin import (  # noqa: E402,F401  (views register themselves on bp)
    comments,
    dashboard,
    events,
    imports,
    issue_collection,
    issues,
    media,
    reports,
    segments,
    sends,
    settings,
    subscriber_bulk,
    subscribers,
    users,
)
