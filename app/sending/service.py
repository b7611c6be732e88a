"""The sends domain: scheduling, starting, controlling and counting sends.

State machine of a send: scheduled -> running <-> paused -> finished, or
cancelled. Deliveries: queued -> claimed -> sent / failed / skipped / unknown;
``unknown`` rows are only queued again by :func:`resend_unknown` (an explicit
admin decision), never automatically."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from app.auth.models import User
from app.db import db, rowcount, utcnow
from app.issues.errors import TransitionError
from app.issues.lifecycle import move
from app.issues.models import Issue, IssueStatus
from app.issues.rendering import freeze, preflight
from app.rendering.preflight import has_errors
from app.sending import preparation, tally
from app.sending.audience import Audience, compile_condition
from app.sending.errors import SendError
from app.sending.models import Delivery, DeliveryStatus, Send, SendStatus
from app.sending.pacing import current_rate, remaining_24h
from app.sending.recipients import recipients_where
from app.sending.schedule import refuse_past, to_utc
from app.sending.states import move_send
from app.settings import get_setting
from app.subscribers.models import MailingList, Subscriber

ACTIVE_SEND_STATES = (SendStatus.SCHEDULED, SendStatus.RUNNING, SendStatus.PAUSED)


# --- recipients (app.sending.recipients) ----------------------------------


def count_recipients(lists: Iterable[MailingList], segment: str | None = None) -> int:
    """How many readers a send to ``lists`` (restricted to the ``segment``
    condition's canonical text) would reach now."""
    ids = [lst.id for lst in lists]
    if not ids:
        return 0
    query = select(func.count()).select_from(Subscriber).where(*recipients_where(ids, segment))
    return db.session.scalar(query) or 0


def sample_recipients(lists: Iterable[MailingList], segment: str | None = None, limit: int = 10) -> list[str]:
    """The first ``limit`` addresses (alphabetically) a send would reach now."""
    ids = [lst.id for lst in lists]
    if not ids or limit <= 0:
        return []
    query = select(Subscriber.email).where(*recipients_where(ids, segment)).order_by(Subscriber.email).limit(limit)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class Estimate:
    recipients: int
    rate: float
    seconds: float
    remaining_24h: int | None

    @property
    def fits_quota(self) -> bool | None:
        return None if self.remaining_24h is None else self.recipients <= self.remaining_24h

    @property
    def duration_text(self) -> str:
        seconds = math.ceil(self.seconds)
        if seconds < 60:
            return f"{seconds} s"
        minutes, seconds = divmod(seconds, 60)
        if minutes < 60:
            return f"{minutes} min {seconds} s"
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes} min"


def estimate(lists: Iterable[MailingList], segment: str | None = None) -> Estimate:
    recipients = count_recipients(lists, segment)
    rate = current_rate()
    return Estimate(recipients, rate, recipients / rate if rate else 0.0, remaining_24h())


# --- creating and starting ---------------------------------------------------


def check_sendable(issue: Issue) -> None:
    active = db.session.scalar(select(Send.id).where(Send.issue_id == issue.id, Send.status.in_(ACTIVE_SEND_STATES)))
    if active is not None:
        raise SendError("This issue already has a send scheduled or in progress.")
    if issue.status in (IssueStatus.SENT, IssueStatus.SENDING, IssueStatus.SCHEDULED):
        raise SendError(f"This issue is already {issue.status}.")
    if not str(get_setting("postal_address") or "").strip():
        # CAN-SPAM and CASL require the sender's postal address in every bulk email.
        raise SendError("Set the newsletter's postal address in Settings first: the law requires it in every email.")
    if get_setting("require_approval") and issue.status != IssueStatus.APPROVED:
        raise SendError("This issue must be approved by a second user before it can be sent.")
    problems = preflight(issue)
    if has_errors(problems):
        first = next(p for p in problems if p.level == "error")
        raise SendError(f"Preflight has errors; fix them first: {first.message}")


def _check_listed_events(issue: Issue, when: datetime) -> None:
    """The approved email lists its events as upcoming: refuse a time by which
    one of them is over (readers would be invited to something past)."""
    rendering = issue.approved_rendering
    over = (
        [
            (title, datetime.fromisoformat(starts))
            for _id, starts, title in (rendering.events or [])
            if datetime.fromisoformat(starts) <= when
        ]
        if rendering is not None
        else []
    )
    if over:
        title, starts = over[0]
        raise SendError(
            f"The approved email lists “{title}” ({starts:%Y-%m-%d %H:%M} UTC) as upcoming, "
            "but it is over by the scheduled time. Choose an earlier time, or set the issue date "
            "to the send date and approve again."
        )


