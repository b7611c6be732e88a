"""Issue authoring: create, save with optimistic concurrency, revisions, restore.

Every save names the ``version`` it was based on. A stale version is refused
with :class:`ConflictError`; the refused text is kept as a revision marked as
a conflict copy, so two editors saving at once never lose anything. The
lifecycle (status transitions and approval) lives in :mod:`app.issues.lifecycle`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from app.auth.models import User
from app.db import db, utcnow
from app.issues import lifecycle
from app.issues.errors import ConflictError, IssueError, NotEditableError, TransitionError
from app.issues.models import Issue, Revision
from app.issues.notifications import sync_assignments
from app.numbers import parse_id
from app.subscribers.lists import slugify
from app.subscribers.models import MailingList

__all__ = [
    "IssueError",
    "ConflictError",
    "NotEditableError",
    "EDITABLE_STATES",
    "CONFLICT_NOTE",
    "create_issue",
    "record_revision",
    "save_issue",
    "restore_revision",
    "list_revisions",
    "get_revision",
    "diff_texts",
    "RevisionDiff",
    "diff_revision",
    "find_issue",
    "check_slug",
    "unique_slug",
]

EDITABLE_STATES = ("draft", "approved")
CONFLICT_NOTE = "conflict copy"
TEXT_FIELDS = ("title", "subject", "preheader", "body")


# Years an issue date may have: far-future dates overflow the events window and
# the reader-zone conversions (a 9999-12-31 draft could never be opened again).
MIN_YEAR, MAX_YEAR = 1900, 2999
MAX_ID = 2**31 - 1  # largest value of an INTEGER primary key on PostgreSQL


def find_issue(slug_or_id: str | int) -> Issue | None:
    number = parse_id(slug_or_id)
    if number is not None:
        issue = db.session.get(Issue, number)
        if issue is not None:
            return issue
    return db.session.scalar(select(Issue).where(Issue.slug == str(slug_or_id)))


def check_slug(slug: str, *, issue_id: int | None = None) -> str:
    """Return the URL-safe form of ``slug`` or raise if it is empty or taken."""
    safe = slugify(slug, max_length=200)
    if not safe:
        raise IssueError("The slug needs at least one letter or digit.")
    clash = select(Issue.id).where(Issue.slug == safe)
    if issue_id is not None:
        clash = clash.where(Issue.id != issue_id)
    if db.session.scalar(clash) is not None:
        raise IssueError(f"Another issue already uses the slug {safe!r}.")
    return safe


def unique_slug(text: str) -> str:
    """The slug ``text`` gives, with ``-2``, ``-3``… when it is taken."""
    base = slugify(text, max_length=200 - 6) or "issue"
    taken = set(db.session.scalars(select(Issue.slug).where(or_(Issue.slug == base, Issue.slug.like(f"{base}-%")))))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _resolve_lists(lists: Iterable[MailingList | int]) -> list[MailingList]:
    resolved: list[MailingList] = []
    for item in lists:
        if not isinstance(item, MailingList) and not 0 < int(item) <= MAX_ID:
            raise IssueError(f"There is no list with id {item}.")  # would overflow the id column
        mailing_list = item if isinstance(item, MailingList) else db.session.get(MailingList, int(item))
        if mailing_list is None:
            raise IssueError(f"There is no list with id {item}.")
        if mailing_list not in resolved:
            resolved.append(mailing_list)
    return resolved


def _next_revision_number(issue_id: int) -> int:
    current = db.session.scalar(select(func.max(Revision.number)).where(Revision.issue_id == issue_id))
    return (current or 0) + 1


def record_revision(
    issue: Issue,
    user: User | None,
    note: str = "",
    *,
    number: int | None = None,
    texts: Mapping[str, str] | None = None,
) -> Revision:
    """Keep the issue's texts (or, field by field, ``texts``) as its next revision;
    ``number`` only for a new issue."""
    texts = texts or {}
    values = {name: texts.get(name, getattr(issue, name)) or "" for name in TEXT_FIELDS}
    revision = Revision(
        issue_id=issue.id,
        number=number or _next_revision_number(issue.id),
        author_id=user.id if user else None,
        note=note,
        **values,
    )
    db.session.add(revision)
    return revision


def check_issue_date(value: date | None) -> None:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise IssueError(f"The issue date must be between {MIN_YEAR} and {MAX_YEAR}.")


def create_issue(
    title: str,
    *,
    user: User | None,
    slug: str | None = None,
    subject: str = "",
    preheader: str = "",
    body: str = "",
    lists: Iterable[MailingList | int] = (),
    issue_date: date | None = None,
    commit: bool = True,
) -> Issue:
    title = " ".join(title.split())
    if not title:
        raise IssueError("An issue needs a title.")
    check_issue_date(issue_date)
    issue = Issue(
        title=title[:300],
        # A title that gives a taken slug gets -2, -3...; a slug the user typed must be free.
        slug=check_slug(slug) if slug else unique_slug(title),
        subject=(subject or title)[:300],
        preheader=preheader[:300],
        body=body,
        issue_date=issue_date,
        status="draft",
        version=1,
        updated_by_id=user.id if user else None,
        created_by_id=user.id if user else None,
        front_matter={},
        excluded_event_ids=[],
    )
    issue.lists = _resolve_lists(lists)
    db.session.add(issue)
    db.session.flush()
    record_revision(issue, user, note="created", number=1)
    sync_assignments(issue, user)
    if commit:
        db.session.commit()
    return issue


def save_issue(
    issue: Issue,
    *,
    base_version: int,
    user: User | None,
    note: str = "",
    lists: Iterable[MailingList | int] | None = None,
    slug: str | None = None,
    issue_date: date | None | bool = False,
    commit: bool = True,
    **texts: str,
) -> bool:
    """Save edits made on top of ``base_version``. Returns False when nothing changed.

    ``texts`` may hold title, subject, preheader and body; ``issue_date=False`` leaves the date alone.
    Raises :class:`ConflictError` (after keeping the refused text as a revision) when the
    issue was saved by someone else since ``base_version``.
    """
    unknown = set(texts) - set(TEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    if issue.status not in EDITABLE_STATES:
        raise NotEditableError(f"This issue is {issue.status}; only drafts can be edited.")
    if "title" in texts and not " ".join(texts["title"].split()):
        raise IssueError("An issue needs a title.")
    for name in ("title", "subject", "preheader"):
        if name in texts and len(texts[name]) > 300:
            raise IssueError(f"The {name} is limited to 300 characters.")
    if issue_date is not False:
        check_issue_date(issue_date)  # type: ignore[arg-type]
    if base_version != issue.version:
        _refuse(issue, user, base_version, texts)

    changes: dict[str, Any] = {name: value for name, value in texts.items() if getattr(issue, name) != value}
    # Compare the normalised form: "My Slug" saved as "my-slug" is not a change on every later save.
    new_slug = (
        check_slug(slug, issue_id=issue.id)
        if slug is not None and slugify(slug, max_length=200) != issue.slug
        else None
    )
    new_lists = _resolve_lists(lists) if lists is not None else None
    lists_changed = new_lists is not None and {m.id for m in new_lists} != {m.id for m in issue.lists}
    date_changed = issue_date is not False and issue_date != issue.issue_date
    if not (changes or new_slug or lists_changed or date_changed):
        return False

    # The conditional UPDATE (lifecycle.move) makes the version check atomic: of two
    # requests that both passed the check above, only one moves the version on.
    # The status condition and the reset to draft belong to the same statement: an
    # approval (or a send) that lands between our check and the UPDATE is never
    # silently overwritten, and any edit clears the approval.
    try:
        lifecycle.move(issue, "draft", expect=EDITABLE_STATES, base_version=base_version)
    except (ConflictError, TransitionError):
        db.session.rollback()
        _refuse(issue, user, base_version, texts)
    for name, value in changes.items():
        setattr(issue, name, value)
    if new_slug:
        issue.slug = new_slug
    if new_lists is not None and lists_changed:
        issue.lists = new_lists
    if date_changed:
        issue.issue_date = issue_date  # type: ignore[assignment]
    issue.updated_at = utcnow()
    issue.updated_by_id = user.id if user else None
    record_revision(issue, user, note=note)
    sync_assignments(issue, user)
    if commit:
        db.session.commit()
    return True


def _refuse(issue: Issue, user: User | None, base_version: int, texts: dict[str, str]) -> None:
    db.session.refresh(issue)
    copy_number = None
    if texts:
        copy = record_revision(issue, user, note=CONFLICT_NOTE, texts=texts)
        copy_number = copy.number
        db.session.commit()
    who = issue.updated_by.email if issue.updated_by else "someone else"
    kept = f" Your text was kept as revision #{copy_number}." if copy_number else ""
    raise ConflictError(
        f"This issue was changed by {who} since you opened it (version {base_version}, now "
        f"{issue.version}); your save was refused so nothing is overwritten.{kept} Reload to see their "
        "changes, then compare or restore from the revisions page.",
        current_version=issue.version,
        copy_number=copy_number,
    )


def list_revisions(issue: Issue) -> list[Revision]:
    return list(
        db.session.scalars(select(Revision).where(Revision.issue_id == issue.id).order_by(Revision.number.desc()))
    )


def get_revision(issue: Issue, number: int) -> Revision:
    revision = db.session.scalar(select(Revision).where(Revision.issue_id == issue.id, Revision.number == number))
    if revision is None:
        raise IssueError(f"This issue has no revision #{number}.")
    return revision


def restore_revision(issue: Issue, number: int, *, base_version: int, user: User | None) -> bool:
    """Restore an earlier revision's texts as a new save (the history is never rewritten)."""
    revision = get_revision(issue, number)
    return save_issue(
        issue,
        base_version=base_version,
        user=user,
        note=f"restored #{number}",
        **{name: getattr(revision, name) for name in TEXT_FIELDS},
    )


@dataclass
class RevisionDiff:
    unified: str
    html: str
    changed: bool


def diff_texts(old: str, new: str, old_label: str, new_label: str) -> RevisionDiff:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    unified = "\n".join(difflib.unified_diff(old_lines, new_lines, old_label, new_label, lineterm=""))
    html = difflib.HtmlDiff(wrapcolumn=80).make_table(
        old_lines, new_lines, old_label, new_label, context=True, numlines=3
    )
    return RevisionDiff(unified=unified, html=html, changed=old_lines != new_lines)


def diff_revision(issue: Issue, number: int) -> RevisionDiff:
    """Diff an earlier revision against the issue as it is now (title, subject, preheader, body)."""
    revision = get_revision(issue, number)

    def as_text(source: Any) -> str:
        head = "".join(f"{name.capitalize()}: {getattr(source, name) or ''}\n" for name in TEXT_FIELDS[:3])
        return head + "\n" + (source.body or "")

    return diff_texts(as_text(revision), as_text(issue), f"revision #{number}", f"current (v{issue.version})")
