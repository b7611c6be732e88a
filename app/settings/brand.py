"""Checks of the brand settings before they are saved: what reaches a style
attribute, a From or a Reply-To header must be exactly what it claims to be.

A sender address is asked of SES when SES delivers (an unverified sender makes
every send fail): refused with the reason when SES says no; when SES cannot be
asked, saved with a warning, because a network blip must never block the
newsletter's settings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app

from app.mail.ses import IdentityUnknown, sender_verified

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass
class BrandCheck:
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _address_problem(value: str) -> str | None:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return f"Not an email address: {exc}"
    return None


def check_brand(updates: dict[str, Any], *, ses_client: Any | None = None) -> BrandCheck:
    found = BrandCheck()
    accent = str(updates.get("accent_color") or "")
    if accent and not _HEX.match(accent):
        found.errors["accent_color"] = "Enter a colour as #rrggbb, for example #0b57d0."
    for key in ("sender_address", "reply_to"):
        value = str(updates.get(key) or "")
        if value and (problem := _address_problem(value)):
            found.errors[key] = problem
    sender = str(updates.get("sender_address") or "")
    if sender and "sender_address" not in found.errors and current_app.config.get("TRANSPORT") == "ses":
        domain = sender.rsplit("@", 1)[-1]
        try:
            if not sender_verified(sender, ses_client):
                found.errors["sender_address"] = (
                    f"SES has not verified {sender} or {domain}, so every send from it would fail. "
                    "Verify it in SES (Verified identities) first."
                )
        except IdentityUnknown as exc:
            found.warnings.append(
                f"SES could not be asked whether {sender} is verified ({exc}); sends fail if it is not."
            )
    return found
