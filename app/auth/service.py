"""User accounts and their sessions: creation, password checks, logins that
can be ended from the server (logout, disable, role change, password reset)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update

from app.auth.handles import HANDLE_LIMIT, check_handle, default_handle
from app.auth.models import NOTIFY_CHOICES, ROLES, Notify, Role, User, UserSession
from app.db import db, rowcount, utcnow
from app.errors import InvalidInput

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD_LENGTH = 10
# Verifying against a dummy hash keeps the timing of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("pressroom-dummy-password")


class AccountError(InvalidInput):
    """A user-facing problem with account data."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def _address(email: str) -> str:
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"Invalid email address: {exc}") from exc


def _handle_taken(handle: str) -> bool:
    return db.session.scalar(select(User.id).where(User.handle == handle)) is not None


def create_user(email: str, password: str, role: str = "editor", name: str = "", handle: str | None = None) -> User:
    """A new user (flushed; the caller commits). ``handle`` defaults to the
    address's local part (numbered when taken); a given one must be free."""
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    email = _address(email)
    if db.session.scalar(select(User).where(User.email == email)):
        raise AccountError(f"A user with the address {email} already exists.")
    if handle is not None:
        chosen = check_handle(handle)
        if chosen is None:
            raise AccountError(
                f"{handle!r} is not a handle: letters, digits, '.', '-' or '_', at most {HANDLE_LIMIT} characters."
            )
        if _handle_taken(chosen):
            raise AccountError(f"The handle @{chosen} is taken.")
    else:
        chosen = default_handle(email, _handle_taken)
    user = User(
        email=email,
        name=" ".join(name.split())[:200],
        handle=chosen,
        role=Role(role),
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


def find_user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AccountError(f"No user with the address {email.strip()}.")
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when the password is right and the account enabled (flushes)."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_enabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


# --- sessions ------------------------------------------------------------------
# The cookie holds "<user id>:<session id>"; the session row is the authority, so
# the server can end a login that a copied cookie would otherwise keep alive.

SEEN_EVERY = timedelta(minutes=5)  # last_seen_at is refreshed at most this often


def start_session(user: User, user_agent: str = "") -> str:
    """A new login for ``user``; sets ``user.session_key`` (Flask-Login's id)."""
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=key, user_id=user.id, user_agent=(user_agent or "")[:300]))
    db.session.flush()
    user.session_key = key
    return key


def end_session(key: str | None) -> None:
    if key:
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == key, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def end_sessions(user: User, *, keep: str | None = None) -> int:
    """Revoke every login of ``user`` (but ``keep``); returns how many."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep:
        query = query.where(UserSession.id != keep)
    return rowcount(db.session.execute(query.values(revoked_at=utcnow())))


def user_for_session_id(session_id: str) -> User | None:
    user_id, _, key = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit()) or len(user_id) > 12 or not key or len(key) > 64:
        return None
    row = db.session.get(UserSession, key)
    if row is None or row.revoked_at is not None or row.user_id != int(user_id):
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_enabled:
        return None
    now = utcnow()
    if now - row.last_seen_at > SEEN_EVERY:
        row.last_seen_at = now
        db.session.commit()
    user.session_key = key
    return user


# --- administration ------------------------------------------------------------


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every other session of this user."""
    user.password_hash = hash_password(new_password)
    user.session_token = secrets.token_hex(16)
    user.must_change_password = False
    end_sessions(user, keep=user.session_key)


def _other_admins(user: User) -> int:
    return len(
        db.session.scalars(
            select(User.id).where(User.role == Role.ADMIN, User.is_enabled.is_(True), User.id != user.id)
        ).all()
    )


def set_enabled(user: User, enabled: bool, *, by: User | None = None) -> None:
    """Disable (ending every session at once) or enable a user."""
    if not enabled and by is not None and by.id == user.id:
        raise AccountError("You cannot disable your own account.")
    if not enabled and user.role == Role.ADMIN and not _other_admins(user):
        raise AccountError("This is the last enabled admin; make someone else admin first.")
    user.is_enabled = enabled
    if not enabled:
        end_sessions(user)
    db.session.flush()


def set_role(user: User, role: str, *, by: User | None = None) -> None:
    """Change a user's role; their sessions end so the new rights apply at once."""
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}.")
    if user.role == Role.ADMIN and role != Role.ADMIN and not _other_admins(user):
        raise AccountError("This is the last enabled admin; make someone else admin first.")
    if by is not None and by.id == user.id and role != user.role:
        raise AccountError("Ask another admin to change your own role.")
    user.role = Role(role)
    end_sessions(user)
    db.session.flush()


def reset_password(user: User, new_password: str | None = None) -> str:
    """Force a password reset: a new (given or generated) temporary password the
    user must change at the next login; every session ends. Returns the password."""
    password = new_password or secrets.token_urlsafe(12)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    end_sessions(user)
    db.session.flush()
    return password


def set_notify(user: User, value: str) -> None:
    """How ``user`` hears about placeholders that name them (flushes)."""
    if value not in NOTIFY_CHOICES:
        raise AccountError(f"Choose one of {', '.join(NOTIFY_CHOICES)}.")
    user.notify = Notify(value)
    db.session.flush()
