"""What SES tells us after a message left: bounces, complaints, deliveries,
opens, clicks. Arrives through SNS (``/webhooks/ses``) in either of SES's two
formats: the notification format (``notificationType``) and event publishing
(``eventType``, from a configuration set's event destination).

Every SNS message is processed at most once: its MessageId goes into
``sns_messages`` in the same transaction as its effects, so a replay is
acknowledged and writes nothing. A message that fails verification writes
nothing at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from flask import current_app
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from app.db import db, utcnow
from app.errors import Forbidden, InvalidInput, TooLarge, Unavailable
from app.numbers import MAX_BIG_ID, parse_id
from app.sending import tally
from app.sending.models import Delivery, FeedbackEvent, Send, SendStatus, SnsMessage
from app.sending.sns import InvalidMessage, MessageVerifier, is_sns_url
from app.sending.states import move_send
from app.subscribers.suppression import normalise_email, suppress

# Auto-pause thresholds: SES puts an account under review at 5% bounces or
# 0.1% complaints, so a send stops a little before either.
BOUNCE_PAUSE_RATE = 0.04
COMPLAINT_PAUSE_RATE = 0.0008
PAUSE_MIN_DELIVERIES = 500
MAX_BODY_BYTES = 512 * 1024

# SES eventType / notificationType -> our FeedbackEvent kind ("Bounce" is split
# into hard_bounce / soft_bounce by its bounceType).
EVENT_KINDS = {
    "Delivery": "delivery",
    "Complaint": "complaint",
    "Reject": "reject",
    "Open": "open",
    "Click": "click",
    "DeliveryDelay": "delay",
    "RenderingFailure": "rendering_failure",
}
# Message tags the transport may set to identify the send (first one found wins).
SEND_TAGS = ("send", "send_id", "pressroom-send")


class FeedbackError(InvalidInput):
    """The post is refused; nothing was written."""


class FeedbackRejected(FeedbackError, Forbidden):
    """The post is not a genuine SNS message for one of our topics."""


class FeedbackTooLarge(FeedbackError, TooLarge):
    """The body is over the size limit (nothing beyond it was read)."""


class ConfirmationFailed(FeedbackError, Unavailable):
    """SNS did not answer our subscription confirmation; SNS retries it."""


@dataclass(frozen=True)
class WebhookResult:
    status: str  # processed | duplicate | confirmed | ignored
    events: int = 0


def verifier() -> MessageVerifier:
    """One verifier per app (it caches certificates). Tests inject the HTTP
    session through ``SNS_HTTP_SESSION``."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get("pressroom_sns")
    if cached is None:
        session = app.config.get("SNS_HTTP_SESSION") or requests.Session()
        topics = str(app.config.get("SNS_TOPIC_ARNS") or "").split(",")
        cached = app.extensions["pressroom_sns"] = MessageVerifier(topics=topics, session=session)
    return cached


def handle_sns_post(body: bytes) -> WebhookResult:
    """Verify one SNS POST body and apply it exactly once."""
    if len(body) > MAX_BODY_BYTES:
        raise FeedbackTooLarge("Message too large")
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedbackError("Body is not JSON") from exc
    check = verifier()
    try:
        check.verify(message)
    except InvalidMessage as exc:
        raise FeedbackRejected(str(exc)) from exc
    message_id = str(message.get("MessageId", ""))[:100]
    if not message_id:
        raise FeedbackError("Missing MessageId")
    if db.session.get(SnsMessage, message_id) is not None:
        return WebhookResult("duplicate")

    kind = message["Type"]
    result = WebhookResult("ignored")
    if kind == "SubscriptionConfirmation":
        _confirm_subscription(check, message)
        result = WebhookResult("confirmed")
    elif kind == "Notification":
        try:
            record = json.loads(message["Message"])
        except ValueError:
            record = None
        if isinstance(record, dict):
            count = process_ses_record(record)
            result = WebhookResult("processed", count)
            kind = str(record.get("eventType") or record.get("notificationType") or kind)
    db.session.add(SnsMessage(message_id=message_id, topic_arn=message["TopicArn"][:300], kind=kind[:50]))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if db.session.get(SnsMessage, message_id) is not None:
            # The same message processed concurrently by another request: its
            # effects are committed there, ours are rolled back.
            return WebhookResult("duplicate")
        raise  # another row raced (e.g. one address's suppression): the view asks SNS to retry
    return result


