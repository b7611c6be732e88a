"""Subscriber domain: validation, double opt-in, unsubscribe / resubscribe,
manual administration and erasure.

Views call these functions and turn ``SubscriberError`` into a flash or a
4xx page. Signup never tells the caller whether an address was known: every
branch returns the same nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.attributes import check_standard
from app.audit import AuditEvent
from app.db import db, utcnow
from app.errors import InvalidInput
from app.i18n import gettext as _
from app.jobs import enqueue
from app.subscribers.confirm_links import confirm_serializer as _confirm_serializer
from app.subscribers.confirm_links import stamp
from app.subscribers.confirmations import recently_mailed, request_confirmations
from app.subscribers.mail import send_already_subscribed, send_confirmation
from app.subscribers.models import (
    MailingList,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
)
from app.subscribers.suppression import email_hash, is_suppressed, normalise_email, suppress
from app.tokens import read_unsubscribe_token, unsubscribe_token

MAX_ID = 2**31 - 1
RESUBSCRIBE_SALT = "pressroom.resubscribe.v1"
RESUBSCRIBE_MAX_AGE = 30 * 24 * 3600


class SubscriberError(InvalidInput):
    """A user-facing problem (invalid address, suppressed, unknown list...)."""


class TokenError(InvalidInput):
    """A confirm / resubscribe link that is invalid, expired or already used."""


def validate_address(email: str) -> str:
    """The normalised address, or SubscriberError with the validator's reason.
    No DNS lookups: signup must not hang on, or leak through, the resolver."""
    email = (email or "").strip()
    if not email:
        raise SubscriberError(_("Enter an email address."))
    if len(email) > 254:
        raise SubscriberError(_("That email address is too long."))
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise SubscriberError(_("That is not a valid email address: %(reason)s", reason=exc)) from exc
    return normalise_email(result.normalized)


def clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if len(name) > 200:
        raise SubscriberError(_("Names are limited to 200 characters."))
    return name


def find_subscriber(email: str) -> Subscriber | None:
    return db.session.scalar(select(Subscriber).where(Subscriber.email == normalise_email(email)))


def _subscription(subscriber_id: int, list_id: int) -> Subscription | None:
    return db.session.get(Subscription, (subscriber_id, list_id))


# --- double opt-in ---------------------------------------------------------------


def _pending_for_token(token: str) -> list[Subscription]:
    """The pending subscriptions a confirmation token was issued for (read only)."""
    max_age = int(current_app.config.get("CONFIRM_TOKEN_MAX_AGE") or 7 * 24 * 3600)
    try:
        subscriber_id, pairs = _confirm_serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError(_("This confirmation link has expired. Please sign up again.")) from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise TokenError(_("This confirmation link is not valid.")) from exc
    used = TokenError(
        _(
            "This confirmation link has already been used or is no longer valid. "
            "If you signed up again since, use the newest email."
        )
    )
    well_formed = (
        isinstance(subscriber_id, int)
        and isinstance(pairs, list)
        and all(isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, int) for v in pair) for pair in pairs)
    )
    subscriber = db.session.get(Subscriber, subscriber_id) if well_formed else None
    if subscriber is None or is_suppressed(subscriber.email):
        raise used
    pending = []
    for list_id, requested in pairs:
        subscription = _subscription(subscriber_id, list_id)
        if (
            subscription is not None
            and subscription.status == "pending"
            and stamp(subscription.requested_at or subscription.created_at) == requested
        ):
            pending.append(subscription)
    if not pending:
        raise used
    return pending


def lists_to_confirm(token: str) -> list[MailingList]:
    """What a confirmation link would activate, without activating it: the GET
    page shows this and a button, so mail scanners following links cannot
    complete a double opt-in on the reader's behalf."""
    return [subscription.list for subscription in _pending_for_token(token)]


