"""The transactional mails of the subscription flow (confirm, already
subscribed). Sent after the database commit; a transport failure is logged,
never shown, so signup responses stay identical."""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app

from app.mail import HeaderInjectionError, TransportError
from app.mail.transactional import send_transactional
from app.subscribers.models import MailingList, Subscriber, Subscription


def _newsletter_name() -> str:
    try:
        from app.settings import get_setting

        return get_setting("newsletter_name") or current_app.config["NEWSLETTER_NAME"]
    except Exception:  # settings table unavailable (e.g. mid-migration): fall back to config
        return current_app.config["NEWSLETTER_NAME"]


def _send(to: str, subject: str, text: str) -> None:
    try:
        send_transactional(to, subject, text)
    except (TransportError, OSError, HeaderInjectionError):  # e.g. a newsletter name with a line break
        current_app.logger.exception("could not send %r to a subscriber", subject)


def send_confirmation(subscriber: Subscriber, pending: Sequence[Subscription]) -> None:
    from app.subscribers.service import confirm_url

    names = ", ".join(s.list.name for s in pending)
    max_days = int(current_app.config.get("CONFIRM_TOKEN_MAX_AGE") or 0) // 86400 or 1
    text = (f"Hello,\n\nSomeone (hopefully you) asked to subscribe this address to {names}.\n\n"
            f"Confirm your subscription by opening this link:\n\n{confirm_url(subscriber.id, pending)}\n\n"
            f"The link works for {max_days} day(s). If you did not ask for this, ignore this email: "
            "you will not be subscribed and will not hear from us again.\n")
    _send(subscriber.email, f"Confirm your subscription to {_newsletter_name()}", text)


def send_already_subscribed(subscriber: Subscriber, lists: Sequence[MailingList]) -> None:
    names = ", ".join(m.name for m in lists)
    text = (f"Hello,\n\nSomeone (hopefully you) asked to subscribe this address to {names}.\n\n"
            "You are already subscribed, so nothing changed. If you did not ask for this, "
            "you can ignore this email.\n")
    _send(subscriber.email, f"You're already subscribed to {_newsletter_name()}", text)
