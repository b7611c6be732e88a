"""Demo data for reports: one finished send with believable feedback, so the
dashboard and a report page have something to show after ``pressroom demo``.
Self-contained (its own list, subscribers and issue) and never mailed: the
send is already finished when it is created."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert, select

from app.db import db, utcnow
from app.issues.models import Issue
from app.sending import tally
from app.sending.feedback import record_event
from app.sending.models import Delivery, Send
from app.subscribers.lists import get_or_create_list
from app.subscribers.models import Subscriber, Subscription, SubscriptionStatus

SLUG = "demo-report-issue"
READERS = 240
LINKS = ["https://example.org/programme", "https://example.org/tickets", "https://example.org/blog/recap"]


def load_demo_reports() -> list[str]:
    if db.session.scalar(select(Issue.id).where(Issue.slug == SLUG)) is not None:
        return []
    rng = random.Random(9)  # the same demo every time
    now = utcnow().replace(microsecond=0)
    started = now - timedelta(days=3, hours=5)
    mailing = get_or_create_list("Demo report readers", commit=False)
    db.session.flush()
    emails = [f"demo-reader-{n}@example.com" for n in range(READERS)]
    db.session.execute(
        insert(Subscriber),
        [
            {"email": e, "name": "", "status": "enabled", "source": "demo", "created_at": now - timedelta(days=7 * 20)}
            for e in emails
        ],
    )
    ids = dict(db.session.execute(select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(emails))).all())
    joined = {e: now - timedelta(days=rng.randint(7, 7 * 24)) for e in emails}
    db.session.execute(
        insert(Subscription),
        [
            {
                "subscriber_id": ids[e],
                "list_id": mailing.id,
                "status": "active",
                "source": "demo",
                "created_at": joined[e],
                "confirmed_at": joined[e],
            }
            for e in emails
        ],
    )
    body = "Highlights of the week.\n\n" + "\n".join(f"- [{u.rsplit('/', 1)[-1]}]({u})" for u in LINKS)
    html = "<html><body>" + "".join(f'<p><a href="{u}">{u}</a></p>' for u in LINKS) + "</body></html>"
    issue = Issue(
        slug=SLUG,
        title="Demo: last week's issue",
        subject="Demo: last week's issue",
        body=body,
        status="sent",
        sent_at=started + timedelta(minutes=20),
        # Dated and listed like any sent issue, so it sorts and reads right on the Issues page.
        issue_date=started.date(),
        lists=[mailing],
    )
    send = Send(
        issue=issue,
        status="finished",
        scheduled_at=started,
        started_at=started,
        finished_at=started + timedelta(minutes=20),
        subject=issue.subject,
        html_body=html,
        text_body=body,
        lists=[mailing],
    )
    db.session.add(send)
    db.session.flush()
    recipients = [e for e in emails if joined[e] < started]
    db.session.execute(
        insert(Delivery),
        [
            {
                "send_id": send.id,
                "subscriber_id": ids[e],
                "list_id": mailing.id,
                "email": e,
                "status": "sent",
                "attempts": 1,
                "message_id": f"demo-{send.id}-{n}",
                "sent_at": started + timedelta(seconds=5 * n),
                "updated_at": started,
            }
            for n, e in enumerate(recipients)
        ],
    )
    send.recipient_count = len(recipients)
    tally.add({(send.id, "sent"): len(recipients)})  # the counts the send page and reports read
    for n, delivery in enumerate(db.session.scalars(select(Delivery).where(Delivery.send_id == send.id))):
        sent_at = delivery.sent_at
        assert sent_at is not None  # every delivery above was inserted as sent
        after = timedelta(minutes=rng.randint(1, 60 * 30))
        if n % 41 == 5:
            record_event(
                delivery,
                "hard_bounce",
                when=sent_at + timedelta(seconds=30),
                detail="Permanent/General: 550 5.1.1 mailbox unavailable",
            )
            continue
        delivery.delivered_at = sent_at + timedelta(seconds=20)
        if rng.random() < 0.55:
            record_event(delivery, "open", when=sent_at + after)
            if rng.random() < 0.4:
                record_event(delivery, "click", url=rng.choice(LINKS), when=sent_at + after + timedelta(minutes=1))
        if n % 60 == 7:
            subscription = db.session.get(Subscription, (delivery.subscriber_id, mailing.id))
            assert subscription is not None  # every reader was subscribed to the list above
            subscription.status, subscription.unsubscribed_at = SubscriptionStatus.UNSUBSCRIBED, sent_at + after
    db.session.commit()
    return [f"reports: a finished demo send of {SLUG!r} to {len(recipients)} readers with feedback"]