def confirm(token: str) -> list[MailingList]:
    """Activate the pending subscriptions the token was issued for."""
    now, confirmed = utcnow(), []
    for subscription in _pending_for_token(token):
        subscription.status, subscription.confirmed_at = SubscriptionStatus.ACTIVE, now
        subscription.unsubscribed_at = None
        confirmed.append(subscription.list)
    db.session.commit()
    return confirmed


def signup(email: str, name: str, list_ids: Iterable[int], hints: dict[str, str] | None = None) -> None:
    """Public signup: the address and lists are checked here, the rest happens
    in a job (:func:`process_signup`). The request does the same work whether
    the address is new, known, suppressed or hammered, so neither the page nor
    its timing tells them apart. ``hints``: the browser's time zone and
    language (standard attributes; invalid ones are dropped). Flushes; the
    caller commits."""
    address = validate_address(email)
    name = clean_name(name)
    _public_lists(list_ids)
    payload = {"email": address, "name": name, "lists": sorted(set(list_ids)), "hints": valid_hints(hints or {})}
    enqueue("subscribers.signup", payload, max_attempts=5)


def valid_hints(hints: dict[str, str]) -> dict[str, str]:
    """Only well-formed standard attributes, as their canonical text."""
    kept = {}
    for key in ("time_zone", "language"):
        value = str(hints.get(key) or "").strip()[:64]
        if value:
            try:
                kept[key] = check_standard(key, value)
            except ValueError:
                continue
    return kept


def _public_lists(list_ids: Iterable[int]) -> list[MailingList]:
    wanted = {i for i in list_ids if 0 < i <= MAX_ID}
    lists = list(
        db.session.scalars(select(MailingList).where(MailingList.id.in_(wanted), MailingList.public.is_(True)))
    )
    if not lists or len(lists) != len(set(list_ids)):
        raise SubscriberError(_("Choose a newsletter to subscribe to."))
    return lists


def process_signup(email: str, name: str, list_ids: Iterable[int], hints: dict[str, str] | None = None) -> None:
    """The signup itself (run by the worker; commits)."""
    try:
        _signup(email, name, list_ids, hints or {})
    except IntegrityError:
        # The same new address submitted twice at once: the other job inserted
        # the subscriber (or subscription) first. Once more: it now exists.
        db.session.rollback()
        _signup(email, name, list_ids, hints or {})


def _signup(email: str, name: str, list_ids: Iterable[int], hints: dict[str, str]) -> None:
    address = validate_address(email)
    name = clean_name(name)
    try:
        lists = _public_lists(list_ids)
    except SubscriberError:
        return  # the list stopped being public since the request
    if is_suppressed(address):
        return
    now = utcnow()
    subscriber = find_subscriber(address)
    if subscriber is None:
        # Hints only describe a new subscriber: anyone can type a known
        # address into the form, so they never change an existing one.
        subscriber = Subscriber(email=address, name=name, source="signup", created_at=now, attributes=hints)
        db.session.add(subscriber)
        db.session.flush()
    if recently_mailed(subscriber, now):
        db.session.rollback()  # someone is hammering this address: no mail, no change
        return
    pending = _request_subscriptions(subscriber, lists, "signup", now)
    subscriber.confirmation_sent_at = now
    db.session.commit()
    if pending:
        send_confirmation(subscriber, pending)
    else:
        send_already_subscribed(subscriber, lists)


def _request_subscriptions(
    subscriber: Subscriber, lists: Iterable[MailingList], source: str, now: datetime
) -> list[Subscription]:
    """Put every requested list that is not active into the pending state; a
    subscription already pending keeps its stamp so earlier links stay valid."""
    pending = []
    for mailing_list in lists:
        subscription = _subscription(subscriber.id, mailing_list.id)
        if subscription is None:
            subscription = Subscription(
                subscriber_id=subscriber.id,
                list_id=mailing_list.id,
                status="pending",
                source=source,
                created_at=now,
                requested_at=now,
            )
            db.session.add(subscription)
            db.session.flush()
        elif subscription.status == "active":
            continue
        elif subscription.status != "pending" or subscription.requested_at is None:
            subscription.status, subscription.requested_at = SubscriptionStatus.PENDING, now
        pending.append(subscription)
    return pending


