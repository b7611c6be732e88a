"""Subscriber admin: keyset pages, search, history, add / unsubscribe /
suppress / erase, CSV upload with progress, export, permissions."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

from sqlalchemy import func, select

from app.db import db
from app.jobs.models import Upload
from app.subscribers.csv_import import import_csv
from app.subscribers.lists import create_list, find_list
from app.subscribers.models import Subscriber, SubscriberImport, Subscription, Suppression
from app.subscribers.service import add_subscriber
from app.subscribers.suppression import email_hash, is_suppressed
from tests.support.jobs import run_jobs
from tests.support.sending import recount_sends, sent_delivery


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.rels: dict[str, str] = {}
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("rel"):
            self.rels[attrs["rel"]] = attrs["href"]
        if (
            tag == "a"
            and "/admin/subscribers/" in (attrs.get("href") or "")
            and re.search(r"/admin/subscribers/\d+$", attrs["href"])
        ):
            self._in_cell = True

    def handle_data(self, data):
        if self._in_cell:
            self.cells.append(data)
            self._in_cell = False


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.data
    parser = Links()
    parser.feed(response.get_data(as_text=True))
    return parser


def test_keyset_pages_filters_and_search(app, admin_client):
    news = create_list("News")
    lines = "\n".join(f"user{i:03d}@example.com,User {i}" for i in range(120))
    import_csv(io.BytesIO(f"email,name\n{lines}\n".encode()), "News")
    add_subscriber("zed@example.com", "", create_list("Other"))

    first = page(admin_client, "/admin/subscribers")
    assert first.cells[:2] == ["user000@example.com", "user001@example.com"] and len(first.cells) == 50
    assert "prev" not in first.rels
    second = page(admin_client, first.rels["next"])
    assert second.cells[0] == "user050@example.com"
    back = page(admin_client, second.rels["prev"])
    assert back.cells == first.cells
    last = page(admin_client, "/admin/subscribers?last=1")
    assert last.cells[-1] == "zed@example.com" and len(last.cells) == 50 and "next" not in last.rels

    on_news = page(admin_client, f"/admin/subscribers?list={news.id}&status=active&last=1")
    assert on_news.cells[-1] == "user119@example.com"
    prefix = page(admin_client, "/admin/subscribers?q=USER11")
    assert prefix.cells == [f"user11{i}@example.com" for i in range(10)]
    assert page(admin_client, "/admin/subscribers?status=pending").cells == []


def test_history_unsubscribe_suppress_and_erase(app, admin_client):
    from app.sending.models import Delivery, FeedbackEvent

    news = create_list("News")
    subscriber = add_subscriber("Person@Example.com", "Per Son", news)
    delivery = sent_delivery(subscriber, news)
    db.session.add(
        FeedbackEvent(
            send_id=delivery.send_id, delivery_id=delivery.id, email=subscriber.email, kind="complaint", detail="abuse"
        )
    )
    recount_sends()
    db.session.commit()
    sid, delivery_id = subscriber.id, delivery.id

    view = admin_client.get(f"/admin/subscribers/{sid}").get_data(as_text=True)
    assert "person@example.com" in view and "Issue one" in view and "complaint" in view

    assert admin_client.post(f"/admin/subscribers/{sid}/unsubscribe", data={"list_id": news.id}).status_code == 302
    assert db.session.get(Subscription, (sid, news.id)).status == "unsubscribed"
    assert admin_client.post(f"/admin/subscribers/{sid}/suppress").status_code == 302
    row = db.session.scalar(select(Suppression))
    assert (row.reason, row.email) == ("manual", "person@example.com")

    assert admin_client.post(f"/admin/subscribers/{sid}/delete").status_code == 302
    assert db.session.get(Subscriber, sid) is None
    row = db.session.scalar(select(Suppression))
    assert row.reason == "deleted" and row.email is None
    assert row.email_hash == email_hash("person@example.com")
    assert db.session.get(Delivery, delivery_id).email == ""
    assert db.session.scalar(select(FeedbackEvent.email)) is None
    assert admin_client.get(f"/admin/subscribers/{sid}").status_code == 404

    # erasure does not re-enable sending: import, manual add and signup leave it out
    result = import_csv(io.BytesIO(b"email\nperson@example.com\n"), "News")
    assert result.suppressed == 1 and db.session.scalar(select(Subscriber)) is None
    response = admin_client.post(
        "/admin/subscribers/add", data={"email": "person@example.com", "list_id": news.id}, follow_redirects=True
    )
    assert b"suppression list" in response.data and db.session.scalar(select(Subscriber)) is None
    assert is_suppressed("PERSON@example.com")


def test_upload_progress_and_export(app, admin_client):
    body = "\ufeffEmail Address,Name\na@example.com,=cmd|' /C calc'!A0\nbroken,X\n".encode()
    response = admin_client.post(
        "/admin/subscribers/import",
        data={"file": (io.BytesIO(body), "people.csv"), "list_name": "Imported", "status": "active"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302  # only email and name: no mapping step
    job_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    queued = admin_client.get(f"/admin/subscribers/imports/{job_id}.json").json
    assert queued["state"] == "queued"  # the web process only stored the file; the worker imports it
    run_jobs(app)
    status = admin_client.get(f"/admin/subscribers/imports/{job_id}.json").json
    assert status["state"] == "done" and status["imported"] == 1 and status["percent"] == 100
    assert status["errors"] == [[3, status["errors"][0][1]]] and "broken" in status["errors"][0][1]
    html = admin_client.get(f"/admin/subscribers/imports/{job_id}").get_data(as_text=True)
    assert "subscribers.js" in html and "<script>" not in html
    job = db.session.get(SubscriberImport, job_id)
    imported = find_list("Imported")
    assert job.list_id == imported.id

    export = admin_client.get(f"/admin/subscribers/lists/{imported.id}/export.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[1][:2] == ["a@example.com", "'=cmd|' /C calc'!A0"]

    bad = admin_client.post(
        "/admin/subscribers/import",
        data={"file": (io.BytesIO(b"nothing,here\n1,2\n"), "x.csv"), "list_name": "Imported", "status": "active"},
        content_type="multipart/form-data",
    )
    # A file without an email column is refused at the upload, and nothing of it is kept.
    assert bad.status_code == 400 and b"no email column" in bad.data
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0


def test_lists_create_edit_and_counts(app, admin_client, editor_client):
    response = admin_client.post(
        "/admin/subscribers/lists",
        data={"name": "Events", "from_address": "Events <EVENTS@Example.org>", "public": "on"},
    )
    assert response.status_code == 302
    events = find_list("Events")
    assert events.public and events.from_address == "Events <EVENTS@example.org>"
    bad = admin_client.post(f"/admin/subscribers/lists/{events.id}", data={"name": "Events", "from_address": "nobody"})
    assert bad.status_code == 400 and b"not a valid email" in bad.data
    assert find_list("Events").from_address == "Events <EVENTS@example.org>"
    assert (
        admin_client.post(
            f"/admin/subscribers/lists/{events.id}",
            data={"name": "Events & Talks", "slug": "talks", "description": "d"},
        ).status_code
        == 302
    )
    edited = find_list("talks")
    assert edited.name == "Events & Talks" and not edited.public
    # Added through the admin: the Lists page counts them at once (its cached
    # counts are dropped by the admin's own changes).
    for email, status in (("x@example.com", "active"), ("y@example.com", "pending")):
        admin_client.post("/admin/subscribers/add", data={"email": email, "list_id": edited.id, "status": status})
    run_jobs(app)
    html = admin_client.get("/admin/subscribers/lists").get_data(as_text=True)
    assert re.search(r"state=active\">1<", html) and re.search(r"state=pending\">1<", html)
    # A change made elsewhere (an import in the worker) shows within the cache's
    # half minute, or at once with "Count again".
    add_subscriber("z@example.com", "", edited)
    assert re.search(r"state=active\">1<", admin_client.get("/admin/subscribers/lists").get_data(as_text=True))
    recounted = admin_client.get("/admin/subscribers/lists?recount=1").get_data(as_text=True)
    assert re.search(r"state=active\">2<", recounted) and "Counted at" in recounted
    assert editor_client.post("/admin/subscribers/lists", data={"name": "Nope"}).status_code == 403
    assert editor_client.get(f"/admin/subscribers/lists/{edited.id}/export.csv").status_code == 403
    assert editor_client.get("/admin/subscribers").status_code == 200


def test_demo_subscribers_are_idempotent(app, client):
    from app.subscribers.demo import load_demo_subscribers

    load_demo_subscribers()
    load_demo_subscribers()
    demo_list = find_list("subscribers")
    assert demo_list.public
    assert len(db.session.scalars(select(Subscriber)).all()) == 5
    assert is_suppressed("bounced@example.com")
    assert b"new issues and upcoming events" in client.get("/subscribe").data
