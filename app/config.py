"""Configuration: defaults, then ``PRESSROOM_*`` environment variables, then
the mapping passed to ``create_app`` (tests).

Every setting is documented in the README's configuration table.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    "BASE_URL": "http://127.0.0.1:5000",
    "FROM": "Newsletter <newsletter@example.com>",
    "NEWSLETTER_NAME": "Pressroom Newsletter",
    "NEWSLETTER_DESCRIPTION": "",
    "POSTAL_ADDRESS": "",
    "REPLY_TO": "",
    "REQUIRE_APPROVAL": True,
    "SEND_RATE": None,
    "ASSIGNMENT_LEAD_HOURS": 48,  # a placeholder is due this long before its issue goes out
    "SEND_PREPARE_CHUNK": 100_000,  # subscribers per chunk of a send's deliveries (app.sending.preparation)
    "SES_CONFIGURATION_SET": None,
    "SNS_TOPIC_ARNS": "",
    "CONFIRM_TOKEN_MAX_AGE": 7 * 24 * 3600,
    "RATELIMIT_STORAGE_URI": "memory://",
    "LOGIN_RATE_LIMIT": "5 per minute",
    "SIGNUP_RATE_LIMIT": "10 per hour",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,
    "MEDIA_MAX_BYTES": 10 * 1024 * 1024,
    "MEDIA_MAX_PIXELS": 40_000_000,
    "MEDIA_PUBLIC_URL": None,
    "EVENTS_WINDOW_DAYS": 60,
    "RETENTION_DAYS": 90,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
}


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def load(app: Flask, overrides: dict[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    # from_prefixed_env parses JSON values ("true", "5") and keeps strings.
    app.config.from_prefixed_env("PRESSROOM")
    if overrides:
        app.config.from_mapping(overrides)

    instance = Path(app.instance_path)
    app.config["REQUIRE_APPROVAL"] = _as_bool(app.config["REQUIRE_APPROVAL"])
    app.config.setdefault("DATABASE_URL", f"sqlite:///{instance / 'pressroom.db'}")
    app.config.setdefault("MEDIA_URL", f"file://{instance / 'media'}")
    app.config.setdefault("TRANSPORT", f"outbox:{instance / 'outbox'}")
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["DATABASE_URL"])
    # Secure cookies whenever the site is served over https (PRESSROOM_COOKIE_SECURE overrides).
    secure = app.config.get("COOKIE_SECURE")
    if secure is None:
        secure = app.config["BASE_URL"].startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = _as_bool(secure)
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    if app.config.get("SECRET_KEY") not in (None, ""):
        # from_prefixed_env turns PRESSROOM_SECRET_KEY=12345678 into an int, which itsdangerous rejects.
        app.config["SECRET_KEY"] = str(app.config["SECRET_KEY"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)


def _normalise_db_url(url: str) -> str:
    # psycopg 3 is the driver we ship; accept the plain postgresql:// form too.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret(instance: Path) -> str:
    """A random key kept in the instance folder, so sessions and unsubscribe
    tokens survive restarts without the operator having to set one."""
    path = instance / "secret_key"
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        # O_EXCL: of several processes starting at once exactly one creates the key,
        # and the file is never readable by others, even for a moment.
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        # The creator may not have written yet: wait a little for the key to appear.
        for _ in range(50):
            existing = path.read_text().strip()
            if existing:
                return existing
            time.sleep(0.05)
        raise RuntimeError(f"{path} exists but is empty; delete it or set PRESSROOM_SECRET_KEY.") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
