"""Readers' languages: public pages and subscriber emails in the language of
the list they are about (each list has one), falling back to the browser's
choice among the shipped catalogues, then English. The admin stays English.

A view that knows the list calls :func:`use_language`; mail sent by the worker
(no request) is built inside ``force_locale(list.language)``. Catalogues live in
``app/translations`` (``make translations`` extracts and compiles them)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, force_locale, format_date, get_locale, gettext, lazy_gettext, ngettext, refresh

__all__ = [
    "LANGUAGES",
    "force_locale",
    "format_date",
    "get_locale",
    "gettext",
    "init_app",
    "lazy_gettext",
    "ngettext",
    "use_language",
]

LANGUAGES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}
TRANSLATIONS = Path(__file__).parent / "translations"


def use_language(code: str | None) -> None:
    """This request's pages speak ``code`` (a list's language), if we ship it."""
    if code in LANGUAGES and g.get("reader_locale") != code:
        g.reader_locale = code
        refresh()  # a locale already looked up in this request is looked up again


def _select_locale() -> str:
    if not has_request_context():
        return "en"
    chosen = g.get("reader_locale")
    if chosen in LANGUAGES:
        return str(chosen)
    if request.blueprint == "public" or not request.path.startswith("/admin"):
        # Readers' pages, and addresses that match no page at all (the reader's 404).
        return request.accept_languages.best_match(LANGUAGES.keys()) or "en"
    return "en"


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=_select_locale, default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.globals.update(get_locale=get_locale, format_date=format_date)
