"""/webhooks/ses: signed SNS posts carrying SES bounces, complaints and
deliveries are applied once; anything forged, stale or foreign writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db import db
from app.sending.feedback import check_auto_pause, record_event
from app.sending.models import Delivery, FeedbackEvent, Send, SnsMessage
from app.subscribers.models import Subscription, Suppression
from tests.support.reports import deliveries, make_send
from tests.support.sns_signing import (
    TOPIC_ARN,
    FakeSnsSession,
    notification,
    ses_event,
    ses_notification,
    sign,
    subscription_confirmation,
)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["SNS_TOPIC_ARNS"] = f"arn:aws:sns:eu-west-1:1:unused, {TOPIC_ARN}"
    app_config["SNS_HTTP_SESSION"] = FakeSnsSession()
    return app_config


def post(client, message: dict[str, Any] | bytes):
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    # SNS posts JSON with a text/plain content type.
    return client.post("/webhooks/ses", data=body, content_type="text/plain; charset=UTF-8")


def written() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]
        for model in (SnsMessage, FeedbackEvent, Suppression)
    )


def test_permanent_bounce_suppresses_once_even_when_replayed(app, client) -> None:
    send = make_send(2)
    target = deliveries(send)[0]
    message = notification(
        ses_notification(
            "Bounce",
            target.message_id,
            destination=target.email,
            bounce={
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": target.email, "diagnosticCode": "550 5.1.1 unknown"}],
            },
        ),
        version="1",
    )
    first = post(client, message)
    assert first.status_code == 200 and first.json["status"] == "processed"
    replay = post(client, message)
    assert replay.status_code == 200 and replay.json["status"] == "duplicate"
    assert written() == (1, 1, 1)
    event = db.session.scalar(select(FeedbackEvent))
    assert (event.kind, event.delivery_id, event.send_id) == ("hard_bounce", target.id, send.id)
    assert "550 5.1.1" in event.detail
    assert db.session.scalar(select(Suppression)).reason == "hard-bounce"


def test_transient_bounce_is_recorded_not_suppressed(app, client) -> None:
    target = deliveries(make_send(1))[0]
    record = ses_event("Bounce", target.message_id, bounce={"bounceType": "Transient", "bounceSubType": "MailboxFull"})
    assert post(client, notification(record)).status_code == 200
    assert written() == (1, 1, 0)
    assert db.session.scalar(select(FeedbackEvent.kind)) == "soft_bounce"


def test_complaint_suppresses_and_unsubscribes_from_every_list(app, client) -> None:
    target = deliveries(make_send(2))[1]
    record = ses_notification(
        "Complaint",
        target.message_id,
        complaint={"complainedRecipients": [{"emailAddress": target.email}], "complaintFeedbackType": "abuse"},
    )
    assert post(client, notification(record)).status_code == 200
    assert db.session.scalar(select(Suppression.reason)) == "complaint"
    statuses = dict(db.session.execute(select(Subscription.subscriber_id, Subscription.status)).all())
    assert statuses[target.subscriber_id] == "unsubscribed"
    assert sorted(statuses.values()) == ["active", "unsubscribed"]


def test_delivery_marks_the_delivery_and_tags_match_without_message_id(app, client) -> None:
    send = make_send(2)
    first, second = deliveries(send)
    assert post(client, notification(ses_event("Delivery", first.message_id))).status_code == 200
    tagged = ses_event(
        "Delivery",
        "unknown-id",
        destination="Other@Example.com",
        tags={"send": [str(send.id)], "delivery": [str(second.id)]},
    )
    assert post(client, notification(tagged)).status_code == 200
    assert all(d.delivered_at is not None for d in deliveries(send))
    assert db.session.scalar(select(func.count()).where(FeedbackEvent.kind == "delivery")) == 2
    by_address = ses_event("Delivery", "unknown-id", destination=first.email.upper(), tags={"send": [str(send.id)]})
    assert post(client, notification(by_address)).json["status"] == "processed"
    assert db.session.scalar(select(FeedbackEvent.delivery_id).order_by(FeedbackEvent.id.desc()).limit(1)) == first.id


@pytest.mark.parametrize("spoil", ["signature", "host", "old", "topic", "json", "array", "empty"])
def test_forged_stale_or_foreign_posts_write_nothing(app, client, spoil: str) -> None:
    target = deliveries(make_send(1))[0]
    record = ses_notification(
        "Complaint", target.message_id, complaint={"complainedRecipients": [{"emailAddress": target.email}]}
    )
    message: Any = notification(record)
    if spoil == "signature":
        message["Message"] = message["Message"].replace("Complaint", "Bounce")
    elif spoil == "host":
        message = notification(record, cert_url="https://sns.us-east-1.amazonaws.com.evil.example/x.pem")
    elif spoil == "old":
        message = notification(record, when=datetime.now(UTC) - timedelta(hours=2))
    elif spoil == "topic":
        message = notification(record, topic="arn:aws:sns:us-east-1:123456789012:other")
    elif spoil == "json":
        message = b'{"Type": "Notification", '
    elif spoil == "array":
        message = b"[1, 2]"
    else:
        message = b""
    response = post(client, message)
    assert 400 <= response.status_code < 500
    assert written() == (0, 0, 0)
    assert db.session.get(Delivery, target.id).delivered_at is None


def test_subscription_confirmation_fetches_only_the_sns_host(app, client) -> None:
    session = app.config["SNS_HTTP_SESSION"]
    message = subscription_confirmation()
    assert post(client, message).status_code == 200
    assert session.requested[-1] == message["SubscribeURL"]
    evil = subscription_confirmation(subscribe_url="https://evil.example/?Action=ConfirmSubscription")
    count = len(session.requested)
    assert post(client, evil).status_code == 403
    assert len(session.requested) == count
    assert written() == (1, 0, 0)


def test_one_complaint_in_500_pauses_a_running_send_with_a_reason(app, client) -> None:
    send = make_send(500, status="running")
    target = deliveries(send)[7]
    record = ses_event(
        "Complaint", target.message_id, complaint={"complainedRecipients": [{"emailAddress": target.email}]}
    )
    assert post(client, notification(record)).status_code == 200
    send = db.session.get(Send, send.id)
    assert send.status == "paused"
    assert "complaint rate" in send.pause_reason and "0.08%" in send.pause_reason


def test_bounce_rate_pauses_only_past_four_percent(app) -> None:
    send = make_send(500, status="running")
    rows = deliveries(send)
    for delivery in rows[:20]:  # exactly 4%: not yet
        record_event(delivery, "hard_bounce")
    assert check_auto_pause(send.id) is None
    record_event(rows[20], "hard_bounce")
    assert "bounce rate reached 4.20%" in check_auto_pause(send.id)
    db.session.commit()
    assert db.session.get(Send, send.id).status == "paused"


@pytest.mark.parametrize(
    "record",
    [
        {"eventType": "Bounce", "mail": "x", "bounce": {"bouncedRecipients": "nobody", "bounceType": 5}},
        {"notificationType": "Complaint", "mail": {"messageId": 42, "tags": []}, "complaint": []},
        {"eventType": "Click", "mail": {"destination": [], "tags": {"send": "abc"}}, "click": {"link": 3}},
        {"eventType": "Open", "mail": {"timestamp": "garbage"}, "open": {"timestamp": 7}},
        {"eventType": "Send", "mail": {}},
        {"unexpected": True},
    ],
)
def test_signed_but_odd_records_never_fail(app, client, record: dict) -> None:
    response = post(client, notification(record))
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(SnsMessage)) == 1


def test_non_json_notification_and_unsubscribe_confirmation_are_acknowledged(app, client) -> None:
    message = notification({}) | {"Message": "plain text"}
    assert post(client, sign({k: v for k, v in message.items() if k != "Signature"})).status_code == 200
    unsubscribe = subscription_confirmation() | {"Type": "UnsubscribeConfirmation"}
    assert post(client, sign({k: v for k, v in unsubscribe.items() if k != "Signature"})).status_code == 200
    assert written() == (2, 0, 0)


def test_a_post_that_races_another_is_retried_not_lost(app, client, monkeypatch) -> None:
    """Two posts about one address at once can collide on its suppression row.
    The loser must answer non-2xx (SNS delivers it again) and keep nothing,
    never acknowledge a bounce it did not record."""
    from sqlalchemy.exc import IntegrityError

    import app.sending.feedback as feedback

    send = make_send(1)
    target = deliveries(send)[0]
    message = notification(
        ses_notification(
            "Bounce",
            target.message_id,
            destination=target.email,
            bounce={
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": target.email}],
            },
        ),
        version="2",
    )
    real_suppress = feedback.suppress

    def collide(*args, **kwargs):
        raise IntegrityError("INSERT INTO suppressions", {}, Exception("duplicate key (another request)"))

    monkeypatch.setattr(feedback, "suppress", collide)
    raced = post(client, message)
    assert raced.status_code == 503
    assert written() == (0, 0, 0)
    monkeypatch.setattr(feedback, "suppress", real_suppress)
    retried = post(client, message)  # SNS's redelivery
    assert retried.status_code == 200 and retried.json["status"] == "processed"
    assert written() == (1, 1, 1)


def test_an_event_carries_its_delivery_subscriber_until_the_subscriber_is_erased(app) -> None:
    """Segments find engagement by the event's own subscriber_id (migration 0009)."""
    from app.sending.erasure import erase_subscriber
    from app.subscribers.models import Subscriber

    send = make_send(3, status="running")
    target, other = deliveries(send)[:2]
    opened, clicked = record_event(target, "open"), record_event(other, "click", url="https://example.org/")
    assert (opened.subscriber_id, clicked.subscriber_id) == (target.subscriber_id, other.subscriber_id)
    erase_subscriber(db.session.get(Subscriber, target.subscriber_id))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(FeedbackEvent, opened.id).subscriber_id is None
    assert db.session.get(FeedbackEvent, clicked.id).subscriber_id == other.subscriber_id