# --- unsubscribe and resubscribe ----------------------------------------------------


@dataclass
class UnsubscribeTarget:
    subscriber: Subscriber | None  # None once erased: unsubscribing still "works"
    mailing_list: MailingList | None  # None: the link is for every list (or its list is gone)
    list_id: int | None = None

    @property
    def list_gone(self) -> bool:
        """The link names a list that was deleted since: nothing is sent from it."""
        return self.list_id is not None and self.mailing_list is None

    @property
    def list_name(self) -> str:
        if self.mailing_list:
            return self.mailing_list.public_name
        return _("a list that no longer exists") if self.list_gone else _("all newsletters")


def unsubscribe_token_for(subscriber_id: int, list_id: int | None) -> str:
    """The unsubscribe token of a stored subscriber (their nonce included)."""
    subscriber = get_subscriber(subscriber_id)
    return unsubscribe_token(subscriber.id, list_id, subscriber.token_nonce)


def read_target(token: str) -> UnsubscribeTarget:
    """Raises :class:`app.tokens.InvalidToken` for a tampered or foreign token. Changes nothing."""
    subscriber_id, list_id, nonce = read_unsubscribe_token(token)
    subscriber = db.session.get(Subscriber, subscriber_id)
    # The nonce ties the token to this very subscriber: a token of an erased one
    # never acts on whoever got the id next. v0.1 tokens carry none and only fit
    # subscribers who existed then (and have none either).
    if subscriber is not None and subscriber.token_nonce != nonce:
        subscriber = None
    mailing_list = db.session.get(MailingList, list_id) if list_id is not None else None
    return UnsubscribeTarget(subscriber, mailing_list, list_id)


def unsubscribe(
    subscriber: Subscriber,
    mailing_list: MailingList | None,
    *,
    everything: bool = False,
    source: str = "unsubscribe link",
) -> str | None:
    """End one subscription (or all, adding an ``unsubscribed-all`` suppression).
    Returns a resubscribe token that undoes exactly this change."""
    now = utcnow()
    query = select(Subscription).where(Subscription.subscriber_id == subscriber.id)
    if not everything and mailing_list is not None:
        query = query.where(Subscription.list_id == mailing_list.id)
    changed = False
    for subscription in db.session.scalars(query):
        if subscription.status != "unsubscribed":
            subscription.status, subscription.unsubscribed_at = SubscriptionStatus.UNSUBSCRIBED, now
            changed = True
    whole = everything or mailing_list is None
    if whole and not is_suppressed(subscriber.email):
        suppress(subscriber.email, "unsubscribed-all", source, commit=False).created_at = now
        changed = True
    db.session.commit()
    if not changed:
        return None
    list_id = None if whole else mailing_list.id  # type: ignore[union-attr]
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESUBSCRIBE_SALT).dumps(
        [subscriber.id, list_id, stamp(now)]
    )


