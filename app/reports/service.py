"""What happened to a send, computed from ``Delivery`` rows, per-recipient
``FeedbackEvent`` rows and the ``DailyStat`` aggregates that outlive them.

Definitions (shown on the report page too):
- *sent*: deliveries the transport accepted; *delivered*: those with a delivery
  notification (none arrive with the outbox or SMTP transports);
- bounced / complained / opened / clicked: recipients with at least one such
  event (unique, via ``FeedbackEvent.is_first``), including aggregated ones;
- *unsubscribed after this issue*: recipients whose subscription to one of the
  send's lists ended after the send started and before the next send to any of
  those lists started, at most 30 days later, so one unsubscribe is blamed on one issue.
Rates use sent as the base for delivery, bounces and complaints (as SES does),
and delivered (or sent, when there is no delivery data) for engagement.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from app.db import db
from app.sending import tally
from app.sending.models import DailyStat, Delivery, FeedbackEvent, Send, send_lists
from app.subscribers.models import MailingList, Subscription

UNSUBSCRIBE_WINDOW = timedelta(days=30)
TIMELINE_HOURS = 72
ENGAGEMENT_KINDS = ("hard_bounce", "soft_bounce", "complaint", "open", "click", "reject", "delay", "rendering_failure")
CSV_COLUMNS = [
    "email",
    "list",
    "status",
    "error",
    "sent_at",
    "delivered_at",
    "bounce",
    "bounce_detail",
    "complained",
    "opens",
    "clicks",
    "unsubscribed_at",
]


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    count: int
    base: int | None  # what the rate is relative to; None: no rate
    base_label: str = ""

    @property
    def rate(self) -> float | None:
        return self.count / self.base if self.base else None


@dataclass
class SendReport:
    send: Send
    steps: list[Step]
    totals: dict[str, int]  # all events per kind (not unique)
    statuses: dict[str, int]  # deliveries per state
    has_delivery_data: bool
    unsubscribe_window_end: datetime | None
    auto_pause_reasons: list[str] = field(default_factory=list)

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)


def _unique_counts(send_id: int) -> tuple[dict[str, int], dict[str, int]]:
    """(unique recipients, total events) per kind, live events plus aggregates."""
    unique: dict[str, int] = {}
    total: dict[str, int] = {}
    rows = db.session.execute(
        select(FeedbackEvent.kind, func.count(), func.sum(case((FeedbackEvent.is_first.is_(True), 1), else_=0)))
        .where(FeedbackEvent.send_id == send_id)
        .group_by(FeedbackEvent.kind)
    )
    for kind, count, firsts in rows:
        total[kind] = total.get(kind, 0) + int(count)
        unique[kind] = unique.get(kind, 0) + int(firsts or 0)
    for kind, count in db.session.execute(
        select(DailyStat.kind, func.sum(DailyStat.count)).where(DailyStat.send_id == send_id).group_by(DailyStat.kind)
    ):
        if kind.endswith(":unique"):
            name = kind.removesuffix(":unique")
            unique[name] = unique.get(name, 0) + int(count or 0)
        else:
            total[kind] = total.get(kind, 0) + int(count or 0)
    return unique, total


def unsubscribe_window(send: Send) -> tuple[datetime, datetime] | None:
    if send.started_at is None:
        return None
    end = send.started_at + UNSUBSCRIBE_WINDOW
    list_ids = [m.id for m in send.lists]
    if list_ids:
        later = db.session.scalar(
            select(func.min(Send.started_at))
            .join(send_lists, send_lists.c.send_id == Send.id)
            .where(send_lists.c.list_id.in_(list_ids), Send.id != send.id, Send.started_at > send.started_at)
        )
        if later is not None and later < end:
            end = later
    return send.started_at, end


def unsubscribed_count(send: Send) -> int:
    window = unsubscribe_window(send)
    list_ids = [m.id for m in send.lists]
    if window is None or not list_ids:
        return 0
    start, end = window
    return (
        db.session.scalar(
            select(func.count(func.distinct(Delivery.id)))
            .join(Subscription, Subscription.subscriber_id == Delivery.subscriber_id)
            .where(
                Delivery.send_id == send.id,
                Delivery.status == "sent",
                Subscription.list_id.in_(list_ids),
                Subscription.unsubscribed_at >= start,
                Subscription.unsubscribed_at < end,
            )
        )
        or 0
    )


def send_report(send: Send) -> SendReport:
    statuses = tally.counts_for([send.id])[send.id]
    delivered = (
        db.session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.send_id == send.id, Delivery.delivered_at.is_not(None))
        )
        or 0
    )
    unique, totals = _unique_counts(send.id)
    recipients = sum(statuses.values()) or send.recipient_count
    sent = statuses.get("sent", 0)
    has_delivery = delivered > 0 or totals.get("delivery", 0) > 0
    engaged_base = delivered if has_delivery else sent
    engaged_label = "delivered" if has_delivery else "sent"
    steps = [
        Step("recipients", "Recipients", recipients, None),
        Step("sent", "Sent", sent, recipients, "recipients"),
        Step("delivered", "Delivered", delivered, sent, "sent"),
        Step("hard_bounce", "Bounced (hard)", unique.get("hard_bounce", 0), sent, "sent"),
        Step("soft_bounce", "Bounced (soft)", unique.get("soft_bounce", 0), sent, "sent"),
        Step("complaint", "Complained", unique.get("complaint", 0), sent, "sent"),
        Step("open", "Opened", unique.get("open", 0), engaged_base, engaged_label),
        Step("click", "Clicked", unique.get("click", 0), engaged_base, engaged_label),
        Step("unsubscribed", "Unsubscribed after this issue", unsubscribed_count(send), engaged_base, engaged_label),
    ]
    window = unsubscribe_window(send)
    reasons = list(
        db.session.scalars(
            select(FeedbackEvent.detail).where(FeedbackEvent.send_id == send.id, FeedbackEvent.kind == "auto_pause")
        )
    )
    return SendReport(send, steps, totals, statuses, has_delivery, window[1] if window else None, reasons)


def _hour_bucket(column):  # noqa: ANN001,ANN202 (a SQL expression either way)
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.date_trunc("hour", column), "YYYY-MM-DD HH24:00")
    return func.strftime("%Y-%m-%d %H:00", column)


def timeline(send: Send, hours: int = TIMELINE_HOURS) -> tuple[list[datetime], dict[str, list[int]]]:
    """Per-hour counts of sent, delivered, opens and clicks, from the send's
    start for at most ``hours`` (per-recipient rows only: older hours have
    been aggregated per day and count in the totals)."""
    if send.started_at is None:
        return [], {}
    start = send.started_at.replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=hours)
    sources = {
        "sent": (Delivery.sent_at, Delivery.send_id == send.id, Delivery.sent_at),
        "delivered": (Delivery.delivered_at, Delivery.send_id == send.id, Delivery.delivered_at),
        "opens": (
            FeedbackEvent.occurred_at,
            and_(FeedbackEvent.send_id == send.id, FeedbackEvent.kind == "open"),
            None,
        ),
        "clicks": (
            FeedbackEvent.occurred_at,
            and_(FeedbackEvent.send_id == send.id, FeedbackEvent.kind == "click"),
            None,
        ),
    }
    raw: dict[str, dict[str, int]] = {}
    last = start
    for name, (column, condition, _) in sources.items():
        bucket = _hour_bucket(column).label("bucket")
        rows = db.session.execute(
            select(bucket, func.count()).where(condition, column >= start, column < end).group_by(bucket)
        ).all()
        raw[name] = {str(key): int(count) for key, count in rows if key}
        for key in raw[name]:
            last = max(last, datetime.strptime(key, "%Y-%m-%d %H:00"))
    span = int((last - start).total_seconds() // 3600) + 1
    hours_list = [start + timedelta(hours=i) for i in range(max(span, 1))]
    keys = [h.strftime("%Y-%m-%d %H:00") for h in hours_list]
    return hours_list, {name: [raw[name].get(k, 0) for k in keys] for name in sources}


def top_links(send: Send, limit: int = 10) -> list[tuple[str, int, int]]:
    """(url, clicks, unique recipients among live events) most clicked first."""
    clicks: dict[str, list[int]] = {}
    for url, count, people in db.session.execute(
        select(FeedbackEvent.url, func.count(), func.count(func.distinct(FeedbackEvent.delivery_id)))
        .where(FeedbackEvent.send_id == send.id, FeedbackEvent.kind == "click", FeedbackEvent.url.is_not(None))
        .group_by(FeedbackEvent.url)
    ):
        assert url is not None  # the query keeps only clicks with a URL
        clicks[url] = [int(count), int(people)]
    for url, count in db.session.execute(
        select(DailyStat.url, func.sum(DailyStat.count))
        .where(DailyStat.send_id == send.id, DailyStat.kind == "click", DailyStat.url != "")
        .group_by(DailyStat.url)
    ):
        clicks.setdefault(url, [0, 0])[0] += int(count or 0)
    ranked = sorted(clicks.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    return [(url, count, people) for url, (count, people) in ranked]


def problems(send: Send, limit: int = 100) -> tuple[list[tuple[str, str, int]], list[FeedbackEvent]]:
    """Bounces, complaints, rejects and rendering failures: counts per
    (kind, reason) and the latest individual events."""
    kinds = ("hard_bounce", "soft_bounce", "complaint", "reject", "rendering_failure")
    reason = FeedbackEvent.detail
    grouped = [
        (kind, detail.split(": ", 1)[0] if detail else "", int(count))
        for kind, detail, count in db.session.execute(
            select(FeedbackEvent.kind, reason, func.count())
            .where(FeedbackEvent.send_id == send.id, FeedbackEvent.kind.in_(kinds))
            .group_by(FeedbackEvent.kind, reason)
        )
    ]
    merged: dict[tuple[str, str], int] = {}
    for kind, short, count in grouped:
        merged[(kind, short)] = merged.get((kind, short), 0) + count
    summary = sorted(((k, r, c) for (k, r), c in merged.items()), key=lambda row: (-row[2], row[0], row[1]))
    latest = list(
        db.session.scalars(
            select(FeedbackEvent)
            .where(FeedbackEvent.send_id == send.id, FeedbackEvent.kind.in_(kinds))
            .order_by(FeedbackEvent.occurred_at.desc(), FeedbackEvent.id.desc())
            .limit(limit)
        )
    )
    return summary, latest


def formula_safe(value: object) -> str:
    """Spreadsheets execute cells starting with = + - @ (and tab/CR tricks)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def recipients_csv(send: Send) -> Iterator[str]:
    """Per-recipient outcomes as CSV lines (streamed)."""
    per_kind = {
        kind: func.sum(case((FeedbackEvent.kind == kind, 1), else_=0)).label(kind)
        for kind in ("hard_bounce", "soft_bounce", "complaint", "open", "click")
    }
    bounce_detail = func.max(
        case((FeedbackEvent.kind.in_(("hard_bounce", "soft_bounce")), FeedbackEvent.detail), else_=None)
    ).label("bounce_detail")
    events = (
        select(FeedbackEvent.delivery_id, *per_kind.values(), bounce_detail)
        .where(FeedbackEvent.send_id == send.id, FeedbackEvent.delivery_id.is_not(None))
        .group_by(FeedbackEvent.delivery_id)
        .subquery()
    )
    unsubscribed = (
        select(func.max(Subscription.unsubscribed_at))
        .where(
            Subscription.subscriber_id == Delivery.subscriber_id,
            or_(Subscription.list_id == Delivery.list_id, Delivery.list_id.is_(None)),
            Subscription.unsubscribed_at >= (send.started_at or datetime.min),
        )
        .correlate(Delivery)
        .scalar_subquery()
    )
    query = (
        select(
            Delivery.email,
            MailingList.name,
            Delivery.status,
            Delivery.error,
            Delivery.sent_at,
            Delivery.delivered_at,
            events.c.hard_bounce,
            events.c.soft_bounce,
            events.c.bounce_detail,
            events.c.complaint,
            events.c.open,
            events.c.click,
            unsubscribed,
        )
        .outerjoin(events, events.c.delivery_id == Delivery.id)
        .outerjoin(MailingList, MailingList.id == Delivery.list_id)
        .where(Delivery.send_id == send.id)
        .order_by(Delivery.id)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for row in db.session.execute(query.execution_options(yield_per=1000)):
        (
            email,
            list_name,
            status,
            error,
            sent_at,
            delivered_at,
            hard,
            soft,
            detail,
            complaint,
            opens,
            clicks,
            unsub_at,
        ) = row
        bounce = "hard" if hard else "soft" if soft else ""
        writer.writerow(
            [
                formula_safe(v)
                for v in (
                    email,
                    list_name,
                    status,
                    error,
                    _iso(sent_at),
                    _iso(delivered_at),
                    bounce,
                    detail if bounce else "",
                    "yes" if complaint else "",
                    opens or 0,
                    clicks or 0,
                    _iso(unsub_at),
                )
            ]
        )
        yield flush()


def _iso(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # SQLite returns aggregated datetimes as text
        return value.replace(" ", "T")[:19] + "Z"
    return value.isoformat(timespec="seconds") + "Z"


def recent_sends(limit: int = 8) -> list[tuple[Send, SendReport]]:
    sends = db.session.scalars(
        select(Send).where(Send.started_at.is_not(None)).order_by(Send.started_at.desc()).limit(limit)
    )
    return [(send, send_report(send)) for send in sends]