def create_send(
    issue: Issue,
    lists: Iterable[MailingList],
    at: datetime | None = None,
    user: User | None = None,
    timezone: str | None = None,
    audience: Audience | None = None,
) -> Send:
    """Schedule ``issue`` for ``lists`` at ``at`` (aware, or naive UTC; None: now).
    ``timezone`` is the zone the time was chosen in, kept to show it that way.
    ``audience``: only the part of the lists a segment selects; its condition
    is kept as it is now and evaluated when the send starts.
    The send delivers the issue's approved rendering (frozen now when approval
    is not required). Flushes; the caller commits."""
    lists = list(dict.fromkeys(lists))
    if not lists:
        raise SendError("Choose at least one list.")
    check_sendable(issue)
    if audience is not None:
        compile_condition(audience.expression, [lst.id for lst in lists])  # refuse one that does not compile now
    when = utcnow() if at is None else to_utc(at)
    if at is not None:
        refuse_past(when, timezone or "UTC")
    _check_listed_events(issue, when)
    if issue.status == IssueStatus.DRAFT:  # approval not required: what is sent is what is here now
        freeze(issue, user.id if user else None)
    # check_sendable only reads: two concurrent requests can both pass it. The
    # conditional UPDATE lets exactly one of them move the issue to scheduled
    # (PostgreSQL re-checks the WHERE after the other's commit; SQLite
    # serialises writers); the loser inserts nothing.
    allowed = (IssueStatus.APPROVED,) if get_setting("require_approval") else (IssueStatus.DRAFT, IssueStatus.APPROVED)
    try:
        move(issue, IssueStatus.SCHEDULED, expect=allowed)
    except TransitionError as exc:
        raise SendError("This issue was just scheduled or sent by someone else; reload the page.") from exc
    send = Send(
        issue=issue,
        status=SendStatus.SCHEDULED,
        scheduled_at=when,
        timezone=timezone,
        lists=lists,
        rendering=issue.approved_rendering,
        subject=issue.approved_rendering.subject if issue.approved_rendering else issue.subject,
        created_by_id=user.id if user else None,
        created_at=utcnow(),
        segment_id=audience.segment_id if audience else None,
        segment_name=audience.name if audience else "",
        segment_expression=audience.expression if audience else None,
    )
    db.session.add(send)
    db.session.flush()
    return send


def start_send(send_id: int) -> bool:
    """Move a due scheduled send to running, fix its audience and create the
    first chunk of its deliveries (the rest follow, app.sending.preparation).
    Returns False when another worker started it first. Flushes; the caller commits."""
    now = utcnow()
    if not move_send(send_id, SendStatus.RUNNING, expect=(SendStatus.SCHEDULED,), started_at=now):
        return False
    send = db.session.get(Send, send_id)
    assert send is not None
    if send.rendering is None and not send.html_body:
        # Scheduled before v0.2 froze renderings at approval: freeze it now.
        send.rendering = freeze(send.issue, send.created_by_id)
        send.subject = send.rendering.subject
    # The first chunk of deliveries now; the workers write the rest (app.sending.preparation).
    if send.lists:
        preparation.begin(send)
    else:
        send.recipient_count, send.prepared_through = 0, None
    if send.issue.status != IssueStatus.SENDING:
        move(send.issue, IssueStatus.SENDING)
    db.session.flush()
    return True


def due_sends(now: datetime | None = None) -> list[int]:
    return list(
        db.session.scalars(
            select(Send.id)
            .where(Send.status == SendStatus.SCHEDULED, Send.scheduled_at <= (now or utcnow()))
            .order_by(Send.scheduled_at)
        )
    )


def finish_if_done(send_id: int) -> bool:
    """A running send with every delivery written and none queued or claimed is
    finished; its issue is sent."""
    if tally.pending(send_id) or not move_send(
        send_id,
        SendStatus.FINISHED,
        expect=(SendStatus.RUNNING,),
        where=(Send.prepared_through.is_(None),),  # chunks still to write: not done
        finished_at=utcnow(),
    ):
        return False
    send = db.session.get(Send, send_id)
    assert send is not None
    if send.issue.status == IssueStatus.SENDING:
        move(send.issue, IssueStatus.SENT)
    return True


# --- control -----------------------------------------------------------------


def has_sends(issue: Issue) -> bool:
    """Whether any send of ``issue`` exists (deleting the issue would take its deliveries and reports)."""
    return db.session.scalar(select(Send.id).where(Send.issue_id == issue.id).limit(1)) is not None


def latest_send(issue: Issue) -> Send | None:
    return db.session.scalar(select(Send).where(Send.issue_id == issue.id).order_by(Send.id.desc()).limit(1))


