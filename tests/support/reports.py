"""Rows for feedback and report tests, created directly (no worker needed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from app.db import db, utcnow
from app.issues.models import Issue
from app.sending.models import Delivery, Send
from app.subscribers.models import MailingList, Subscriber, Subscription
from tests.support.sending import recount_sends

HTML = (
    '<html><body><p>Read <a href="https://example.org/story">the story</a> and '
    '<a href="https://example.org/other?a=1&amp;b=2">more</a>.</p>'
    '<p><a href="http://127.0.0.1:5000/unsubscribe/xyz">Unsubscribe</a></p></body></html>'
)


def make_send(
    recipients: int = 3,
    *,
    status: str = "finished",
    slug: str = "issue-1",
    started_at: datetime | None = None,
    html: str = HTML,
) -> Send:
    """An issue sent to ``recipients`` subscribers of one list: every delivery
    ``sent`` with SES message id ``msg-<n>``."""
    started = started_at or utcnow() - timedelta(hours=3)
    mailing = db.session.query(MailingList).filter_by(slug="readers").one_or_none()
    if mailing is None:
        mailing = MailingList(name="Readers", slug="readers")
        db.session.add(mailing)
    issue = Issue(
        slug=slug, title=f"Issue {slug}", subject=f"Subject {slug}", body="Read [the story](https://example.org/story)."
    )
    issue.lists.append(mailing)
    send = Send(
        issue=issue,
        status=status,
        scheduled_at=started,
        started_at=started,
        finished_at=started + timedelta(minutes=5) if status == "finished" else None,
        recipient_count=recipients,
        subject=issue.subject,
        html_body=html,
        text_body="text",
    )
    send.lists.append(mailing)
    db.session.add(send)
    db.session.flush()
    base = db.session.query(Subscriber).count()
    db.session.execute(
        insert(Subscriber),
        [
            {
                "email": f"reader{base + i}@example.com",
                "status": "enabled",
                "name": "",
                "source": "test",
                "created_at": started - timedelta(days=30),
            }
            for i in range(recipients)
        ],
    )
    subscribers = db.session.query(Subscriber).order_by(Subscriber.id).offset(base).all()
    db.session.execute(
        insert(Subscription),
        [
            {
                "subscriber_id": s.id,
                "list_id": mailing.id,
                "status": "active",
                "source": "test",
                "created_at": started - timedelta(days=30),
                "confirmed_at": started - timedelta(days=30),
            }
            for s in subscribers
        ],
    )
    db.session.execute(
        insert(Delivery),
        [
            {
                "send_id": send.id,
                "subscriber_id": s.id,
                "list_id": mailing.id,
                "email": s.email,
                "status": "sent",
                "message_id": f"msg-{send.id}-{n}",
                "attempts": 1,
                "sent_at": started + timedelta(minutes=n % 60),
                "updated_at": started,
            }
            for n, s in enumerate(subscribers)
        ],
    )
    recount_sends()
    db.session.commit()
    return send


def deliveries(send: Send) -> list[Delivery]:
    return db.session.query(Delivery).filter_by(send_id=send.id).order_by(Delivery.id).all()
