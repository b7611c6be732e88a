"""Issues as a collection: find them (search, filters, sort, pages), copy one,
start one from a template, delete a draft, take a sent issue out of the archive.

Callers own the transaction: nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.audit import record
from app.auth.models import User
from app.db import db, every_word_in, utcnow
from app.issues.access import visible_to
from app.issues.errors import IssueError
from app.issues.models import Issue, IssueStatus, IssueTemplate
from app.issues.service import create_issue, record_revision, unique_slug
from app.subscribers.models import MailingList

__all__ = [
    "IssueQuery",
    "SORTS",
    "search_issues",
    "duplicate_issue",
    "deletable",
    "delete_issue",
    "unpublish_issue",
    "republish_issue",
    "publish_issue",
    "save_as_template",
    "list_templates",
    "issue_from_template",
    "delete_template",
]

PER_PAGE = 50
SORTS = {"date": "Issue date", "edited": "Last edited"}


@dataclass(frozen=True)
class IssueQuery:
    q: str = ""
    status: str = ""
    list_id: int | None = None
    sort: str = "date"
    page: int = 1
    viewer: User | None = None  # a contributor sees only the issues they may edit


@dataclass(frozen=True)
class IssuePage:
    issues: list[Issue]
    total: int
    page: int
    pages: int


def _filtered(query: IssueQuery) -> Select[Issue]:
    statement = select(Issue).where(*every_word_in(query.q, (Issue.title, Issue.subject, Issue.slug, Issue.body)))
    if query.status in IssueStatus.__members__.values():
        statement = statement.where(Issue.status == query.status)
    elif query.status == "unpublished":
        statement = statement.where(Issue.unpublished_at.is_not(None))
    if query.list_id is not None:
        statement = statement.where(Issue.lists.any(MailingList.id == query.list_id))
    if query.viewer is not None:
        statement = statement.where(visible_to(query.viewer))
    return statement


def search_issues(query: IssueQuery) -> IssuePage:
    """One page of issues. Default order: by issue date, undated drafts first
    (the newest work is on top), then the newest id."""
    statement = _filtered(query)
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    if query.sort == "edited":
        statement = statement.order_by(Issue.updated_at.desc(), Issue.id.desc())
    else:
        statement = statement.order_by(Issue.issue_date.desc().nulls_first(), Issue.id.desc())
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(query.page, 1), pages)
    rows = db.session.scalars(
        statement.options(selectinload(Issue.lists)).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    return IssuePage(list(rows), total, page, pages)


def duplicate_issue(issue: Issue, user: User) -> Issue:
    """A new draft with the same texts and lists; never approved, never dated."""
    title = f"{issue.title} (copy)"[:300]
    copy = create_issue(
        title,
        user=user,
        slug=unique_slug(title),
        subject=issue.subject,
        preheader=issue.preheader,
        body=issue.body,
        lists=list(issue.lists),
        commit=False,
    )
    copy.events_heading = issue.events_heading
    copy.excluded_event_ids = list(issue.excluded_event_ids or [])
    copy.auto_events = issue.auto_events
    record(user, "duplicated", "issue", copy.id, f"copy of #{issue.id} {issue.slug}")
    return copy


def deletable(issue: Issue) -> str | None:
    """Why ``issue`` cannot be deleted, or None. Whether a send exists is the
    caller's check (sends belong to a later layer)."""
    if issue.status not in (IssueStatus.DRAFT, IssueStatus.APPROVED) or issue.sent_at is not None:
        return "Only drafts and approved issues that were never sent can be deleted; unpublish a sent issue instead."
    return None


def delete_issue(issue: Issue, user: User) -> None:
    reason = deletable(issue)
    if reason:
        raise IssueError(reason)
    words = len(issue.body.split())
    record(user, "deleted", "issue", issue.id, f"{issue.slug}: “{issue.title}” ({words} words, v{issue.version})")
    db.session.delete(issue)


def unpublish_issue(issue: Issue, user: User) -> None:
    if issue.status != IssueStatus.SENT:
        raise IssueError("Only sent issues are in the archive.")
    if issue.unpublished_at is not None:
        raise IssueError("This issue is already unpublished.")
    issue.unpublished_at = utcnow()
    record_revision(issue, user, note="unpublished from the archive")
    record(user, "unpublished", "issue", issue.id, issue.slug)


def republish_issue(issue: Issue, user: User) -> None:
    if issue.unpublished_at is None:
        raise IssueError("This issue is not unpublished.")
    issue.unpublished_at = None
    record_revision(issue, user, note="published again in the archive")
    record(user, "republished", "issue", issue.id, issue.slug)


def publish_issue(issue: Issue, user: User) -> None:
    """Put a sent issue in the archive although no send of it went to a public list."""
    if issue.status != IssueStatus.SENT:
        raise IssueError("Only sent issues can be published to the archive.")
    issue.published_at = utcnow()
    issue.unpublished_at = None
    record_revision(issue, user, note="published to the archive")
    record(user, "published", "issue", issue.id, issue.slug)


# --- templates ---------------------------------------------------------------------


def save_as_template(issue: Issue, name: str, user: User) -> IssueTemplate:
    name = " ".join(name.split())[:200]
    if not name:
        raise IssueError("A template needs a name.")
    if db.session.scalar(select(IssueTemplate.id).where(IssueTemplate.name == name)) is not None:
        raise IssueError(f"There is already a template named “{name}”; choose another name.")
    template = IssueTemplate(
        name=name,
        subject=issue.subject,
        preheader=issue.preheader,
        body=issue.body,
        list_ids=[m.id for m in issue.lists],
        created_by_id=user.id,
    )
    db.session.add(template)
    db.session.flush()
    record(user, "template saved", "issue", issue.id, f"as template #{template.id} “{name}”")
    return template


def list_templates() -> list[IssueTemplate]:
    return list(db.session.scalars(select(IssueTemplate).order_by(IssueTemplate.name)))


def issue_from_template(template: IssueTemplate, title: str, user: User, **fields: Any) -> Issue:
    """A new draft from ``template``; ``fields`` (slug, subject, issue_date, lists)
    override the template's where given."""
    lists = fields.pop("lists", None) or [
        m for m in (db.session.get(MailingList, i) for i in template.list_ids or []) if m is not None
    ]
    slug = fields.pop("slug", None) or unique_slug(title)
    issue = create_issue(
        title,
        user=user,
        slug=slug,
        subject=fields.pop("subject", "") or template.subject,
        preheader=template.preheader,
        body=template.body,
        lists=lists,
        commit=False,
        **fields,
    )
    record(user, "created from template", "issue", issue.id, f"template #{template.id} “{template.name}”")
    return issue


def delete_template(template: IssueTemplate, user: User) -> None:
    record(user, "template deleted", "issue_template", template.id, template.name)
    db.session.delete(template)
