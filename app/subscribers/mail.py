"""The transactional mails of the subscription flow (confirm, already
subscribed), sent by the worker. A transport failure is logged, never shown.

They carry no text an editor chose beyond a list's name, cut to
:data:`LIST_NAME_LIMIT` characters: whoever can create a list or import
addresses must not be able to mail arbitrary prose to strangers."""

from __future__ import annotations

from collections.abc import Sequence

from babel.lists import format_list
from flask import current_app

from app.i18n import force_locale, get_locale, ngettext
from app.i18n import gettext as _
from app.mail import HeaderInjectionError, TransportError
from app.mail.message import strip_line_breaks
from app.mail.transactional import send_transactional
from app.settings import get_setting, newsletter_sender
from app.subscribers.confirm_links import confirm_url
from app.subscribers.models import MailingList, Subscriber, Subscription

LIST_NAME_LIMIT = 60


def list_label(mailing_list: MailingList) -> str:
    """A list's name as a subscriber-facing mail may show it (one line, capped)."""
    name = strip_line_breaks(mailing_list.public_name)
    return name if len(name) <= LIST_NAME_LIMIT else name[: LIST_NAME_LIMIT - 1].rstrip() + "…"


def _names(lists: Sequence[MailingList]) -> str:
    """“A”, “B” and “C” in the mail's language (CLDR list patterns: "und", "et", "y")."""
    return format_list([f"“{list_label(m)}”" for m in lists], locale=str(get_locale() or "en"))


def _newsletter_name() -> str:
    return strip_line_breaks(str(get_setting("newsletter_name") or current_app.config["NEWSLETTER_NAME"]))[:100]


def _send(to: str, subject: str, text: str) -> None:
    try:
        send_transactional(to, subject, text, sender=newsletter_sender())
    except (TransportError, OSError, HeaderInjectionError):
        current_app.logger.exception("could not send %r to a subscriber", subject)


def _language(lists: Sequence[MailingList]) -> str:
    """The mail speaks the language of the (first) list it is about."""
    return next((m.language for m in lists if m.language), "en")


def send_confirmation(subscriber: Subscriber, pending: Sequence[Subscription]) -> None:
    lists = [s.list for s in pending]
    max_days = int(current_app.config.get("CONFIRM_TOKEN_MAX_AGE") or 0) // 86400 or 1
    link = confirm_url(subscriber.id, pending)
    with force_locale(_language(lists)):
        text = "\n\n".join(
            [
                _("Hello,"),
                _("Someone (hopefully you) asked to subscribe this address to %(lists)s.", lists=_names(lists)),
                _("Confirm your subscription by opening this link:"),
                link,
                ngettext(
                    "The link works for %(num)d day. If you did not ask for this, ignore this email: "
                    "you will not be subscribed and will not hear from us again.",
                    "The link works for %(num)d days. If you did not ask for this, ignore this email: "
                    "you will not be subscribed and will not hear from us again.",
                    max_days,
                ),
            ]
        )
        subject = _("Confirm your subscription to %(name)s", name=_newsletter_name())
    _send(subscriber.email, subject, text + "\n")


def send_already_subscribed(subscriber: Subscriber, lists: Sequence[MailingList]) -> None:
    with force_locale(_language(lists)):
        text = "\n\n".join(
            [
                _("Hello,"),
                _("Someone (hopefully you) asked to subscribe this address to %(lists)s.", lists=_names(lists)),
                _(
                    "You are already subscribed, so nothing changed. "
                    "If you did not ask for this, you can ignore this email."
                ),
            ]
        )
        subject = _("You're already subscribed to %(name)s", name=_newsletter_name())
    _send(subscriber.email, subject, text + "\n")
