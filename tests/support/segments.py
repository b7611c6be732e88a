"""Test data for segments: five subscribers with custom attributes, three
lists, finished and running sends with deliveries, opens, clicks and bounces.

Attributes are written through a bare table so each test also sees values a
typed import would never store (a string on a number key, a JSON null)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, column, table, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from app.db import db
from app.issues.models import Issue
from app.sending.models import Delivery, FeedbackEvent, Send
from app.subscribers.models import MailingList, Subscriber, Subscription
from tests.support.sending import recount_sends

AttributesType = JSON().with_variant(JSONB(), "postgresql")
NOW = datetime(2026, 6, 1, 12, 0)
TYPES: dict[str, Any] = {
    "plan": "text",
    "country": "text",
    "age": "number",
    "vip": "boolean",
    "tags": "list",
    "renewal": "date",
}


@contextmanager
def attributes_column(database_url: str) -> Iterator[ColumnElement[Any]]:
    """The migrated ``subscribers.attributes`` column (migration 0008)."""
    yield Subscriber.__table__.c.attributes


_subscribers = table("subscribers", column("id"), column("attributes", AttributesType))

PEOPLE: dict[str, dict[str, Any]] = {
    "ada": {
        "email": "ada@example.org",
        "name": "Ada Lovelace",
        "created_at": datetime(2026, 1, 15, 10),
        "attributes": {
            "plan": "pro",
            "country": "DE",
            "age": 36,
            "vip": True,
            "tags": ["beta", "press"],
            "renewal": "2026-05-01",
        },
    },
    "bob": {
        "email": "bob@example.com",
        "name": "Bob",
        "created_at": datetime(2026, 3, 1, 23, 59, 59),
        "attributes": {"plan": "free", "country": "FR", "age": 17.5, "vip": False, "tags": ["beta"]},
    },
    # Values of the wrong JSON type never match a typed comparison.
    "cy": {
        "email": "cy@sub.example.org",
        "name": "",
        "created_at": datetime(2026, 3, 1, 0, 0),
        "attributes": {"plan": "pro", "country": "US", "age": "36", "tags": "beta"},
    },
    "dee": {"email": "dee@example.net", "name": "Dee O'Brien", "created_at": datetime(2026, 3, 2), "attributes": {}},
    "eve": {
        "email": "eve@example.org",
        "name": "",
        "created_at": datetime(2025, 12, 31, 23, 59, 59),
        "attributes": {"plan": None, "country": "de"},
    },
}


class World:
    """Ids of what :func:`build_world` made."""

    def __init__(self) -> None:
        self.lists: dict[str, int] = {}
        self.people: dict[str, int] = {}
        self.sends: dict[str, int] = {}
        self.deliveries: dict[tuple[str, str], Delivery] = {}

    def email(self, person: str) -> str:
        return str(PEOPLE[person]["email"])


def build_world() -> World:
    world = World()
    for slug in ("news", "clients", "internal"):
        lst = MailingList(name=slug.title(), slug=slug)
        db.session.add(lst)
        db.session.flush()
        world.lists[slug] = lst.id
    for key, person in PEOPLE.items():
        subscriber = Subscriber(email=person["email"], name=person["name"], created_at=person["created_at"])
        db.session.add(subscriber)
        db.session.flush()
        world.people[key] = subscriber.id
        db.session.execute(
            update(_subscribers).where(_subscribers.c.id == subscriber.id).values(attributes=person["attributes"])
        )
    for person, slug, status, source in [
        ("ada", "news", "active", "signup"),
        ("ada", "clients", "active", "import:crm"),
        ("bob", "news", "active", "import:abc"),
        ("cy", "news", "active", "signup"),
        ("cy", "internal", "active", "admin"),
        ("dee", "news", "unsubscribed", "signup"),
        ("dee", "clients", "active", "admin"),
        ("eve", "news", "pending", "signup"),
    ]:
        db.session.add(
            Subscription(subscriber_id=world.people[person], list_id=world.lists[slug], status=status, source=source)
        )
    # Sends to "news" S1 < S2 < S3 (finished) and S4 (still running); one to "clients".
    issue = Issue(slug="segments", title="Segments", subject="Segments", status="sent")
    db.session.add(issue)
    db.session.flush()
    for name, slug, started, status in [
        ("S1", "news", datetime(2026, 2, 1), "finished"),
        ("S2", "news", datetime(2026, 3, 1), "finished"),
        ("S3", "news", datetime(2026, 4, 1), "finished"),
        ("S4", "news", datetime(2026, 5, 1), "running"),
        ("C1", "clients", datetime(2026, 4, 15), "finished"),
    ]:
        send = Send(
            issue_id=issue.id,
            status=status,
            started_at=started,
            scheduled_at=started,
            lists=[db.session.get(MailingList, world.lists[slug])],
        )
        db.session.add(send)
        db.session.flush()
        world.sends[name] = send.id
    for send, people in [
        ("S1", "ada bob"),
        ("S2", "ada bob cy"),
        ("S3", "ada bob cy dee"),
        ("S4", "eve cy"),
        ("C1", "ada dee"),
    ]:
        for person in people.split():
            delivery = Delivery(
                send_id=world.sends[send], subscriber_id=world.people[person], email=world.email(person), status="sent"
            )
            db.session.add(delivery)
            world.deliveries[(send, person)] = delivery
    world.deliveries[("S2", "cy")].status = "failed"
    db.session.flush()
    for send, person, kind, when in [
        ("S1", "ada", "open", NOW),
        ("S3", "bob", "click", NOW),
        ("C1", "dee", "open", NOW),
        ("S4", "eve", "open", NOW),
        ("S4", "cy", "click", NOW),
        ("S3", "bob", "soft_bounce", NOW - timedelta(days=2)),
        ("S3", "cy", "soft_bounce", NOW - timedelta(days=10)),
        ("S3", "ada", "hard_bounce", NOW - timedelta(days=1)),
    ]:
        delivery = world.deliveries[(send, person)]
        db.session.add(
            FeedbackEvent(
                send_id=delivery.send_id,
                delivery_id=delivery.id,
                subscriber_id=delivery.subscriber_id,
                email=delivery.email,
                kind=kind,
                occurred_at=when,
            )
        )
    recount_sends()
    db.session.commit()
    return world
