"""Users, roles, login sessions and password hashing."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort
from flask_login import LoginManager, current_user

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.session_protection = "basic"


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    from app.auth.views import bp

    app.register_blueprint(bp)


@login_manager.user_loader
def _load_user(session_id: str):
    from app.auth.service import user_for_session_id

    return user_for_session_id(session_id)


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Admins only; editors get 403 (anonymous users were already sent to login)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    wrapped.admin_only = True  # type: ignore[attr-defined]  # read by the security sweep
    return wrapped


def contributors_allowed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Marks an admin view a contributor may open. Every other admin view
    refuses contributors with 403 (``app.admin``'s before_request), so a new
    route is closed to them until someone decides otherwise; views that work on
    one issue also check that the contributor may edit it."""
    view.contributors_allowed = True  # type: ignore[attr-defined]  # read by app.admin and the security sweep
    return view


def refuses_contributor(view: Callable[..., Any] | None) -> bool:
    """Whether the logged-in user is a contributor and ``view`` is not theirs to open."""
    return bool(
        current_user.is_authenticated
        and current_user.is_contributor
        and not getattr(view, "contributors_allowed", False)
    )
