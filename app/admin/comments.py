"""Admin views for comments on a draft (JSON for the editor). Thin: parse,
call app.issues.comments, respond."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user

from app.admin import bp
from app.auth import contributors_allowed
from app.db import db
from app.issues.access import check_may_edit
from app.issues.comments import CommentError, Placed, add_comment, list_comments, resolve_comment
from app.issues.models import Comment, Issue
from app.numbers import parse_int


def _issue(issue_id: int) -> Issue:
    issue = db.get_or_404(Issue, issue_id)
    check_may_edit(current_user, issue)
    return issue


def _json(placed: Placed) -> dict[str, Any]:
    comment = placed.comment
    return {
        "id": comment.id,
        "line_from": placed.line_from,
        "line_to": placed.line_to,
        "quote": comment.quote,
        "body": comment.body,
        "author": comment.author.display_name if comment.author else "a former user",
        "created_at": comment.created_at.isoformat(timespec="minutes") + "Z",
    }


@bp.get("/issues/<int:issue_id>/comments.json")
@contributors_allowed
def comments_json(issue_id: int):
    return jsonify(comments=[_json(p) for p in list_comments(_issue(issue_id))])


@bp.post("/issues/<int:issue_id>/comments")
@contributors_allowed
def comments_add(issue_id: int):
    issue = _issue(issue_id)
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("body"), str):
        return jsonify(error="Expected a JSON object with a body and its lines."), 400
    line_from, line_to = parse_int(data.get("line_from"), low=1), parse_int(data.get("line_to"), low=1)
    if line_from is None or line_to is None:
        return jsonify(error="Say which lines the comment is about."), 400
    try:
        quote = data["quote"] if isinstance(data.get("quote"), str) else None
        add_comment(issue, current_user, line_from, line_to, data["body"], quote)
    except CommentError as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 400
    db.session.commit()
    return jsonify(comments=[_json(p) for p in list_comments(issue)]), 201


@bp.post("/issues/<int:issue_id>/comments/<int:comment_id>/resolve")
@contributors_allowed
def comments_resolve(issue_id: int, comment_id: int):
    issue = _issue(issue_id)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.issue_id != issue.id:
        return jsonify(error="No such comment on this issue."), 404
    resolve_comment(comment, current_user)
    db.session.commit()
    return jsonify(comments=[_json(p) for p in list_comments(issue)])
