"""Hardening, content side (issue 13, classes 1, 2, 3, 5, 6): the sanitiser has
the last word, readers get what was approved, publishing needs approval, no
input makes rendering slow or takes the archive down."""

from __future__ import annotations

import io
from datetime import timedelta

import nh3
import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from app.db import db, utcnow
from app.events.service import EventData, create_event, event_data, update_event
from app.issues import lifecycle
from app.issues.models import Issue
from app.rendering import render as render_module
from app.rendering.context import RenderContext
from app.sending import service
from app.sending.worker import worker_for
from app.settings import set_setting
from tests.support.outbox import outbox_mails
from tests.support.rendering import make_issue
from tests.support.sending import make_list

ABBR = '<abbr title="<img src=x><script>alert(1)</script><svg onload=alert(2)>">x</abbr>'


# --- 1. sanitiser output is final -------------------------------------------------


def test_nh3_escapes_markup_inside_attributes() -> None:
    """The pinned nh3 escapes < and > in attribute values (0.3.6 and older did not)."""
    assert (
        nh3.clean(ABBR, attributes={"abbr": {"title"}})
        == '<abbr title="&lt;img src=x&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;svg onload=alert(2)&gt;">x</abbr>'
    )


def test_nothing_edits_what_the_sanitiser_returned(app, monkeypatch) -> None:
    """Whatever nh3 returns goes into the email and the web version unchanged: the
    v0.1 pipeline rewrote <img> tags with a regex afterwards, which turned escaped
    attribute text back into markup."""
    cleaned: list[str] = []
    real = render_module.sanitize

    def recording(html: str) -> str:
        cleaned.append(real(html))
        return cleaned[-1]

    monkeypatch.setattr(render_module, "sanitize", recording)
    body = (
        f"{ABBR}\n\n![A chart](/images/a.png)\n\n<img src='/images/b.png' width='²' alt=x>\n\n"
        "[a link](https://example.org/) and [another](/path)\n"
    )
    rendered = render_module.render_issue(make_issue(body), RenderContext(base_url="http://127.0.0.1:5000"))
    email_body, web_body = cleaned
    assert email_body in rendered.email_html and web_body == rendered.web_html
    for document in (rendered.email_html, rendered.web_html):
        root = lxml_html.document_fromstring(document)
        assert not root.xpath("//script | //svg | //meta[@http-equiv]")
        assert not any(attr.startswith("on") for el in root.iter() if isinstance(el.tag, str) for attr in el.attrib)


# --- 2. what readers get is what was approved -----------------------------------------


def test_changes_after_approval_do_not_reach_readers(app, users) -> None:
    """Approve, schedule, then change an event, an image's alt text and the footer's
    postal address; the worker delivers the approved email, not today's rendering."""
    from app.media.service import set_alt_text, upload
    from tests.test_media import png_bytes

    set_setting("postal_address", "1 Approved Street")
    image = upload("chart.png", png_bytes(40, 30), users["editor"])
    set_alt_text(image, "Approved alt")
    event = create_event(
        EventData(
            title="Approved meetup",
            url="https://events.example/1",
            start=(utcnow() + timedelta(days=5)).replace(microsecond=0),
            timezone="UTC",
        )
    )
    readers = make_list("Readers", 2)
    issue = Issue(
        slug="frozen",
        title="Frozen",
        subject="Frozen",
        status="draft",
        updated_by_id=users["editor"].id,
        body=f"Hello.\n\n![]({{{{ site.github.url }}}}/{image.path})\n\n[[events]]\n\nBye.\n",
    )
    issue.lists = [readers]
    db.session.add(issue)
    db.session.commit()
    lifecycle.approve(issue, users["admin"])
    db.session.commit()
    send = service.create_send(issue, [readers], at=utcnow() - timedelta(seconds=1), user=users["admin"])
    db.session.commit()

    data = event_data(event)
    data.title = "Changed after approval"
    update_event(event, data)
    set_alt_text(image, "Changed alt")
    set_setting("postal_address", "2 Changed Road")
    worker_for(app).run(once=True)

    assert service.counts(db.session.get(type(send), send.id))["sent"] == 2
    for message in outbox_mails(app):
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert "Approved meetup" in html and "Approved meetup" in text
        assert 'alt="Approved alt"' in html and "1 Approved Street" in html
        assert "Changed after approval" not in html + text and "Changed alt" not in html
        assert "2 Changed Road" not in html + text
    # The web version shows what was sent, too.
    from app.issues.rendering import web_html

    assert "Approved meetup" in web_html(db.session.get(Issue, issue.id))


