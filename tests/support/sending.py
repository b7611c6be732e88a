"""Test data for the delivery engine: an approved issue and lists of active
subscribers, inserted in bulk so hundreds of recipients cost milliseconds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from app.db import db, utcnow
from app.issues.models import Issue
from app.sending import tally
from app.sending.models import Delivery, Send
from app.subscribers.models import MailingList, Subscriber, Subscription


def make_issue(slug: str = "issue-1", status: str = "approved") -> Issue:
    issue = Issue(
        slug=slug,
        title="Hello readers",
        subject="Hello readers",
        status=status,
        body="Hello **readers**.\n\nA [link](https://example.org/x).\n",
    )
    db.session.add(issue)
    db.session.commit()
    return issue


def make_list(name: str, count: int, start: int = 0, status: str = "active") -> MailingList:
    """A list with ``count`` subscribers r{start}..@example.com (created when missing)."""
    lst = MailingList(name=name, slug=name.lower().replace(" ", "-"))
    db.session.add(lst)
    db.session.flush()
    emails = [f"r{i}@example.com" for i in range(start, start + count)]
    existing = dict(
        db.session.execute(select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(emails))).all()
    )
    new = [
        {"email": e, "name": f"Reader {e.split('@')[0]}", "status": "enabled", "created_at": utcnow()}
        for e in emails
        if e not in existing
    ]
    if new:
        db.session.execute(insert(Subscriber), new)
    ids = dict(db.session.execute(select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(emails))).all())
    db.session.execute(
        insert(Subscription),
        [{"subscriber_id": ids[e], "list_id": lst.id, "status": status, "created_at": utcnow()} for e in emails],
    )
    db.session.commit()
    return lst


def sent_delivery(subscriber: Subscriber, mailing_list: MailingList, slug: str = "one", **fields: Any) -> Delivery:
    """A delivery (``sent`` unless ``fields`` say otherwise) of a new send
    ("Issue <slug>") of a new issue to ``subscriber``, flushed; the caller
    adds events, calls :func:`recount_sends` and commits."""
    issue = Issue(slug=slug, title=slug.title())
    db.session.add(issue)
    db.session.flush()
    send = Send(issue_id=issue.id, subject=f"Issue {slug}")
    db.session.add(send)
    db.session.flush()
    values = {"status": "sent", **fields}
    delivery = Delivery(
        send_id=send.id, subscriber_id=subscriber.id, list_id=mailing_list.id, email=subscriber.email, **values
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery


def subscriber_id(email: str) -> int:
    return db.session.scalar(select(Subscriber.id).where(Subscriber.email == email))


def recount_sends() -> None:
    """Fixtures that write delivery rows directly bring the per-send counts
    (normally moved by every state change) in line before they commit."""
    for send_id in db.session.scalars(select(Send.id)).all():
        tally.recount(send_id)