def _confirm_subscription(check: MessageVerifier, message: dict[str, Any]) -> None:
    """GET the SubscribeURL, only on the verified SNS host (never elsewhere)."""
    url = message.get("SubscribeURL", "")
    if not is_sns_url(url, host=check.cert_host(message)):
        raise FeedbackRejected("SubscribeURL is not on the SNS host that signed the message")
    try:
        response = check.http.get(url, timeout=10, allow_redirects=False)
        response.raise_for_status()
    except Exception as exc:  # SNS retries the confirmation when we answer 5xx
        raise ConfirmationFailed("Could not confirm the subscription") from exc


def process_ses_record(record: dict[str, Any]) -> int:
    """Apply one SES notification or event record; return the events written.
    Does not commit: the caller records the SNS MessageId in the same transaction."""
    event_type = record.get("eventType") or record.get("notificationType")
    found_mail = record.get("mail")
    mail: dict[str, Any] = found_mail if isinstance(found_mail, dict) else {}
    delivery = _find_delivery(mail)
    send_id = delivery.send_id if delivery is not None else _tagged_send_id(mail)
    default_email = delivery.email if delivery is not None else _first(mail.get("destination"))
    detail_obj = _section(record, str(event_type or ""))
    when = _timestamp(detail_obj.get("timestamp")) or _timestamp(mail.get("timestamp")) or utcnow()
    written = 0

    if event_type == "Bounce":
        permanent = detail_obj.get("bounceType") == "Permanent"
        kind = "hard_bounce" if permanent else "soft_bounce"
        reason = f"{detail_obj.get('bounceType', '?')}/{detail_obj.get('bounceSubType', '?')}"
        for recipient in _recipients(detail_obj.get("bouncedRecipients"), default_email):
            email, diagnostic = recipient
            if permanent and email:
                suppress(email, "hard-bounce", f"ses bounce send={send_id}", commit=False)
            record_event(
                delivery,
                kind,
                email=email,
                send_id=send_id,
                when=when,
                detail=f"{reason}: {diagnostic}" if diagnostic else reason,
            )
            written += 1
        check_auto_pause(send_id)
    elif event_type == "Complaint":
        feedback = str(detail_obj.get("complaintFeedbackType") or "complaint")
        for email, _ in _recipients(detail_obj.get("complainedRecipients"), default_email):
            if email:
                suppress(email, "complaint", f"ses complaint send={send_id}", unsubscribe_all=True, commit=False)
            record_event(delivery, "complaint", email=email, send_id=send_id, when=when, detail=feedback)
            written += 1
        check_auto_pause(send_id)
    elif event_type == "Delivery":
        if delivery is not None and delivery.delivered_at is None:
            delivery.delivered_at = when
        record_event(
            delivery,
            "delivery",
            email=default_email,
            send_id=send_id,
            when=when,
            detail=str(detail_obj.get("smtpResponse", ""))[:500],
        )
        written += 1
    elif event_type in EVENT_KINDS:
        url = detail_obj.get("link") if event_type == "Click" else None
        detail = str(detail_obj.get("reason") or detail_obj.get("delayType") or detail_obj.get("errorMessage") or "")[
            :500
        ]
        record_event(
            delivery,
            EVENT_KINDS[event_type],
            email=default_email,
            send_id=send_id,
            when=when,
            url=url if isinstance(url, str) else None,
            detail=detail,
        )
        written += 1
    # "Send" (and anything unknown) is acknowledged: the worker already recorded the send.
    return written


def record_event(
    delivery: Delivery | None,
    kind: str,
    *,
    email: str | None = None,
    send_id: int | None = None,
    when: datetime | None = None,
    url: str | None = None,
    detail: str = "",
) -> FeedbackEvent:
    """Add one FeedbackEvent (not committed), marking whether it is the first of
    its kind for that recipient so unique counts are cheap and survive retention."""
    first = True
    if delivery is not None:
        first = not db.session.scalar(
            select(exists().where(FeedbackEvent.delivery_id == delivery.id, FeedbackEvent.kind == kind))
        )
    event = FeedbackEvent(
        send_id=delivery.send_id if delivery is not None else send_id,
        delivery_id=delivery.id if delivery is not None else None,
        subscriber_id=delivery.subscriber_id if delivery is not None else None,
        email=(email or (delivery.email if delivery is not None else None) or None),
        kind=kind,
        detail=detail[:2000],
        url=url[:2000] if url else None,
        occurred_at=when or utcnow(),
        is_first=first,
    )
    db.session.add(event)
    db.session.flush()
    return event


