"""Admin views for issues as a collection: the searchable list, duplicate,
delete, unpublish, templates. Thin: parse, call app.issues.collection, respond."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.admin import bp
from app.auth import admin_required, contributors_allowed
from app.db import db
from app.issues import collection
from app.issues.errors import IssueError
from app.issues.models import ISSUE_STATES, Issue, IssueTemplate
from app.numbers import parse_id, parse_int
from app.rendering.placeholders import scan
from app.sending.service import has_sends
from app.subscribers.models import MailingList


@bp.route("/issues")
@contributors_allowed
def issues():
    args = request.args
    query = collection.IssueQuery(
        q=args.get("q", "")[:200],
        status=args.get("status", ""),
        list_id=parse_id(args.get("list")) if args.get("list") else None,
        sort=args.get("sort", "date") if args.get("sort") in collection.SORTS else "date",
        page=parse_int(args.get("page"), low=1) or 1,
        viewer=current_user,
    )
    found = collection.search_issues(query)
    return render_template(
        "admin/issues/index.html",
        found=found,
        query=query,
        counts={issue.id: len(scan(issue.body or "")) for issue in found.issues},
        states=(*ISSUE_STATES, "unpublished"),
        sorts=collection.SORTS,
        lists=list(db.session.scalars(select(MailingList).order_by(MailingList.name))),
        templates=collection.list_templates(),
    )


def _back_to(issue: Issue):
    return redirect(url_for("admin.issues_edit", issue_id=issue.id), 303)


@bp.post("/issues/<int:issue_id>/duplicate")
def issues_duplicate(issue_id: int):
    copy = collection.duplicate_issue(db.get_or_404(Issue, issue_id), current_user)
    db.session.commit()
    flash(f"Duplicated as a new draft “{copy.title}” ({copy.slug}).", "success")
    return _back_to(copy)


@bp.post("/issues/<int:issue_id>/delete")
def issues_delete(issue_id: int):
    issue = db.get_or_404(Issue, issue_id)
    try:
        if has_sends(issue):
            raise IssueError("This issue has a send (even a cancelled one keeps its report), so it cannot be deleted.")
        title = issue.title
        collection.delete_issue(issue, current_user)
        db.session.commit()
    except IssueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back_to(issue)
    flash(f"Deleted “{title}”.", "success")
    return redirect(url_for("admin.issues"), 303)


PUBLICATION = {
    "unpublish": (
        collection.unpublish_issue,
        "Unpublished: gone from the archive and the feed; its mailed link now says it is no longer available.",
    ),
    "republish": (collection.republish_issue, "Back in the archive and the feed."),
    "publish": (collection.publish_issue, "Published: in the archive and the feed."),
}


@bp.post("/issues/<int:issue_id>/unpublish")
@admin_required
def issues_unpublish(issue_id: int):
    issue = db.get_or_404(Issue, issue_id)
    action = request.form.get("action", "unpublish")
    if action not in PUBLICATION:
        abort(400)
    change, done = PUBLICATION[action]
    try:
        change(issue, current_user)
        db.session.commit()
    except IssueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back_to(issue)
    flash(done, "success")
    return _back_to(issue)


@bp.post("/issues/<int:issue_id>/template")
def issues_save_template(issue_id: int):
    issue = db.get_or_404(Issue, issue_id)
    try:
        template = collection.save_as_template(issue, request.form.get("name", "") or issue.title, current_user)
        db.session.commit()
    except IssueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back_to(issue)
    flash(f"Saved as the template “{template.name}”; “New issue” offers it.", "success")
    return _back_to(issue)


@bp.post("/issue-templates/<int:template_id>/delete")
def issue_templates_delete(template_id: int):
    template = db.get_or_404(IssueTemplate, template_id)
    name = template.name
    collection.delete_template(template, current_user)
    db.session.commit()
    flash(f"Deleted the template “{name}”; issues made from it are unchanged.", "success")
    return redirect(url_for("admin.issues_new"), 303)