def test_scheduling_refuses_a_time_when_a_listed_event_is_over(app, users) -> None:
    readers = make_list("Readers", 1)
    create_event(EventData(title="Soon", start=(utcnow() + timedelta(days=2)).replace(microsecond=0), timezone="UTC"))
    issue = Issue(
        slug="soon",
        title="Soon",
        subject="Soon",
        status="draft",
        body="Hi.\n\n[[events]]\n",
        updated_by_id=users["editor"].id,
    )
    db.session.add(issue)
    db.session.commit()
    lifecycle.approve(issue, users["admin"])
    db.session.commit()
    with pytest.raises(service.SendError, match="over by the scheduled time"):
        service.create_send(issue, [readers], at=utcnow() + timedelta(days=3))
    db.session.rollback()
    assert service.create_send(issue, [readers], at=utcnow() + timedelta(days=1)) is not None


# --- 3. publishing needs approval ---------------------------------------------------------

ARCHIVE_FILE = b"---\nlayout: newsletter\n---\n\n# Hello archive\n\nAll done.\n"


@pytest.mark.parametrize("status", ["sent", "auto"])
def test_editors_cannot_import_issues_as_sent(app, editor_client, admin_client, status) -> None:
    data = {"status": status, "files": (io.BytesIO(ARCHIVE_FILE), "2019-01-02-public.md")}
    refused = editor_client.post("/admin/issues/import", data=data, content_type="multipart/form-data")
    assert refused.status_code == 403
    assert db.session.scalar(select(Issue)) is None
    drafted = editor_client.post(
        "/admin/issues/import",
        content_type="multipart/form-data",
        data={"status": "draft", "files": (io.BytesIO(ARCHIVE_FILE), "2019-01-02-public.md")},
    )
    assert drafted.status_code == 200 and db.session.scalar(select(Issue.status)) == "draft"
    sent = admin_client.post(
        "/admin/issues/import",
        content_type="multipart/form-data",
        data={"status": "sent", "files": (io.BytesIO(ARCHIVE_FILE), "2019-01-03-public.md")},
    )
    assert sent.status_code == 200
    assert "sent" in set(db.session.scalars(select(Issue.status)))


# --- 5. no input makes the server slow -------------------------------------------------

BILLION_LAUGHS = (
    "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nslug: laughs\n---\n\nBody\n"
)


def test_yaml_aliases_in_front_matter_are_refused() -> None:
    from app.issues.jekyll import parse_jekyll_text

    assert len(BILLION_LAUGHS) < 400
    doc = parse_jekyll_text(BILLION_LAUGHS, "2019-01-02-public.md")
    assert doc.front_matter == {} and any("aliases" in warning for warning in doc.warnings)
    huge = "---\n" + "k: v\n" * 5000 + "---\n\nBody\n"
    assert parse_jekyll_text(huge, "2019-01-02-public.md").front_matter == {}


@pytest.mark.parametrize(
    "source",
    [
        "[" * 8192,
        "![" * 4096,
        "*a" * 4000,
        "<" * 8192,
        "> " * 3000 + "end",
        "a" * 61440,
        "[x](" * 2048,
        "TODO " * 5000,
        "`" * 8192,
    ],
)
def test_pathological_previews_answer(editor_client, source) -> None:
    """Each answers (its time is measured in bench/preview.py, not asserted here)."""
    response = editor_client.post("/admin/issues/preview", json={"body": source, "subject": "S"})
    assert response.status_code == 200 and response.json["email_html"].startswith("<!doctype html>")


# --- 6. no stored issue takes the feed or archive down ----------------------------------


def test_hostile_attributes_and_a_broken_issue_do_not_take_the_archive_down(app, client, monkeypatch) -> None:
    from app.issues import rendering
    from app.subscribers.lists import create_list

    public = create_list("Public", public=True)
    bodies = [
        '<ol start="²"><li>a</li></ol>',
        '<img src="/images/x.png" width="²" height="٣">',
        '<table><tr><td colspan="99999999999999999999999" rowspan="-1">x</td></tr></table>',
        "Fine issue.",
    ]
    for number, body in enumerate(bodies):
        issue = Issue(
            slug=f"hostile-{number}",
            title=f"Hostile {number}",
            subject=f"Hostile {number}",
            body=body,
            status="sent",
            sent_at=utcnow(),
        )
        issue.lists = [public]
        db.session.add(issue)
    db.session.commit()
    for url in ["/issues/", "/feed.xml", *[f"/issues/hostile-{n}" for n in range(len(bodies))]]:
        assert client.get(url).status_code == 200, url
    real = rendering.web_html

    def failing(issue: Issue) -> str:
        if issue.slug == "hostile-0":
            raise RuntimeError("a rendering bug")
        return real(issue)

    monkeypatch.setattr("app.public.archive.web_html", failing)
    feed = client.get("/feed.xml")
    assert feed.status_code == 200 and b"Fine issue." in feed.data
    assert client.get("/issues/hostile-0").status_code == 200
