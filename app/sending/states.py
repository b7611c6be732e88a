"""The send state machine, and the one function that moves a send.

scheduled -> running <-> paused -> finished, or cancelled; finished -> running
only when an admin resends to recipients left ``unknown``. Every change (the
worker starting or finishing a send, an admin pausing, the automatic pause on
bounces, a cancel) is a conditional UPDATE here, so a worker and an admin
acting at the same moment cannot both win, and the CHECK constraint on the
column refuses states nobody defined.

Deliveries: queued -> claimed -> sent / failed / skipped / unknown (and
claimed -> queued for a retry or a stopping worker's release; unknown ->
queued only by resend_unknown). Their transitions are bulk statements of the
delivery store (:mod:`app.sending.sql_store`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, update

from app.db import db, rowcount
from app.sending.models import Send, SendStatus

__all__ = ["SEND_TRANSITIONS", "move_send"]

S = SendStatus
SEND_TRANSITIONS: dict[SendStatus, tuple[SendStatus, ...]] = {
    S.SCHEDULED: (S.RUNNING, S.PAUSED, S.CANCELLED),
    S.RUNNING: (S.PAUSED, S.FINISHED, S.CANCELLED),
    S.PAUSED: (S.RUNNING, S.SCHEDULED, S.CANCELLED),
    S.FINISHED: (S.RUNNING,),
    S.CANCELLED: (),
}


def move_send(
    send_id: int,
    to: SendStatus,
    *,
    expect: tuple[SendStatus, ...] | None = None,
    where: tuple[ColumnElement[bool], ...] = (),
    **values: Any,
) -> bool:
    """Move the send to ``to`` if its status allows (and is in ``expect``, and
    ``where`` holds); returns whether it moved. Flushes; the caller commits."""
    sources = [state for state, targets in SEND_TRANSITIONS.items() if to in targets]
    if expect is not None:
        sources = [state for state in sources if state in expect]
    moved = db.session.execute(
        update(Send)
        .where(Send.id == send_id, Send.status.in_(sources), *where)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    if rowcount(moved) == 1:
        send = db.session.identity_map.get(db.session.identity_key(Send, send_id))
        if send is not None:
            db.session.expire(send)
        return True
    return False
