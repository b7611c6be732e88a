"""The same address arriving twice at once (signup, unsubscribe from everything)
is not a 500: the loser of the INSERT race finds the winner's row."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db import db, utcnow
from app.subscribers import service, suppression
from app.subscribers.lists import create_list
from app.subscribers.models import Subscriber, Subscription, Suppression
from tests.support.jobs import run_jobs


def _once_none(monkeypatch, module, name: str) -> None:
    """The first call answers None: the other request's row was committed just after our look-up."""
    real, calls = getattr(module, name), []

    def patched(*args):
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(module, name, patched)


def test_concurrent_signup_of_a_new_address_gets_the_normal_page(app, client, monkeypatch):
    news = create_list("News", public=True)
    db.session.add(Subscriber(email="race@example.com", name="", source="signup", created_at=utcnow()))
    db.session.commit()
    _once_none(monkeypatch, service, "find_subscriber")
    response = client.post("/subscribe", data={"email": "race@example.com", "list": str(news.id)})
    run_jobs(app)
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 1
    assert db.session.scalar(select(Subscription.status)) == "pending"


def test_concurrent_unsubscribe_all_keeps_the_transaction(app, monkeypatch):
    news = create_list("News", public=True)
    subscriber = Subscriber(email="both@example.com", name="", source="admin", created_at=utcnow())
    db.session.add(subscriber)
    db.session.flush()
    db.session.add(Subscription(subscriber_id=subscriber.id, list_id=news.id, status="active", created_at=utcnow()))
    db.session.add(
        Suppression(
            email_hash=suppression.email_hash("both@example.com"),
            email="both@example.com",
            reason="unsubscribed-all",
            source="other request",
        )
    )
    db.session.commit()
    monkeypatch.setattr(service, "is_suppressed", lambda email: False)
    _once_none(monkeypatch, suppression, "_find")
    assert service.unsubscribe(subscriber, None, everything=True) is not None
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1
    # The unsubscribe made before the conflicting INSERT survived it (savepoint, no rollback).
    assert db.session.scalar(select(Subscription.status)) == "unsubscribed"
