"""Which issues show a media library image, and deleting one safely.

An approved, scheduled or sending issue's email is frozen with the image's
URL in it: deleting the file would change what readers get after approval,
so that is refused; other uses need the editor's explicit confirmation."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db
from app.issues.models import Issue, IssueStatus
from app.media.models import MediaItem
from app.media.service import MediaInUse, delete_item

__all__ = ["delete_media", "issues_using"]

FROZEN = (IssueStatus.APPROVED, IssueStatus.SCHEDULED, IssueStatus.SENDING)


def issues_using(item: MediaItem) -> list[Issue]:
    """Issues whose Markdown references the image (any URL form ends with its path)."""
    return list(
        db.session.scalars(select(Issue).where(Issue.body.contains(item.path, autoescape=True)).order_by(Issue.id))
    )


def delete_media(item: MediaItem, confirm_issue_ids: list[int] | None = None) -> None:
    used = issues_using(item)
    frozen = [(i.id, i.title or i.slug) for i in used if i.status in FROZEN]
    if frozen:
        names = ", ".join(f"“{title}”" for _id, title in frozen)
        raise MediaInUse(
            frozen,
            f"This image is in the approved email of {names}; it cannot be deleted "
            "until the issue is sent or returned to draft.",
        )
    delete_item(item, [(i.id, i.title or i.slug) for i in used], confirm_issue_ids)
