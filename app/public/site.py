"""The publication's home page and what search engines and browsers ask a site
for: ``/``, ``/sitemap.xml``, ``/robots.txt``, ``/favicon.ico``. Also what every
public page knows about the site (name, description, logo, the lists a reader
can subscribe to), given to the public templates only."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from flask import Response, current_app, redirect, render_template, request, url_for

from app.db import db
from app.i18n import use_language
from app.issues.rendering import brand
from app.public import bp
from app.public.archive import issue_day, public_issues, safe_web_html
from app.public.summary import summary
from app.subscribers.lists import public_lists

HOME_ISSUES = 10
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Pages that act on a reader's token or count a click: never for crawlers.
NOT_FOR_CRAWLERS = ("/admin/", "/confirm/", "/unsubscribe/", "/resubscribe", "/r/", "/o/", "/webhooks/")


# Pages a reader reads (not redirects, pixels, webhooks or media).
READER_PAGES = {
    "public.home",
    "public.archive",
    "public.issue",
    "public.events",
    "public.subscribe",
    "public.confirm_subscription",
    "public.unsubscribe_page",
    "public.resubscribe_page",
}


@bp.before_request
def _site_language() -> None:
    """The site speaks its lists' language when they agree on one; a view that
    knows the list a page is about (confirm, unsubscribe) says so itself."""
    if request.endpoint in READER_PAGES:
        languages = {mailing_list.language for mailing_list in public_lists()}
        if len(languages) == 1:
            use_language(languages.pop())


@bp.context_processor
def _site() -> dict[str, Any]:
    """What the public templates show on every page (admin templates ignore it)."""
    mark = brand()
    return {
        "site": {
            "description": mark.description,
            "logo": mark.logo_url,
            "base": current_app.config["BASE_URL"].rstrip("/"),
        },
    }


@bp.get("/", endpoint="home")
def home() -> str:
    issues = list(db.session.scalars(public_issues().limit(HOME_ISSUES + 1)))
    latest = issues[0] if issues else None
    latest_summary = summary(latest, safe_web_html(latest)) if latest else None
    return render_template(
        "public/home.html",
        latest=latest,
        latest_summary=latest_summary,
        earlier=issues[1 : HOME_ISSUES + 1],
        issue_day=issue_day,
        lists=public_lists(),
    )


@bp.get("/sitemap.xml", endpoint="sitemap")
def sitemap() -> Response:
    base = current_app.config["BASE_URL"].rstrip("/")
    ET.register_namespace("", SITEMAP)
    urlset = ET.Element(f"{{{SITEMAP}}}urlset")

    def add(path: str, lastmod: str | None = None) -> None:
        entry = ET.SubElement(urlset, f"{{{SITEMAP}}}url")
        ET.SubElement(entry, f"{{{SITEMAP}}}loc").text = base + path
        if lastmod:
            ET.SubElement(entry, f"{{{SITEMAP}}}lastmod").text = lastmod

    for path in ("/", "/issues/", "/events", "/subscribe"):
        add(path)
    for issue in db.session.scalars(public_issues()):
        day = issue_day(issue)
        add(url_for("public.issue", slug=issue.slug), day.isoformat() if day else None)
    body = ET.tostring(urlset, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype="application/xml")


@bp.get("/robots.txt", endpoint="robots")
def robots() -> Response:
    base = current_app.config["BASE_URL"].rstrip("/")
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in NOT_FOR_CRAWLERS), f"Sitemap: {base}/sitemap.xml"]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.get("/favicon.ico", endpoint="favicon")
def favicon() -> Response:
    # Browsers ask for /favicon.ico whatever the page says; the icon is an SVG.
    return redirect(url_for("static", filename="public/favicon.svg"), 301)  # type: ignore[return-value]
