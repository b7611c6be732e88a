"""Which issues the public site shows.

An issue is public once a send of it has *started* to a public list: from that
moment readers hold its "View this issue in your browser" link, so the web
version must answer. What the issue was tagged with while drafting does not
count (tags can say "clients" and the send go to everyone, or the reverse).
Issues imported from the Jekyll archive have no sends: for them the tagged
lists are all there is. An admin can also publish a sent issue explicitly
(``Issue.published_at``) or take one out of the archive (``unpublished_at``:
its page then answers 410, never 404, because its link was mailed).

Issues sent only to private lists are not listed anywhere; their web version
answers to the key their emails carry (:func:`app.tokens.issue_view_key`)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select

from app.db import db
from app.issues.models import Issue, IssueStatus
from app.sending.models import Send, send_lists
from app.subscribers.models import MailingList

SHOWN_STATES = (IssueStatus.SENDING, IssueStatus.SENT)


def _started_send(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(Send.id)
        .join(send_lists, send_lists.c.send_id == Send.id)
        .join(MailingList, MailingList.id == send_lists.c.list_id)
        .where(Send.issue_id == Issue.id, Send.started_at.is_not(None), *conditions)
    )


def is_published() -> ColumnElement[bool]:
    """SQL condition: the issue belongs to the public archive (unpublished ones included)."""
    no_sends = ~exists(select(Send.id).where(Send.issue_id == Issue.id))
    return and_(
        Issue.status.in_(SHOWN_STATES),
        or_(
            _started_send(MailingList.public.is_(True)),
            and_(no_sends, Issue.lists.any(MailingList.public.is_(True))),
            Issue.published_at.is_not(None),
        ),
    )


def was_mailed() -> ColumnElement[bool]:
    """SQL condition: some send of the issue has started (its readers hold its link)."""
    return and_(Issue.status.in_(SHOWN_STATES), _started_send())


def in_archive(issue: Issue) -> bool:
    """Whether the archive lists ``issue`` now (published and not unpublished)."""
    if issue.unpublished_at is not None:
        return False
    return db.session.scalar(select(Issue.id).where(Issue.id == issue.id, is_published())) is not None
