"""Public archive, web version and Atom feed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

from lxml import html as lxml_html

from app.db import db
from app.issues.models import Issue
from app.issues.rendering import web_html
from app.subscribers.lists import create_list

ATOM = "{http://www.w3.org/2005/Atom}"


def _issue(slug: str, lists: list, *, status: str = "sent", day: date | None = None, body: str = "Body") -> Issue:
    issue = Issue(
        slug=slug,
        title=slug,
        subject=f"Subject {slug}",
        body=body,
        status=status,
        issue_date=day,
        excluded_event_ids=[],
        sent_at=datetime.combine(day, datetime.min.time()) if day and status == "sent" else None,
    )
    issue.lists = lists
    db.session.add(issue)
    return issue


def _setup():
    public = create_list("Public readers", public=True)
    private = create_list("Clients")
    _issue(
        "sent-public",
        [public],
        day=date(2024, 3, 1),
        body="## Hello\n\n![Chart]({{ site.github.url }}/images/c.png)\n\n##### Caption\n\n<script>x()</script>",
    )
    _issue("sent-both", [public, private], day=date(2024, 4, 1))
    _issue("sent-private", [private], day=date(2024, 5, 1))
    _issue("draft-public", [public], status="draft", day=date(2024, 6, 1))
    db.session.commit()
    return public


def test_archive_lists_sent_public_issues_newest_first(app, client) -> None:
    _setup()
    page = client.get("/issues/")
    assert page.status_code == 200
    doc = lxml_html.fromstring(page.data)
    assert doc.xpath("//ul[@class='archive']//a/@href") == ["/issues/sent-both", "/issues/sent-public"]


def test_archive_pagination(app, client) -> None:
    public = create_list("Public readers", public=True)
    start = date(2023, 1, 1)
    for n in range(25):
        _issue(f"issue-{n:02d}", [public], day=start + timedelta(days=n))
    db.session.commit()
    first = lxml_html.fromstring(client.get("/issues/").data)
    second = lxml_html.fromstring(client.get("/issues/?page=2").data)
    first_links = first.xpath("//ul[@class='archive']//a/@href")
    assert len(first_links) == 20 and first_links[0] == "/issues/issue-24"
    assert second.xpath("//ul[@class='archive']//a/@href")[-1] == "/issues/issue-00"
    assert first.xpath("//a[@rel='next']/@href") == ["/issues/?page=2"]
    assert client.get("/issues/?page=3").status_code == 404
    assert client.get("/issues/?page=0").status_code == 404
    assert client.get("/issues/?page=abc").status_code == 200  # unparsable: the first page


def test_web_version(app, client) -> None:
    _setup()
    response = client.get("/issues/sent-public")
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.data)
    assert doc.xpath("//h1/text()")[0] == "Subject sent-public"
    assert doc.xpath("//figure/figcaption/text()") == ["Caption"]
    # images/c.png was never imported into the library: a box, not a broken image.
    assert doc.xpath("//figure/span[@class='image-unavailable']/text()") == ["Image unavailable: Chart"]
    assert doc.xpath("//figure/img") == []
    assert b"<script" not in response.data and b"x()" not in response.data
    for slug in ("sent-private", "draft-public", "missing"):
        assert client.get(f"/issues/{slug}").status_code == 404


def test_preview_function_for_drafts(app) -> None:
    _setup()
    draft = db.session.scalar(db.select(Issue).where(Issue.slug == "draft-public"))
    assert "<p>Body</p>" in web_html(draft)


def test_atom_feed(app, client) -> None:
    _setup()
    response = client.get("/feed.xml")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert feed.find(f"{ATOM}id").text == "http://127.0.0.1:5000/issues/"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Subject sent-both", "Subject sent-public"]
    newest = entries[0]
    assert newest.find(f"{ATOM}link").get("href") == "http://127.0.0.1:5000/issues/sent-both"
    assert newest.find(f"{ATOM}updated").text == "2024-04-01T00:00:00Z"
    content = entries[1].find(f"{ATOM}content")
    assert content.get("type") == "html" and "<figure>" in content.text and "<script" not in content.text
    assert feed.find(f"{ATOM}updated").text == "2024-04-01T00:00:00Z"


def test_empty_feed_is_valid(app, client) -> None:
    feed = ET.fromstring(client.get("/feed.xml").data)
    assert feed.findall(f"{ATOM}entry") == [] and feed.find(f"{ATOM}title").text