def pause(send: Send, reason: str = "Paused by an operator.") -> None:
    """Workers claim only from running sends (checked in the claim itself), so
    no new message goes out once this commits; in-flight ones are recorded."""
    if not move_send(
        send.id, SendStatus.PAUSED, expect=(SendStatus.RUNNING, SendStatus.SCHEDULED), pause_reason=reason[:1000]
    ):
        raise SendError(f"A {send.status} send cannot be paused.")


def resume(send: Send) -> None:
    new = SendStatus.RUNNING if send.started_at is not None else SendStatus.SCHEDULED
    if not move_send(send.id, new, expect=(SendStatus.PAUSED,), pause_reason=""):
        raise SendError(f"A {send.status} send cannot be resumed.")


def cancel(send: Send) -> int:
    """Stop for good: queued rows become skipped ("send cancelled"). Returns that count."""
    started = send.started_at is not None
    if not move_send(send.id, SendStatus.CANCELLED, finished_at=utcnow()):
        raise SendError(f"A {send.status} send cannot be cancelled.")
    skipped = rowcount(
        db.session.execute(
            update(Delivery)
            .where(Delivery.send_id == send.id, Delivery.status == DeliveryStatus.QUEUED)
            .values(status=DeliveryStatus.SKIPPED, error="send cancelled", next_attempt_at=None, updated_at=utcnow())
        )
    )
    tally.add({(send.id, DeliveryStatus.QUEUED.value): -skipped, (send.id, DeliveryStatus.SKIPPED.value): skipped})
    issue = send.issue
    if not started and issue.status == IssueStatus.SCHEDULED:
        move(issue, IssueStatus.APPROVED, expect=(IssueStatus.SCHEDULED,))
    elif issue.status == IssueStatus.SENDING:
        any_sent = db.session.scalar(
            select(Delivery.id).where(Delivery.send_id == send.id, Delivery.status == DeliveryStatus.SENT).limit(1)
        )
        move(issue, IssueStatus.SENT if any_sent else IssueStatus.CANCELLED)
    return skipped


def resend_unknown(send: Send) -> int:
    """Queue again the rows whose outcome is unknown; they may get a duplicate."""
    if send.status == SendStatus.CANCELLED:
        raise SendError("This send was cancelled.")
    count = rowcount(
        db.session.execute(
            update(Delivery)
            .where(Delivery.send_id == send.id, Delivery.status == DeliveryStatus.UNKNOWN)
            .values(
                status=DeliveryStatus.QUEUED,
                worker_id=None,
                claim_id=None,
                lease_expires_at=None,
                # Below the workers' cursors: they find these through the retry index.
                next_attempt_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    )
    tally.add({(send.id, DeliveryStatus.UNKNOWN.value): -count, (send.id, DeliveryStatus.QUEUED.value): count})
    # Reopen from the database's status, not the in-memory one: a worker may
    # have finished the send since it was loaded (rows queued again on a
    # finished send would never be claimed).
    if count and move_send(send.id, SendStatus.RUNNING, expect=(SendStatus.FINISHED,), finished_at=None):
        db.session.refresh(send.issue)
        if send.issue.status == IssueStatus.SENT:
            move(send.issue, IssueStatus.SENDING, expect=(IssueStatus.SENT,))
    return count


# --- reading -----------------------------------------------------------------


def counts(send: Send) -> dict[str, int]:
    return tally.counts_for([send.id])[send.id]


def counts_for(send_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """:func:`counts` for many sends in one query (the sends list)."""
    return tally.counts_for(send_ids)


def errors_by_reason(send: Send, limit: int = 20) -> list[tuple[str, str, int]]:
    """(state, reason, count) for failed, skipped and unknown rows."""
    rows = db.session.execute(
        select(Delivery.status, Delivery.error, func.count())
        .where(Delivery.send_id == send.id, Delivery.status.in_(("failed", "skipped", "unknown")))
        .group_by(Delivery.status, Delivery.error)
        .order_by(func.count().desc())
        .limit(limit)
    )
    return [(status, error or "", n) for status, error, n in rows]


def sent_rate(send: Send, window_seconds: int = 60) -> float:
    """Messages per second over about the last minute (for the send page)."""
    return tally.sent_rate(send.id, timedelta(seconds=window_seconds))


def scheduled_times(issue_ids: Iterable[int]) -> dict[int, datetime]:
    """Each issue's next scheduled send time (issues with none are left out)."""
    ids = list(issue_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Send.issue_id, func.min(Send.scheduled_at))
        .where(Send.issue_id.in_(ids), Send.status == SendStatus.SCHEDULED)
        .group_by(Send.issue_id)
    ).all()
    return {issue_id: at for issue_id, at in rows}
