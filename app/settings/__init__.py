"""Newsletter settings editable by admins. A stored value wins over the
application config, which provides the default."""

from __future__ import annotations

from email.utils import formataddr
from typing import Any

from flask import current_app

from app.db import db
from app.settings.models import Setting

# key -> (config key providing the default, python type, label)
SETTINGS: dict[str, tuple[str | None, type, str]] = {
    "newsletter_name": ("NEWSLETTER_NAME", str, "Newsletter name"),
    "require_approval": ("REQUIRE_APPROVAL", bool, "Require approval by a second user before sending"),
    "postal_address": ("POSTAL_ADDRESS", str, "Postal address shown in every email footer (required to send)"),
    "site_description": ("NEWSLETTER_DESCRIPTION", str, "Description of the newsletter (public site, feed)"),
    "sender_name": (None, str, "Sender name (From)"),
    "sender_address": (None, str, "Sender address (From; a verified SES identity; empty: PRESSROOM_FROM is used)"),
    "reply_to": ("REPLY_TO", str, "Reply-To address"),
    "logo": (None, str, "Logo (a media library path, images/...)"),
    "accent_color": (None, str, "Accent colour for links and rules (#rrggbb)"),
    "footer_text": (None, str, "Footer text of every email"),
    "reader_timezone": (None, str, "Time zone for dates shown to readers"),
    "events_window_days": ("EVENTS_WINDOW_DAYS", int, "Days ahead for the upcoming events section"),
    "events_heading": (None, str, "Default heading of the events section"),
    "track_clicks": (None, bool, "Track link clicks"),
    "track_opens": (None, bool, "Track opens (pixel)"),
}
FALLBACKS: dict[str, Any] = {
    "sender_name": "",
    "sender_address": "",
    "logo": "",
    "accent_color": "#0b57d0",
    "footer_text": "",
    "reader_timezone": "UTC",
    "events_heading": "Upcoming events",
    "track_clicks": True,
    "track_opens": False,
}


def get_setting(key: str) -> Any:
    config_key, kind, _ = SETTINGS[key]
    row = db.session.get(Setting, key)
    if row is not None:
        return row.value
    if config_key is not None:
        return current_app.config[config_key]
    return FALLBACKS[key]


def set_setting(key: str, value: Any) -> None:
    if key not in SETTINGS:
        raise KeyError(key)
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    db.session.commit()


def all_settings() -> dict[str, Any]:
    return {key: get_setting(key) for key in SETTINGS}


def newsletter_sender() -> str:
    """The From of the newsletter's emails: the sender name and address settings
    when an address is set (the name alone would need an address), else the
    ``PRESSROOM_FROM`` configuration."""
    address = str(get_setting("sender_address") or "").strip()
    if not address:
        return str(current_app.config["FROM"])
    return formataddr((str(get_setting("sender_name") or "").strip(), address))


def reply_to() -> str | None:
    return str(get_setting("reply_to") or "").strip() or None
