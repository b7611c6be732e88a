"""Demo subscribers: a public "subscribers" list (the archive's main audience)
with a few people in each state, so the admin and /subscribe have content."""

from __future__ import annotations

from app.db import db, utcnow
from app.subscribers.attributes import define
from app.subscribers.lists import get_or_create_list
from app.subscribers.models import Subscriber, Subscription
from app.subscribers.service import find_subscriber
from app.subscribers.suppression import suppress

DEMO_PEOPLE = [
    ("ada.reader@example.com", "Ada Reader", "active"),
    ("bob.reader@example.com", "Bob Reader", "active"),
    ("chloe@example.org", "Chloé Müller", "active"),
    ("dan.pending@example.com", "Dan Pending", "pending"),
    ("erin.left@example.com", "Erin Left", "unsubscribed"),
]
DEMO_TYPES = {"plan": "text", "country": "text"}
DEMO_ATTRIBUTES = {
    "ada.reader@example.com": {"plan": "pro", "country": "GB", "time_zone": "Europe/London", "language": "en"},
    "bob.reader@example.com": {"plan": "free", "country": "US", "time_zone": "America/New_York"},
    "chloe@example.org": {"plan": "pro", "country": "DE", "time_zone": "Europe/Berlin", "language": "de"},
    "dan.pending@example.com": {"country": "FR"},
}


def load_demo_subscribers() -> list[str]:
    mailing_list = get_or_create_list("subscribers", public=True)
    mailing_list.public = True
    if not mailing_list.description:
        mailing_list.description = "The newsletter: new issues and upcoming events."
    if not mailing_list.display_name:  # readers see this, not the short name
        mailing_list.display_name = "The weekly newsletter"
    now, added = utcnow(), 0
    for key, type_ in DEMO_TYPES.items():
        define(key, type_)
    for email, name, status in DEMO_PEOPLE:
        if find_subscriber(email) is not None:
            continue
        subscriber = Subscriber(
            email=email, name=name, source="demo", created_at=now, attributes=DEMO_ATTRIBUTES.get(email, {})
        )
        db.session.add(subscriber)
        db.session.flush()
        db.session.add(
            Subscription(
                subscriber_id=subscriber.id,
                list_id=mailing_list.id,
                status=status,
                source="demo",
                created_at=now,
                confirmed_at=now if status != "pending" else None,
                requested_at=now if status == "pending" else None,
                unsubscribed_at=now if status == "unsubscribed" else None,
            )
        )
        added += 1
    suppress("bounced@example.com", "hard-bounce", "demo", commit=False)
    db.session.commit()
    return [
        f"subscribers: public list {mailing_list.name!r} with {added} demo subscribers "
        "(active, pending, unsubscribed) and one suppressed address"
    ]