def check_auto_pause(send_id: int | None) -> str | None:
    """Pause a running send whose hard-bounce or complaint rate passed its
    threshold after enough messages; once per send (an admin who resumes has
    decided). Returns the reason when it paused."""
    if send_id is None:
        return None
    config = current_app.config
    minimum = int(config.get("AUTO_PAUSE_MIN_DELIVERIES", PAUSE_MIN_DELIVERIES))
    sent = tally.counts_for([send_id])[send_id]["sent"]
    if sent < minimum:
        return None
    if db.session.scalar(select(exists().where(FeedbackEvent.send_id == send_id, FeedbackEvent.kind == "auto_pause"))):
        return None
    counts = dict(
        db.session.execute(
            select(FeedbackEvent.kind, func.count())
            .where(
                FeedbackEvent.send_id == send_id,
                FeedbackEvent.is_first.is_(True),
                FeedbackEvent.kind.in_(("hard_bounce", "complaint")),
            )
            .group_by(FeedbackEvent.kind)
        ).all()
    )
    bounces, complaints = counts.get("hard_bounce", 0), counts.get("complaint", 0)
    reason = None
    bounce_limit = float(config.get("AUTO_PAUSE_BOUNCE_RATE", BOUNCE_PAUSE_RATE))
    complaint_limit = float(config.get("AUTO_PAUSE_COMPLAINT_RATE", COMPLAINT_PAUSE_RATE))
    if bounces / sent > bounce_limit:
        reason = (
            f"Paused automatically: the bounce rate reached {bounces / sent:.2%} "
            f"({bounces} hard bounces of {sent} sent), above the {bounce_limit:.2%} limit."
        )
    elif complaints / sent > complaint_limit:
        reason = (
            f"Paused automatically: the complaint rate reached {complaints / sent:.3%} "
            f"({complaints} complaints of {sent} sent), above the {complaint_limit:.2%} limit."
        )
    if reason is None:
        return None
    if not move_send(send_id, SendStatus.PAUSED, expect=(SendStatus.RUNNING,), pause_reason=reason):
        return None
    db.session.add(FeedbackEvent(send_id=send_id, kind="auto_pause", detail=reason))
    db.session.flush()
    return reason


def _find_delivery(mail: dict[str, Any]) -> Delivery | None:
    message_id = mail.get("messageId")
    if isinstance(message_id, str) and message_id:
        found = db.session.scalar(select(Delivery).where(Delivery.message_id == message_id[:200]).limit(1))
        if found is not None:
            return found
    send_id = _tagged_send_id(mail)
    found_tags = mail.get("tags")
    tags: dict[str, Any] = found_tags if isinstance(found_tags, dict) else {}
    tagged = _first(tags.get("delivery"))
    delivery_id = parse_id(tagged, MAX_BIG_ID)
    if send_id is not None and delivery_id is not None:
        found = db.session.get(Delivery, delivery_id)
        if found is not None and found.send_id == send_id:
            return found
    email = _first(mail.get("destination"))
    if send_id is not None and email:
        return db.session.scalar(
            select(Delivery).where(Delivery.send_id == send_id, Delivery.email == normalise_email(email)).limit(1)
        )
    return None


def _tagged_send_id(mail: dict[str, Any]) -> int | None:
    tags = mail.get("tags")
    if not isinstance(tags, dict):
        return None
    for name in SEND_TAGS:
        value = _first(tags.get(name))
        if (tagged_id := parse_id(value)) is not None:
            found = db.session.get(Send, tagged_id)
            return found.id if found is not None else None
    return None


def _section(record: dict[str, Any], event_type: str) -> dict[str, Any]:
    """SES puts details under the lower-camel-case event name: bounce, open, deliveryDelay..."""
    key = event_type[:1].lower() + event_type[1:]
    value = record.get(key)
    return value if isinstance(value, dict) else {}


def _recipients(items: Any, fallback: str | None) -> list[tuple[str | None, str]]:
    found: list[tuple[str | None, str]] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("emailAddress"), str):
            found.append((normalise_email(item["emailAddress"])[:254], str(item.get("diagnosticCode") or "")))
    return found or [(fallback, "")]


def _first(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, str) else None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp
