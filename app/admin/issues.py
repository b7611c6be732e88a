"""Admin views for issues: list, create, edit (with live preview and autosave),
revisions, approval, test send and Jekyll upload. Thin: parse, call the domain, respond."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.admin import bp
from app.admin.issue_panels import placeholder_json
from app.auth import contributors_allowed
from app.db import db
from app.issues import lifecycle
from app.issues.access import check_may_edit, may_edit
from app.issues.collection import deletable, issue_from_template, list_templates
from app.issues.jekyll_import import import_jekyll, sources_from_upload
from app.issues.models import Issue, IssueTemplate
from app.issues.rendering import preflight, readers_view, render
from app.issues.service import (
    ConflictError,
    IssueError,
    create_issue,
    diff_revision,
    get_revision,
    list_revisions,
    restore_revision,
    save_issue,
)
from app.issues.test_send import send_test
from app.numbers import parse_id, parse_ids
from app.rendering.placeholders import scan
from app.security import limiter
from app.sending.publication import in_archive
from app.sending.service import SendError, check_sendable, has_sends
from app.subscribers.models import MailingList

# Test sends reach arbitrary typed addresses: cap them so a stolen editor
# session cannot turn the newsletter into a spam relay.
TEST_SEND_LIMIT = "20 per hour"


def _all_lists() -> list[MailingList]:
    return list(db.session.scalars(select(MailingList).order_by(MailingList.name)))


def _parse_date(value: Any) -> date | None:
    if value is not None and not isinstance(value, str):
        raise IssueError("The issue date must be a string like 2026-09-12.")
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise IssueError(f"{value!r} is not a date (YYYY-MM-DD).") from exc


def _parse_version(value: Any) -> int:
    version = parse_id(value)
    if version is None:
        raise IssueError("The save did not say which version it was based on; reload the page.")
    return version


def _list_ids(values: list[Any]) -> list[int]:
    ids = parse_ids(values)
    if ids is None:
        raise IssueError("Unknown list.")
    return ids


def _placeholders(body: str) -> list[Any]:

    return scan(body or "")


def _editable_issue(issue_id: int) -> Issue:
    """The issue, if the user may work on it (a contributor: their own draft; else 403)."""
    issue = db.get_or_404(Issue, issue_id)
    check_may_edit(current_user, issue)
    return issue


@bp.route("/issues/new", methods=["GET", "POST"])
@contributors_allowed
def issues_new():
    templates = list_templates()
    if request.method == "POST":
        form = request.form
        try:
            template_id = parse_id(form.get("template")) if form.get("template") else None
            template = db.session.get(IssueTemplate, template_id) if template_id else None
            if form.get("template") and template is None:
                raise IssueError("That template no longer exists.")
            slug, subject = form.get("slug") or None, form.get("subject", "")
            lists, issue_date = _list_ids(form.getlist("lists")), _parse_date(form.get("issue_date"))
            if template is not None:
                issue = issue_from_template(
                    template,
                    form.get("title", ""),
                    current_user,
                    slug=slug,
                    subject=subject,
                    lists=lists,
                    issue_date=issue_date,
                )
            else:
                issue = create_issue(
                    form.get("title", ""),
                    user=current_user,
                    preheader=form.get("preheader", ""),
                    commit=False,
                    slug=slug,
                    subject=subject,
                    lists=lists,
                    issue_date=issue_date,
                )
            db.session.commit()
        except IssueError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return render_template("admin/issues/new.html", lists=_all_lists(), form=form, templates=templates), 400
        return redirect(url_for("admin.issues_edit", issue_id=issue.id))
    return render_template(
        "admin/issues/new.html",
        lists=_all_lists(),
        form={},
        templates=templates,
        chosen_template=parse_id(request.args.get("template")),
    )


def _workflow(issue: Issue) -> dict[str, Any]:
    """What the approval and send cards say about the saved version."""
    check = lifecycle.check_approval(issue, current_user) if issue.status == "draft" else None
    # Why the send button is disabled, in the words the send form would use.
    send_blocker = None
    if current_user.is_contributor:
        send_blocker = "An editor approves this issue and an admin schedules its send."
    elif not current_user.is_admin:
        send_blocker = "Only admins can schedule sends."
    else:
        try:
            check_sendable(issue)
        except SendError as exc:
            send_blocker = str(exc)
    return {"issue": issue, "approval": check, "send_blocker": send_blocker}


def _edit_page(issue: Issue, status: int = 200):
    delete_blocker = deletable(issue) or (
        "This issue has a send (its report stays), so it cannot be deleted." if has_sends(issue) else None
    )
    return render_template(
        "admin/issues/edit.html",
        delete_blocker=delete_blocker,
        in_archive=in_archive(issue) if issue.status == "sent" else False,
        lists=_all_lists(),
        editable=issue.status in ("draft", "approved") and may_edit(current_user, issue),
        **_workflow(issue),
        placeholders=placeholder_json(_placeholders(issue.body), issue.body or ""),
        problems=preflight(issue),
    ), status


@bp.route("/issues/<int:issue_id>", methods=["GET", "POST"])
@contributors_allowed
def issues_edit(issue_id: int):
    issue = _editable_issue(issue_id)
    if request.method == "GET":
        return _edit_page(issue)
    form = request.form
    try:
        changed = save_issue(
            issue,
            base_version=_parse_version(form.get("version")),
            user=current_user,
            title=form.get("title", ""),
            subject=form.get("subject", ""),
            preheader=form.get("preheader", ""),
            body=form.get("body", ""),
            slug=form.get("slug") if "slug" in form else None,
            lists=_list_ids(form.getlist("lists")),
            issue_date=_parse_date(form.get("issue_date")),
        )
    except IssueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _edit_page(db.get_or_404(Issue, issue_id), 409 if isinstance(exc, ConflictError) else 400)
    flash("Saved." if changed else "No changes to save.", "success")
    return redirect(url_for("admin.issues_edit", issue_id=issue.id))


@bp.route("/issues/<int:issue_id>/autosave", methods=["POST"])
@contributors_allowed
def issues_autosave(issue_id: int):
    """JSON save used by the editor (autosave and Ctrl/Cmd-S); answers 409 on a conflict."""
    issue = _editable_issue(issue_id)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="Expected a JSON object."), 400
    texts = {k: data[k] for k in ("title", "subject", "preheader", "body") if isinstance(data.get(k), str)}
    was_approved = issue.status == "approved"
    try:
        changed = save_issue(
            issue,
            base_version=_parse_version(data.get("version")),
            user=current_user,
            slug=data["slug"] if isinstance(data.get("slug"), str) else None,
            lists=_list_ids(data["lists"]) if isinstance(data.get("lists"), list) else None,
            issue_date=_parse_date(data["issue_date"]) if "issue_date" in data else False,
            **texts,
        )
    except ConflictError as exc:
        return jsonify(error=str(exc), conflict=True, version=exc.current_version, copy=exc.copy_number), 409
    except IssueError as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 400
    # The cards are rendered again so an edit that cleared the approval says so at once.
    cleared = was_approved and issue.status == "draft"
    panels = render_template("admin/issues/_workflow.html", approval_cleared=cleared, **_workflow(issue))
    return jsonify(ok=True, changed=changed, version=issue.version, status=issue.status, slug=issue.slug, panels=panels)


@bp.route("/issues/preview", methods=["POST"])
@contributors_allowed
def issues_preview():
    """Render unsaved text: email, web and plain text, placeholders and preflight problems."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("body", ""), str):
        return jsonify(error="Expected a JSON object with a body."), 400
    text = {k: str(data.get(k) or "")[:300] for k in ("slug", "subject", "preheader")}
    # A transient Issue, never added to the session: previews write nothing.
    draft = Issue(body=str(data.get("body") or ""), excluded_event_ids=[], **text)
    stored: Issue | None = None
    if data.get("issue_id") is not None:
        # What the send would use besides the typed text: its lists, date and events section.
        issue_id = parse_id(data["issue_id"])
        stored = db.session.get(Issue, issue_id) if issue_id is not None else None
        if stored is None:
            return jsonify(error="Unknown issue."), 404
        check_may_edit(current_user, stored)
        draft.id, draft.issue_date, draft.status, draft.sent_at = (
            stored.id,
            stored.issue_date,
            stored.status,
            stored.sent_at,
        )
        draft.events_heading, draft.auto_events = stored.events_heading, stored.auto_events
        draft.excluded_event_ids = list(stored.excluded_event_ids or [])
        draft.lists = list(stored.lists)
    rendered = render(draft, track_opens=False)
    if stored is not None and stored.status in ("scheduled", "sending", "sent"):
        # It can no longer change: show what readers got (the frozen rendering),
        # not a rendering with today's settings, events and media.
        rendered = readers_view(stored)
    return jsonify(
        email_html=rendered.filled("email", {"unsubscribe": "#unsubscribe-preview"}, html=True),
        web_html=rendered.web_html,
        text=rendered.filled("text", {"unsubscribe": "(unsubscribe link)"}, html=False),
        placeholders=placeholder_json(_placeholders(draft.body), draft.body or ""),
        problems=[
            {"level": p.level, "line": p.line, "col": p.col, "code": p.code, "message": p.message}
            for p in preflight(draft)
        ],
    )


@bp.route("/issues/<int:issue_id>/preview-window")
@contributors_allowed
def issues_preview_window(issue_id: int):
    """The email preview in a window of its own at real email width. It shows the
    saved version; the editor that opened it posts every newer preview to it."""
    issue = _editable_issue(issue_id)
    html = readers_view(issue).filled("email", {"unsubscribe": "#unsubscribe-preview"}, html=True)
    return render_template("admin/issues/preview_window.html", issue=issue, email_html=html)


@bp.route("/issues/<int:issue_id>/revisions")
@contributors_allowed
def issues_revisions(issue_id: int):
    issue = _editable_issue(issue_id)
    diff = None
    number = parse_id(request.args.get("diff"))
    if number is not None:
        try:
            diff = (get_revision(issue, number), diff_revision(issue, number))
        except IssueError as exc:
            flash(str(exc), "error")
    return render_template("admin/issues/revisions.html", issue=issue, revisions=list_revisions(issue), diff=diff)


@bp.route("/issues/<int:issue_id>/revisions/<int:number>/restore", methods=["POST"])
@contributors_allowed
def issues_restore(issue_id: int, number: int):
    issue = _editable_issue(issue_id)
    try:
        restore_revision(issue, number, base_version=_parse_version(request.form.get("version")), user=current_user)
        flash(f"Revision #{number} restored as a new revision.", "success")
    except IssueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.issues_revisions", issue_id=issue_id))
    return redirect(url_for("admin.issues_edit", issue_id=issue_id))


