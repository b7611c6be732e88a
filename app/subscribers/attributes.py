"""Subscribers' custom attributes: the declared keys and their types, and
changing a subscriber's values, name or address with a record of each change.

Two keys are standard and always declared: ``time_zone`` (a canonical IANA
zone, checked) and ``language`` (a BCP 47 tag such as ``de`` or ``pt-BR``).
They come from a CSV column, the signup page's browser hints, or the admin,
and are what later features (local-time delivery, the reader's language) read.

Every change made through :func:`update_attributes`, :func:`rename` or
:func:`change_email` adds an audit event on the subscriber (the timeline
shows them); erasing the subscriber removes those events with the rest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import select

from app.attributes import (
    ATTRIBUTE_TYPES,
    STANDARD,
    AttributeType,
    AttributeValueError,
    check_standard,
    coerce,
    valid_key,
)
from app.audit import record
from app.db import db
from app.errors import Conflict, InvalidInput
from app.subscribers.models import AttributeDefinition, Subscriber
from app.subscribers.service import clean_name, find_subscriber, validate_address
from app.subscribers.suppression import is_suppressed

__all__ = [
    "STANDARD",
    "AttributeError_",
    "attribute_errors",
    "change_email",
    "check_standard",
    "define",
    "definitions",
    "rename",
    "typed_value",
    "update_attributes",
]

MAX_KEYS = 100  # per subscriber; a CSV of 500 columns is a mistake, not an audience


class Actor(Protocol):
    id: int
    email: str


class AttributeError_(InvalidInput):  # noqa: N801 (AttributeError is a builtin)
    """A key or value that cannot be stored."""


def definitions() -> dict[str, AttributeType]:
    """{key: type} of every declared attribute, the standard ones included."""
    declared = dict(db.session.execute(select(AttributeDefinition.key, AttributeDefinition.type)).all())
    return {**STANDARD, **declared}  # type: ignore[dict-item]


def define(key: str, type_: str, label: str = "") -> AttributeDefinition | None:
    """Declare ``key`` with ``type_``; declaring it again with the same type is
    a no-op. A different type is refused: the stored values were typed for the
    first one. Returns None for a standard key. Flushes; the caller commits."""
    if not valid_key(key):
        raise AttributeError_(
            f"'{key}' cannot be an attribute name: use lower-case letters, digits and _ "
            "(starting with a letter, at most 64 characters)."
        )
    if type_ not in ATTRIBUTE_TYPES:
        raise AttributeError_(f"'{type_}' is not an attribute type ({', '.join(ATTRIBUTE_TYPES)}).")
    if key in STANDARD:
        if type_ != STANDARD[key]:
            raise AttributeError_(f"{key} is a standard attribute and is always {STANDARD[key]}.")
        return None
    existing = db.session.get(AttributeDefinition, key)
    if existing is not None:
        if existing.type != type_:
            raise Conflict(f"attribs.{key} is already a {existing.type} attribute; it cannot become {type_}.")
        return existing
    definition = AttributeDefinition(key=key, type=type_, label=label[:200])
    db.session.add(definition)
    db.session.flush()
    return definition


def typed_value(key: str, text: str, types: Mapping[str, AttributeType]) -> Any:
    """One value as the admin or a CSV cell writes it -> its JSON value (None: unset)."""
    if key not in types:
        raise AttributeError_(f"attribs.{key} is not declared; add it under Attributes first.")
    try:
        return check_standard(key, coerce(text, types[key]))
    except AttributeValueError as exc:
        raise AttributeError_(f"attribs.{key}: {exc}") from exc


def attribute_errors(changes: Mapping[str, str | None], types: Mapping[str, AttributeType]) -> dict[str, str]:
    """{key: message} for every value that :func:`update_attributes` would
    refuse, so a form can show each beside its field (not just the first)."""
    errors = {}
    for key, text in changes.items():
        if text is None:
            continue
        try:
            typed_value(key, text, types)
        except AttributeError_ as exc:
            errors[key] = str(exc)
    return errors


def _shown(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def update_attributes(
    subscriber: Subscriber, changes: Mapping[str, str | None], actor: Actor | None, *, source: str = "admin"
) -> list[str]:
    """Set the given keys from their text (empty or None: remove the key).
    Returns a line per key that changed; records them. Flushes; the caller commits."""
    types = definitions()
    values = dict(subscriber.attributes or {})
    lines = []
    for key, text in changes.items():
        new = None if text is None else typed_value(key, text, types)
        old = values.get(key)
        if new == old:
            continue
        if new is None:
            values.pop(key, None)
        else:
            values[key] = new
        lines.append(f"{key}: {_shown(old)} → {_shown(new)}")
    if len(values) > MAX_KEYS:
        raise AttributeError_(f"A subscriber can have at most {MAX_KEYS} attributes.")
    if lines:
        subscriber.attributes = values  # a new dict: the JSON column sees the change
        record(actor, "attributes", "subscriber", subscriber.id, f"({source}) " + "; ".join(lines))
        db.session.flush()
    return lines


def rename(subscriber: Subscriber, name: str, actor: Actor | None) -> bool:
    name = clean_name(name)
    if name == subscriber.name:
        return False
    record(actor, "name", "subscriber", subscriber.id, f"{subscriber.name or '(none)'} → {name or '(none)'}")
    subscriber.name = name
    db.session.flush()
    return True


def change_email(subscriber: Subscriber, email: str, actor: Actor | None) -> bool:
    """A new address for the same person: validated like a new one, refused
    when another subscriber has it or it is suppressed. The old address stays
    suppressed if it was (suppression is by address, so the rule keeps
    protecting it), and the change is recorded. Flushes; the caller commits."""
    address = validate_address(email)
    if address == subscriber.email:
        return False
    other = find_subscriber(address)
    if other is not None:
        raise Conflict(f"{address} belongs to another subscriber; merge them by erasing one first.")
    if is_suppressed(address):
        raise AttributeError_(f"{address} is on the suppression list and cannot be used.")
    record(actor, "email", "subscriber", subscriber.id, f"{subscriber.email} → {address}")
    subscriber.email = address
    db.session.flush()
    return True
