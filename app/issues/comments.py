"""Comments on a draft's lines, for the people writing it: anchored to a line
range, resolvable, with ``@handle`` mentions that notify like assignments.
Comments are not the issue's text: readers never see them and preflight
never reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, update

from app.auth.models import User
from app.db import db, utcnow
from app.issues.errors import IssueError
from app.issues.models import AssignmentRecord, Comment, Issue
from app.issues.notifications import record_mentions
from app.rendering.placeholders import HANDLE, lines_of

__all__ = ["BODY_LIMIT", "CommentError", "Placed", "add_comment", "list_comments", "resolve_comment"]

BODY_LIMIT = 2000
LINE_LIMIT = 100_000
_MENTION = re.compile(rf"(?<![\w.@])@({HANDLE})")


class CommentError(IssueError):
    """A comment that cannot be made as asked (empty, too long, lines outside the text)."""


@dataclass(frozen=True)
class Placed:
    comment: Comment
    line_from: int  # where it belongs in the text as it is now
    line_to: int


def add_comment(issue: Issue, user: User, line_from: int, line_to: int, body: str, quote: str | None = None) -> Comment:
    """Flushes; the caller commits (the mention mails are queued in the same
    transaction). ``quote`` is the first line's text as the writer saw it (the
    editor may hold edits not saved yet); without it, the saved text's line."""
    text = body.strip()
    if not text:
        raise CommentError("Write something to comment.")
    if len(text) > BODY_LIMIT:
        raise CommentError(f"A comment holds at most {BODY_LIMIT} characters.")
    lines = lines_of(issue.body)
    if not 1 <= line_from <= line_to <= LINE_LIMIT:
        raise CommentError(f"Lines {line_from}-{line_to} are not lines of a text.")
    if quote is None:
        if line_from > len(lines):
            raise CommentError(f"Line {line_from} is not in the text (it has {len(lines)}).")
        quote = lines[line_from - 1]
    comment = Comment(
        issue_id=issue.id,
        author_id=user.id,
        line_from=line_from,
        line_to=line_to,
        quote=quote.strip()[:500],
        body=text,
        created_at=utcnow(),
    )
    db.session.add(comment)
    db.session.flush()
    handles = {match.group(1).lower() for match in _MENTION.finditer(text)} - {user.handle}
    record_mentions(comment, sorted(handles), user)
    return comment


def resolve_comment(comment: Comment, user: User) -> None:
    """Resolved: off the editor's list, and its mentions are no longer news (no digest)."""
    if comment.resolved_at is None:
        comment.resolved_at, comment.resolved_by_id = utcnow(), user.id
        db.session.execute(
            update(AssignmentRecord)
            .where(AssignmentRecord.comment_id == comment.id, AssignmentRecord.done_at.is_(None))
            .values(done_at=comment.resolved_at)
        )
    db.session.flush()


def _placed(comment: Comment, lines: list[str]) -> Placed:
    """The comment's lines in today's text: where its first line's text now is
    (the nearest occurrence), else where it was."""
    span = comment.line_to - comment.line_from
    hits = [number for number, line in enumerate(lines, start=1) if comment.quote and line.strip() == comment.quote]
    start = min(hits, key=lambda n: abs(n - comment.line_from)) if hits else min(comment.line_from, len(lines))
    return Placed(comment, start, min(start + span, len(lines)))


def list_comments(issue: Issue, *, resolved: bool = False) -> list[Placed]:
    query = select(Comment).where(Comment.issue_id == issue.id)
    query = query.where(Comment.resolved_at.is_not(None) if resolved else Comment.resolved_at.is_(None))
    lines = lines_of(issue.body)
    placed = [_placed(comment, lines) for comment in db.session.scalars(query.order_by(Comment.id))]
    return sorted(placed, key=lambda p: (p.line_from, p.comment.id))
