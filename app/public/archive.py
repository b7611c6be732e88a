"""Public archive: sent issues of public lists, their web versions, an Atom feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime

from flask import Response, abort, current_app, render_template, request
from sqlalchemy import Select, select

from app.db import db, every_word_in
from app.issues.models import Issue
from app.issues.rendering import web_html
from app.numbers import parse_int
from app.public import bp
from app.public.summary import summary
from app.sending.publication import is_published, was_mailed
from app.settings import get_setting
from app.subscribers.lists import public_lists
from app.tokens import issue_view_key_ok

PER_PAGE = 20
FEED_ENTRIES = 20
ATOM = "http://www.w3.org/2005/Atom"
UNAVAILABLE = '<p class="unavailable">This issue cannot be shown right now.</p>'
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _published() -> Select[Issue]:
    """Issues of the public archive, unpublished ones included (app/sending/publication.py)."""
    return select(Issue).where(is_published())


def public_issues() -> Select[Issue]:
    """What the archive and the feed list, newest first."""
    return (
        _published()
        .where(Issue.unpublished_at.is_(None))
        .order_by(Issue.issue_date.desc().nulls_last(), Issue.sent_at.desc().nulls_last(), Issue.id.desc())
    )


def public_issue(slug: str) -> Issue | None:
    return db.session.scalar(_published().where(Issue.slug == slug))


def mailed_issue(slug: str, key: str | None) -> Issue | None:
    """An issue sent only to private lists, opened with the key its emails carry."""
    if not issue_view_key_ok(slug, key):
        return None
    return db.session.scalar(select(Issue).where(Issue.slug == slug, was_mailed()))


def issue_day(issue: Issue) -> date | None:
    return issue.issue_date or (issue.sent_at.date() if issue.sent_at else None)


@bp.get("/issues/", endpoint="archive")
def archive() -> str:
    raw = request.args.get("page", "1")
    page = parse_int(raw, low=1, high=100_000)
    if page is None:
        if raw.strip().isascii() and raw.strip().isdigit():
            abort(404)  # a page number that cannot exist
        page = 1  # not a number at all: the first page
    q = " ".join(request.args.get("q", "").split())[:200]
    pagination = db.paginate(_matching(public_issues(), q), page=page, per_page=PER_PAGE, error_out=False)
    if page > 1 and not pagination.items:
        abort(404)
    return render_template("public/archive.html", pagination=pagination, issue_day=issue_day, q=q)


def _matching(statement: Select[Issue], q: str) -> Select[Issue]:
    """Issues whose subject, title or text holds every word of ``q``."""
    return statement.where(*every_word_in(q, (Issue.subject, Issue.title, Issue.body)))


def safe_web_html(issue: Issue) -> str:
    """The issue's web version; should one stored issue fail to render, the
    archive, the feed and its own page still answer (without its content)."""
    try:
        return web_html(issue)
    except Exception:  # noqa: BLE001 - one bad issue must not take the archive down
        current_app.logger.exception("issue %s cannot be rendered", issue.id)
        return UNAVAILABLE


@bp.get("/issues/<slug>", endpoint="issue")
def issue(slug: str) -> str | tuple[str, int] | Response:
    found = public_issue(slug)
    listed = found is not None
    if found is None:
        found = mailed_issue(slug, request.args.get("k"))
    if found is None:
        abort(404)
    if found.unpublished_at is not None:
        # Its link was mailed: say it is gone on purpose, never a 404.
        return render_template("public/unpublished.html", issue=found), 410
    html = safe_web_html(found)
    page = render_template(
        "public/issue.html",
        issue=found,
        day=issue_day(found),
        web_html=html,
        listed=listed,
        about=summary(found, html),
        lists=public_lists() if listed else [],
    )
    response = Response(page)
    if not listed:  # a private list's issue: for its readers, not for search engines
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Referrer-Policy"] = "no-referrer"  # the key stays out of other sites' logs
    return response


def _timestamp(issue: Issue) -> str:
    moment = issue.sent_at or (
        datetime.combine(issue.issue_date, datetime.min.time()) if issue.issue_date else issue.updated_at
    )
    return moment.replace(microsecond=0).isoformat() + "Z"


def atom_feed(issues: list[Issue]) -> bytes:

    base = current_app.config["BASE_URL"].rstrip("/")
    name = get_setting("newsletter_name")
    ET.register_namespace("", ATOM)

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = _XML_INVALID.sub("", text)
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    add(feed, "title", name)
    add(feed, "id", f"{base}/issues/")
    add(feed, "link", rel="self", href=f"{base}/feed.xml")
    add(feed, "link", rel="alternate", type="text/html", href=f"{base}/issues/")
    add(feed, "updated", _timestamp(issues[0]) if issues else "1970-01-01T00:00:00Z")
    add(add(feed, "author"), "name", name)
    for item in issues:
        page_url = f"{base}/issues/{item.slug}"
        entry = add(feed, "entry")
        add(entry, "title", item.subject or item.title or item.slug)
        add(entry, "id", page_url)
        add(entry, "link", rel="alternate", type="text/html", href=page_url)
        add(entry, "updated", _timestamp(item))
        if item.preheader:
            add(entry, "summary", item.preheader)
        add(entry, "content", safe_web_html(item), type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


@bp.get("/feed.xml", endpoint="feed")
def feed() -> Response:
    issues = list(db.session.scalars(public_issues().limit(FEED_ENTRIES)))
    return Response(atom_feed(issues), mimetype="application/atom+xml")
