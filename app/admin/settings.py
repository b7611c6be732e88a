from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from app.admin import bp
from app.auth import admin_required
from app.mail.message import header_is_unsafe
from app.media.lookup import resolve_image
from app.numbers import parse_int
from app.settings import SETTINGS, all_settings, set_setting
from app.settings.brand import check_brand
from app.timezones import canonical_zones, is_zone

SINGLE_LINE = {"newsletter_name", "reader_timezone", "events_heading", "sender_name", "sender_address", "reply_to"}


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    form = FlaskForm()  # CSRF only; fields are generated from SETTINGS
    values = all_settings()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        updates: dict[str, bool | int | str] = {}
        for key, (_, kind, _label) in SETTINGS.items():
            raw = request.form.get(key, "")
            if kind is bool:
                updates[key] = raw == "on"
            elif kind is int:
                days = parse_int(raw, low=1, high=3650)
                if days is None:
                    errors[key] = "Enter a whole number of days between 1 and 3650."
                else:
                    updates[key] = days
            elif key in SINGLE_LINE and header_is_unsafe(raw.strip()):
                # The newsletter name reaches mail subjects: no line break of any kind.
                errors[key] = "Keep this on one line (no line breaks)."
            else:
                updates[key] = raw.strip()[:500]
        if updates.get("reader_timezone") and not is_zone(str(updates["reader_timezone"])):
            errors["reader_timezone"] = "Unknown time zone; use a name like Europe/Berlin."
        logo = str(updates.get("logo") or "")
        if logo and resolve_image(logo) is None:
            errors["logo"] = "No image with that path in the media library (upload it on the Media page first)."
        brand = check_brand({k: v for k, v in updates.items() if k not in errors})
        errors.update(brand.errors)
        if not errors:
            for key, value in updates.items():
                set_setting(key, value)
            flash("Settings saved.", "success")
            for warning in brand.warnings:
                flash(warning, "warning")
            return redirect(url_for("admin.settings"))
        values.update({k: v for k, v in updates.items() if k not in errors})
    page = render_template(
        "admin/settings.html", form=form, settings=SETTINGS, values=values, errors=errors, zones=canonical_zones()
    )
    return page, (400 if errors else 200)