@bp.route("/issues/<int:issue_id>/approve", methods=["POST"])
def issues_approve(issue_id: int):
    issue = db.get_or_404(Issue, issue_id)
    try:
        # The version the approver saw: approving must not cover an edit made since.
        version = _parse_version(request.form.get("version"))
        if request.form.get("action") == "unapprove":
            lifecycle.unapprove(issue, base_version=version)
            message = "Approval withdrawn; the issue is a draft again."
        else:
            lifecycle.approve(issue, current_user, base_version=version)
            message = "Approved. The email is frozen as you see it now: readers get exactly this."
        db.session.commit()
        flash(message, "success")
    except IssueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _edit_page(db.get_or_404(Issue, issue_id), 409)
    return redirect(url_for("admin.issues_edit", issue_id=issue_id))


@bp.route("/issues/<int:issue_id>/test-send", methods=["POST"])
@limiter.limit(TEST_SEND_LIMIT, error_message="Too many test sends; wait a few minutes.")
def issues_test_send(issue_id: int):

    issue = db.get_or_404(Issue, issue_id)
    try:
        result = send_test(issue, request.form.get("addresses", ""))
    except IssueError as exc:
        flash(str(exc), "error")
        return _edit_page(issue, 400)
    left = f" It still has {result.placeholders} placeholder(s)." if result.placeholders else ""
    flash(f"Test sent to {', '.join(result.addresses)}.{left}", "success")
    return redirect(url_for("admin.issues_edit", issue_id=issue_id))


@bp.route("/issues/import", methods=["GET", "POST"])
def issues_import():
    if request.method == "GET":
        return render_template("admin/issues/import.html", report=None)
    uploads = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]
    try:
        sources = sources_from_upload(uploads)
    except ValueError as exc:
        flash(str(exc), "error")
        return render_template("admin/issues/import.html", report=None), 400
    status = request.form.get("status", "draft")
    if status not in ("auto", "draft", "sent"):
        status = "draft"
    if status != "draft" and not current_user.is_admin:
        # Importing as sent makes issues public without anyone approving them.
        abort(403, "Only admins can import issues as sent; import them as drafts to have them approved.")
    report = import_jekyll(sources, status=status, user=current_user)
    return render_template("admin/issues/import.html", report=report)