def resubscribe(token: str) -> Subscriber:
    """Undo the unsubscribe the token was issued for (and only that one)."""
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESUBSCRIBE_SALT)
    try:
        subscriber_id, list_id, when = serializer.loads(token, max_age=RESUBSCRIBE_MAX_AGE)
    except (BadSignature, ValueError, TypeError) as exc:
        raise TokenError(_("This resubscribe link is not valid or has expired.")) from exc
    subscriber = db.session.get(Subscriber, subscriber_id) if isinstance(subscriber_id, int) else None
    if subscriber is None:
        raise TokenError(_("This resubscribe link is no longer valid."))
    query = select(Subscription).where(
        Subscription.subscriber_id == subscriber.id, Subscription.status == "unsubscribed"
    )
    if list_id is not None:
        query = query.where(Subscription.list_id == list_id)
    restored = 0
    for subscription in db.session.scalars(query):
        if subscription.unsubscribed_at and stamp(subscription.unsubscribed_at) == when:
            subscription.status, subscription.unsubscribed_at = SubscriptionStatus.ACTIVE, None
            restored += 1
    if list_id is None:
        # Only the suppression this very unsubscribe created is lifted; a bounce or
        # complaint recorded since keeps the address blocked.
        digest = email_hash(subscriber.email)
        row = db.session.scalar(select(Suppression).where(Suppression.email_hash == digest))
        if row is not None and row.reason == "unsubscribed-all" and stamp(row.created_at) == when:
            db.session.delete(row)
            subscriber.status = SubscriberStatus.ENABLED
            restored += 1
    if not restored:
        raise TokenError(_("This resubscribe link has already been used."))
    db.session.commit()
    return subscriber


# --- administration ----------------------------------------------------------------


def add_subscriber(
    email: str,
    name: str,
    mailing_list: MailingList,
    status: str = "active",
    source: str = "admin",
    user_id: int | None = None,
) -> Subscriber:
    """Manual add. ``active`` records consent given elsewhere; ``pending`` mails a
    confirmation (counted against ``user_id``'s hourly cap). A suppressed
    address is refused, never resurrected."""
    if status not in ("active", "pending"):
        raise SubscriberError("Status must be active or pending.")
    address = validate_address(email)
    name = clean_name(name)
    if is_suppressed(address):
        raise SubscriberError(f"{address} is on the suppression list and cannot be added.")
    now = utcnow()
    subscriber = find_subscriber(address)
    if subscriber is None:
        subscriber = Subscriber(email=address, name=name, source=source, created_at=now)
        db.session.add(subscriber)
        db.session.flush()
    elif name:
        subscriber.name = name
    subscription = _subscription(subscriber.id, mailing_list.id)
    if subscription is not None and subscription.status == "active":
        raise SubscriberError(f"{address} is already subscribed to {mailing_list.name}.")
    if status == "active":
        if subscription is None:
            subscription = Subscription(
                subscriber_id=subscriber.id, list_id=mailing_list.id, source=source, created_at=now
            )
            db.session.add(subscription)
        subscription.status = SubscriptionStatus.ACTIVE
        subscription.confirmed_at, subscription.unsubscribed_at = now, None
        db.session.commit()
        return subscriber
    _request_subscriptions(subscriber, [mailing_list], source, now)
    request_confirmations([subscriber.id], mailing_list.id, user_id, interactive=True)
    db.session.commit()
    return subscriber


def get_subscriber(subscriber_id: int) -> Subscriber:
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise SubscriberError("No such subscriber (it may have been deleted).")
    return subscriber


def suppress_subscriber(subscriber: Subscriber, reason: str = "manual", source: str = "admin") -> None:
    suppress(subscriber.email, reason, source, unsubscribe_all=True, commit=False)
    subscriber.status = SubscriberStatus.SUPPRESSED
    db.session.commit()


def forget_subscriber(subscriber: Subscriber) -> None:
    """The subscribers domain's part of an erasure: the subscriber row and its
    subscriptions go, and only a hash of the address stays suppressed, so it is
    never mailed again. Other domains' records are the caller's
    (:func:`app.sending.erasure.erase_subscriber`). Commits."""
    suppress(subscriber.email, "deleted", "erasure", keep_address=False, commit=False)
    # Its recorded changes hold old addresses and attribute values.
    db.session.execute(
        delete(AuditEvent).where(AuditEvent.subject == "subscriber", AuditEvent.subject_id == subscriber.id)
    )
    db.session.execute(delete(Subscription).where(Subscription.subscriber_id == subscriber.id))
    db.session.delete(subscriber)
    db.session.commit()
