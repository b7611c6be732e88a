"""Extracting events from the archive's "CFFL Updates" / "Upcoming Events" bullets."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select

from app.db import db
from app.events.importer import extract_events, parse_bullet
from app.events.models import Event
from app.events.service import event_data
from app.subscribers.lists import create_list
from tests.conftest import CORPUS, needs_corpus

BODY = """Some research news with a date: see our post from September 3.

## CFFL Updates

* Mike will be speaking on interpretability at [Qcon.ai](https://qcon.ai/) on April 11th in San Francisco.
* Join us on Wednesday, Nov. 7th for a webinar with Hilary at 10:00am PT / 1:00pm ET: [Industrialize AI with
Enterprise Scale Machine Learning](https://www.cloudera.com/webinar)
* 10/4 - 10/6 - Hilary - [Grace Hopper](https://ghc.anitaborg.org/) (attending)
* Several of us will be speaking at the [Dataworks Summit](https://dataworkssummit.com/) on March 21st:
 -  Hilary Mason will be speaking on [Building an Enterprise AI Factory](https://dataworkssummit.com/keynote)
* We're hiring! Learn more [here](https://example.com/jobs).
* Shioulin will be at [ODSC](https://odsc.com/london) in London in September.
* Victor will present at [Strata NY](https://strata.example/ny) on Sept 12-14.

## Research

* Not an event: [paper](https://arxiv.org/abs/1) on January 3.

As always, thanks for reading.
"""


def test_bullets_with_link_and_date_become_events(app):
    lst = create_list("Clients")
    result = extract_events(BODY, date(2018, 11, 1), "2018-11-01-client.md", [lst])
    assert (result.bullets_seen, result.bullets_unparsed, result.events_created) == (8, 2, 6)
    events = {e.title: e for e in db.session.query(Event)}
    assert set(events) == {
        "Qcon.ai",
        "Industrialize AI with Enterprise Scale Machine Learning",
        "Strata NY",
        "Grace Hopper",
        "Dataworks Summit",
        "Building an Enterprise AI Factory",
    }
    qcon = events["Qcon.ai"]
    # April 11th after a November issue date: next year's April.
    assert (qcon.timezone, qcon.all_day, qcon.location, qcon.speakers) == (
        "America/Los_Angeles",
        True,
        "San Francisco",
        "Mike",
    )
    assert qcon.starts_at == datetime(2019, 4, 11, 7)  # midnight PDT
    assert qcon.url == "https://qcon.ai/" and qcon.source == "2018-11-01-client.md" and qcon.lists == [lst]
    webinar = events["Industrialize AI with Enterprise Scale Machine Learning"]
    assert not webinar.all_day and webinar.starts_at == datetime(2018, 11, 7, 18)  # 10:00 PST
    assert webinar.location == "online"
    hopper = event_data(events["Grace Hopper"])  # dates as entered, in the event's zone
    assert hopper.start.date() == date(2019, 10, 4) and hopper.end.date() == date(2019, 10, 6)
    assert hopper.speakers == "Hilary"
    assert events["Building an Enterprise AI Factory"].starts_at.date() == date(2019, 3, 21)
    strata = event_data(events["Strata NY"])
    assert strata.start.date() == date(2019, 9, 12) and strata.end.date() == date(2019, 9, 14)


def test_import_is_idempotent_across_editions(app):
    first = extract_events(BODY, date(2018, 11, 1), "a.md", [])
    again = extract_events(BODY, date(2018, 11, 1), "a.md", [])
    other_edition = extract_events(BODY, date(2018, 11, 1), "b.md", [])
    assert first.events_created == 6 and again.events_created == 0 and other_edition.events_created == 0
    assert db.session.query(Event).count() == 6


def test_importing_the_archive_adds_no_events_the_reviewed_command_does(app, runner):
    """An archive issue keeps its content: importing it creates no events and adds no
    events section; `pressroom events import-from-archive` shows the proposals first."""
    from app.issues.jekyll_import import import_jekyll
    from app.issues.models import Issue

    import_jekyll([("2018-11-01-client.md", BODY.encode())], status="sent")
    assert db.session.query(Event).count() == 0
    assert db.session.scalar(select(Issue.auto_events)) is False
    shown = runner.invoke(args=["events", "import-from-archive"], input="n\n")
    assert shown.exit_code == 0 and "nothing created" in shown.output and db.session.query(Event).count() == 0
    assert "2018-11-01-client" in shown.output
    created = runner.invoke(args=["events", "import-from-archive", "--yes"])
    assert "6 events created" in created.output and db.session.query(Event).count() == 6
    assert db.session.scalar(select(Issue.body)) == BODY  # the bullet text stays in the issue
    # The events now exist and fall in the sent issue's window, yet its rendering gains no section.
    from lxml import html as lxml_html

    from app.issues.rendering import render, section_events

    issue = db.session.scalar(select(Issue))
    assert section_events(issue)
    headings = lxml_html.fragment_fromstring(render(issue).web_html, create_parent="div").xpath("//h2")
    assert "Upcoming events" not in [h.text_content() for h in headings]
    issue.auto_events = True  # what an issue written in Pressroom would do with the same events
    headings = lxml_html.fragment_fromstring(render(issue).web_html, create_parent="div").xpath("//h2")
    assert "Upcoming events" in [h.text_content() for h in headings]
    db.session.rollback()


def test_explicit_year_and_past_tense(app):
    assert parse_bullet("* Talk at [Conf](https://c.example) on January 5, 2021", date(2020, 6, 1)).start == datetime(
        2021, 1, 5
    )
    assert parse_bullet("* Hilary spoke at [Conf](https://c.example) on May 2", date(2019, 5, 8)) is None


@needs_corpus
def test_archive_bullets_become_events(app):
    """Measured on the real archive: 718 bullets in event sections, 606 parsed
    (one link and a date), 97 distinct events after de-duplicating the weekly
    editions. The bound leaves room for harmless heuristic changes."""
    seen = parsed = created = 0
    for path in sorted((CORPUS / "ffl/published").glob("*.md")):
        year, month, day = map(int, re.match(r"(\d+)-(\d+)-(\d+)", path.name).groups())
        result = extract_events(path.read_text(encoding="utf-8"), date(year, month, day), path.name, [])
        seen += result.bullets_seen
        parsed += result.bullets_seen - result.bullets_unparsed
        created += result.events_created
    assert seen >= 700
    assert parsed >= 550
    assert 85 <= created <= 110
    db.session.commit()
    assert db.session.query(Event).count() == created
