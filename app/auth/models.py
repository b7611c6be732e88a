from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import NO_ID_REUSE, Model, state_type, utcnow


class Role(StrEnum):
    """admin: everything. editor: writes, approves and sends issues, manages the
    audience. contributor: writes and edits their own drafts, uploads media,
    adds events; nothing that reaches readers or touches their data (see
    ``app.auth.contributors_allowed``)."""

    ADMIN = "admin"
    EDITOR = "editor"
    CONTRIBUTOR = "contributor"


ROLES = tuple(role.value for role in Role)


class Notify(StrEnum):
    """How a user hears about work assigned to them (placeholders that name them)."""

    IMMEDIATELY = "immediately"
    DIGEST = "digest"  # one mail a day with everything new
    OFF = "off"


NOTIFY_CHOICES = tuple(choice.value for choice in Notify)


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # What placeholders name the user by: TODO(@ryan): ... (app.auth.handles).
    handle: Mapped[str] = mapped_column(String(40), unique=True)
    notify: Mapped[Notify] = mapped_column(
        state_type(Notify, "notify"), default=Notify.IMMEDIATELY, server_default=Notify.IMMEDIATELY.value
    )
    role: Mapped[Role] = mapped_column(state_type(Role, "role"), default=Role.EDITOR)
    password_hash: Mapped[str] = mapped_column(String(200))
    # v0.1's per-user session secret; sessions are rows in ``user_sessions`` now.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Set by an admin's "force password reset": the next login must choose a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")

    @property
    def session_key(self) -> str | None:
        """The login (``UserSession`` id) this request runs in; set at login and
        by the user loader, never stored on the user row."""
        return self.__dict__.get("_session_key")

    @session_key.setter
    def session_key(self, value: str | None) -> None:
        self.__dict__["_session_key"] = value

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_enabled

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_contributor(self) -> bool:
        return self.role == "contributor"

    def get_id(self) -> str:  # Flask-Login: the cookie names the session row, not just the user
        return f"{self.id}:{self.session_key or ''}"

    @property
    def display_name(self) -> str:
        return self.name or self.email


class UserSession(Model):
    """One login. The session cookie names it; logging out, disabling the user,
    changing their role or password revokes it, so a copied cookie stops working."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random, secret
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(300), default="")
