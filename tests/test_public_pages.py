"""The public site's machine-readable side (issue 16): valid HTML5 pages, a
valid Atom feed with full content, a sitemap of what is public and nothing
else, robots.txt, Open Graph and Twitter cards, archive search, the favicon and
one event's calendar file."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import html5lib
import pytest
from lxml import html as lxml_html

from app.db import db, utcnow
from app.events.models import Event
from app.issues.models import Issue
from app.issues.rendering import render
from app.subscribers.lists import create_list

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def site(app):
    public = create_list("Readers", public=True)
    private = create_list("Clients")
    body = (
        "Hello! A short greeting.\n\n"
        "This week we compare retrieval methods on three datasets, and what we found surprised us a little.\n\n"
        "![Recall by method](https://cdn.example.org/recall.png)\n"
    )
    for number in range(1, 4):
        db.session.add(
            Issue(
                slug=f"2026-01-0{number}-public",
                title=f"Issue {number}",
                subject=f"Retrieval notes {number}" if number != 2 else "100% recall_is a lie",
                body=body,
                status="sent",
                lists=[public],
                excluded_event_ids=[],
            )
        )
    db.session.add(
        Issue(slug="client-only", title="C", subject="For clients", body="Secret.", status="sent", lists=[private])
    )
    start = utcnow() + timedelta(days=5)
    db.session.add(Event(title="Meetup", starts_at=start, timezone="UTC", location="Berlin"))
    db.session.commit()


def _html5(page: str) -> None:
    """Parse strictly as HTML5: any parse error (bad nesting, stray end tag) raises."""
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)


def test_pages_are_valid_html5_with_cards_and_canonical_urls(site, client) -> None:
    for path in ("/", "/issues/", "/issues/2026-01-03-public", "/events", "/subscribe", "/issues/?q=notes"):
        response = client.get(path)
        assert response.status_code == 200, path
        _html5(response.get_data(as_text=True))
    page = lxml_html.fromstring(client.get("/issues/2026-01-03-public").get_data(as_text=True))
    meta = {m.get("property") or m.get("name"): m.get("content") for m in page.iter("meta")}
    assert meta["og:title"] == "Retrieval notes 3"
    assert meta["og:description"].startswith("This week we compare retrieval methods")  # not the greeting
    assert meta["og:image"] == "https://cdn.example.org/recall.png"
    assert meta["twitter:card"] == "summary_large_image"
    assert page.xpath("//link[@rel='canonical']/@href") == ["http://127.0.0.1:5000/issues/2026-01-03-public"]
    assert page.xpath("//link[@rel='icon']/@href")
    assert page.xpath("//section[contains(@class,'subscribe-box')]//input[@type='email']")
    home = lxml_html.fromstring(client.get("/").get_data(as_text=True))
    assert home.xpath("//form[@action='/subscribe']//input[@name='email']")
    assert home.xpath("string(//section[@class='latest']//h2)").strip() == "Retrieval notes 3"


ATOM = "{http://www.w3.org/2005/Atom}"


def test_feed_is_valid_atom_with_full_content(site, client) -> None:
    body = client.get("/feed.xml").get_data()
    # What the W3C feed validator insists on (RFC 4287 4.1): the feed and every
    # entry carry an id, a title and an updated time; the feed a self link and
    # an author; every entry an alternate link and its content.
    feed = ET.fromstring(body)
    for tag in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{tag}") is not None, tag
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    for entry in entries:
        for tag in ("id", "title", "updated", "content"):
            assert (entry.findtext(f"{ATOM}{tag}") or "").strip(), tag
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.findtext(f"{ATOM}updated"))
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.bozo_exception
    assert [e.title for e in parsed.entries] == ["Retrieval notes 3", "100% recall_is a lie", "Retrieval notes 1"]
    assert "compare retrieval methods" in parsed.entries[0].content[0].value
    assert all(e.link.startswith("http://127.0.0.1:5000/issues/") for e in parsed.entries)


def test_sitemap_and_robots_show_only_what_is_public(site, client) -> None:
    root = ET.fromstring(client.get("/sitemap.xml").get_data())
    locs = [loc.text for loc in root.iter(f"{SITEMAP}loc")]
    assert "http://127.0.0.1:5000/" in locs and "http://127.0.0.1:5000/issues/2026-01-01-public" in locs
    assert not any("client-only" in (loc or "") for loc in locs)
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Disallow: /admin/" in robots and "Disallow: /unsubscribe/" in robots
    assert "Sitemap: http://127.0.0.1:5000/sitemap.xml" in robots
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 301 and favicon.headers["Location"].endswith("/static/public/favicon.svg")


def test_archive_search_takes_percent_and_underscore_literally(site, client) -> None:
    def found(q: str) -> list[str]:
        page = client.get("/issues/", query_string={"q": q}).get_data(as_text=True)
        return re.findall(r'href="/issues/([^"]+)"', page)

    assert found("100%") == ["2026-01-02-public"]
    assert found("recall_is") == ["2026-01-02-public"]
    assert found("recall%is") == []
    assert found("secret") == []  # a private issue's text is not searchable
    assert len(found("retrieval")) == 3


def test_an_events_add_to_calendar_file(site, client) -> None:
    event = db.session.query(Event).one()
    page = client.get("/events").get_data(as_text=True)
    assert f'href="/events/{event.id}.ics"' in page
    ics = client.get(f"/events/{event.id}.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    text = ics.get_data(as_text=True)
    assert text.count("BEGIN:VEVENT") == 1 and "SUMMARY:Meetup" in text and "LOCATION:Berlin" in text
    assert client.get("/events/999.ics").status_code == 404


def test_empty_site_still_offers_a_way_in(app, client) -> None:
    create_list("Readers", public=True)
    page = client.get("/").get_data(as_text=True)
    _html5(page)
    assert "The first issue is on its way" in page and 'name="email"' in page


def test_an_image_the_library_lacks_is_a_box_with_its_alt_text(app, client) -> None:
    readers = create_list("Readers", public=True)
    body = (
        "Our poster:\n\n![Tide pools at dawn]({{ site.github.url }}/images/2018/01/tidepool.png)\n\n"
        "And a chart from elsewhere: ![Chart](https://cdn.example.org/chart.png)\n"
    )
    db.session.add(
        Issue(
            slug="old-one", title="Old", subject="Old", body=body, status="sent", lists=[readers], excluded_event_ids=[]
        )
    )
    db.session.commit()
    page = lxml_html.fromstring(client.get("/issues/old-one").get_data(as_text=True))
    boxes = page.find_class("image-unavailable")
    assert [b.text_content() for b in boxes] == ["Image unavailable: Tide pools at dawn"]
    assert page.xpath("//article//img/@src") == ["https://cdn.example.org/chart.png"]  # others untouched
    issue = db.session.query(Issue).filter_by(slug="old-one").one()
    email = render(issue).email_html  # the email keeps the image: preflight refuses to send it
    assert "tidepool.png" in email and "image-unavailable" not in email
