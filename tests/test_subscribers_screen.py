"""The subscriber screen as an admin sees it (HTML parsed): each row's state per
list, the total matching count, search by any part of the address, name or
domain, filters by list, state and segment, the add form at the top; bulk
actions on a ticked selection (in the request) and on all matches (a worker
job, resumable batch by batch); the Lists page counts."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

import lxml.html
import pytest
from sqlalchemy import func, insert, select

from app.db import db, utcnow
from app.jobs.models import Job, JobState
from app.sending.models import Delivery
from app.subscribers import browse, bulk, bulk_export
from app.subscribers.attributes import define, update_attributes
from app.subscribers.lists import create_list
from app.subscribers.models import Subscriber, Subscription, Suppression
from app.subscribers.service import add_subscriber, suppress_subscriber, unsubscribe
from app.subscribers.suppression import email_hash, is_suppressed, suppress
from tests.support.jobs import run_jobs
from tests.support.sending import recount_sends, sent_delivery


def parsed(client, url: str) -> lxml.html.HtmlElement:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return lxml.html.fromstring(response.get_data(as_text=True))


def rows(doc) -> dict[str, dict[str, str]]:
    """{email: {list name: state}} of the table's rows, in page order."""
    found = {}
    for tr in doc.cssselect("table.subscribers tbody tr"):
        link = tr.cssselect("a")
        if not link:
            continue
        found[link[0].text_content()] = {
            li.get("data-list"): li.get("data-state") for li in tr.cssselect("li[data-list]")
        }
    return found


def total(doc) -> tuple[str, bool]:
    p = doc.get_element_by_id("total")
    return p.cssselect("strong")[0].text_content(), p.get("data-exact") == "1"


@pytest.fixture
def world(app, users):
    """Six people, one per state on News; Ada is also on Clients."""
    news, clients = create_list("News"), create_list("Clients")
    ada = add_subscriber("ada@example.org", "Ada Lovelace", news)
    add_subscriber("ada@example.org", "", clients)
    add_subscriber("pat.pending@example.com", "Pat", news, status="pending")
    quit_ = add_subscriber("quit_er@example.com", "Quentin", news)
    unsubscribe(quit_, news, source="test")
    add_subscriber("bounce@mail.example.net", "Bo", news)
    suppress("bounce@mail.example.net", "hard-bounce", "ses", unsubscribe_all=True)
    add_subscriber("spam@example.com", "Sam", news)
    suppress("spam@example.com", "complaint", "ses", unsubscribe_all=True)
    manual = add_subscriber("manual@example.com", "Manny 100%", news)
    suppress_subscriber(manual, "manual", "admin")
    everything = add_subscriber("gone@example.com", "Gwen", news)
    unsubscribe(everything, None, everything=True)
    db.session.commit()
    return {"news": news, "clients": clients, "ada": ada}


def test_each_row_shows_the_real_state_per_list_and_the_count(admin_client, world):
    doc = parsed(admin_client, "/admin/subscribers")
    assert rows(doc) == {
        "ada@example.org": {"Clients": "active", "News": "active"},
        "bounce@mail.example.net": {"News": "bounced"},
        "gone@example.com": {"News": "unsubscribed"},
        "manual@example.com": {"News": "suppressed"},
        "pat.pending@example.com": {"News": "pending"},
        "quit_er@example.com": {"News": "unsubscribed"},
        "spam@example.com": {"News": "complained"},
    }
    assert total(doc) == ("7", True)
    # the add form comes before the table
    forms = [f.get("action") for f in doc.cssselect("form")]
    assert forms.index("/admin/subscribers/add") < forms.index("/admin/subscribers/bulk")
    assert doc.cssselect("section.add-subscriber input[name=email]")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=active", {"ada@example.org"}),
        ("state=pending", {"pat.pending@example.com"}),
        ("state=unsubscribed", {"quit_er@example.com", "gone@example.com"}),
        ("state=bounced", {"bounce@mail.example.net"}),
        ("state=complained", {"spam@example.com"}),
        ("state=suppressed", {"manual@example.com"}),
        ("status=bounced", {"bounce@mail.example.net"}),  # the old parameter name
        ("q=mail.example", {"bounce@mail.example.net"}),  # the domain, in the middle
        ("q=example.org", {"ada@example.org"}),
        ("q=LOVELACE", {"ada@example.org"}),  # the name, any case
        ("q=pending%40", {"pat.pending@example.com"}),  # any part of the address
        ("q=_", {"quit_er@example.com"}),  # _ is literal, not "any character"
        ("q=100%25", {"manual@example.com"}),  # so is %
        ("q=ada+lovelace", {"ada@example.org"}),  # every word, in address or name
        ("q=nobody", set()),
    ],
)
def test_search_and_state_filters(admin_client, world, query, expected):
    doc = parsed(admin_client, f"/admin/subscribers?{query}")
    assert set(rows(doc)) == expected
    assert total(doc) == (str(len(expected)), True)


def test_list_and_segment_filters(admin_client, world):
    from app.segments.store import create_segment

    clients = world["clients"]
    doc = parsed(admin_client, f"/admin/subscribers?list={clients.id}")
    assert set(rows(doc)) == {"ada@example.org"}
    doc = parsed(admin_client, f"/admin/subscribers?list={world['news'].id}&state=active")
    assert set(rows(doc)) == {"ada@example.org"}

    define("plan", "text")
    for email in ("ada@example.org", "pat.pending@example.com"):
        subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == email))
        update_attributes(subscriber, {"plan": "pro"}, None)
    segment = create_segment("Pro readers", [world["news"]], 'attribs.plan = "pro"')
    db.session.commit()
    doc = parsed(admin_client, f"/admin/subscribers?segment={segment.id}")
    assert set(rows(doc)) == {"ada@example.org", "pat.pending@example.com"}
    # With a segment the page shows its rows at once and fetches the count (the slow part at 1M).
    (counting,) = doc.cssselect("#total")
    assert counting.cssselect("#total-count")[0].text_content() == "Counting…"
    assert admin_client.get(counting.get("data-count-url")).get_json() == {"value": 2, "exact": True}
    assert [o.text_content() for o in doc.cssselect("select[name=segment] option[selected]")] == ["Pro readers"]
    doc = parsed(admin_client, f"/admin/subscribers?segment={segment.id}&state=pending")
    assert set(rows(doc)) == {"pat.pending@example.com"}
    assert admin_client.get("/admin/subscribers?segment=999999").status_code == 404


def test_keyset_pages_keep_the_filters(admin_client, app):
    news = create_list("News")
    db.session.execute(
        insert(Subscriber),
        [{"email": f"reader{i:03d}@example.com", "name": f"R {i}", "created_at": utcnow()} for i in range(120)],
    )
    ids = db.session.scalars(select(Subscriber.id)).all()
    db.session.execute(
        insert(Subscription), [{"subscriber_id": i, "list_id": news.id, "status": "active"} for i in ids]
    )
    db.session.commit()
    first = parsed(admin_client, "/admin/subscribers?q=reader1")
    assert list(rows(first))[0] == "reader100@example.com" and len(rows(first)) == 20
    assert total(first) == ("20", True)
    doc = parsed(admin_client, "/admin/subscribers?q=reader")
    nxt = doc.cssselect("a[rel=next]")[0].get("href")
    assert "q=reader" in nxt
    second = parsed(admin_client, nxt)
    assert list(rows(second))[0] == "reader050@example.com"


def test_count_is_exact_below_the_limit_and_labelled_about_above(admin_client, app, monkeypatch):
    create_list("News")
    db.session.execute(insert(Subscriber), [{"email": f"c{i}@example.com", "created_at": utcnow()} for i in range(30)])
    db.session.commit()
    monkeypatch.setattr(browse, "EXACT_COUNT_LIMIT", 10)
    doc = parsed(admin_client, "/admin/subscribers")
    shown, exact = total(doc)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("ANALYZE subscribers"))
        doc = parsed(admin_client, "/admin/subscribers")
        shown, exact = total(doc)
        assert not exact and shown.startswith("about ")
        assert "about" in doc.get_element_by_id("total").text_content()
        shown, exact = total(parsed(admin_client, "/admin/subscribers?q=c1"))  # filtered: EXPLAIN's estimate
        assert not exact or shown == "11"
    else:
        assert (shown, exact) == ("30", True)  # SQLite counts exactly
    assert total(parsed(admin_client, "/admin/subscribers?q=c29")) == ("1", True)  # one match: exact


# --- bulk actions --------------------------------------------------------------------------------


def test_bulk_on_a_selection_asks_first_and_runs_in_the_request(admin_client, world):
    news, clients = world["news"], world["clients"]
    pat = db.session.scalar(select(Subscriber).where(Subscriber.email == "pat.pending@example.com"))
    quit_ = db.session.scalar(select(Subscriber).where(Subscriber.email == "quit_er@example.com"))
    data = {"action": "add", "target_list": clients.id, "scope": "selected", "ids": [pat.id, quit_.id]}
    ask = admin_client.post("/admin/subscribers/bulk", data=data)
    doc = lxml.html.fromstring(ask.get_data(as_text=True))
    assert ask.status_code == 200 and doc.cssselect("h1")[0].text_content() == "Add 2 subscribers to Clients?"
    assert db.session.get(Subscription, (pat.id, clients.id)) is None  # asking changed nothing
    done = admin_client.post("/admin/subscribers/bulk", data={**data, "confirm": "1"}, follow_redirects=True)
    assert "added 2" in done.get_data(as_text=True)
    assert db.session.get(Subscription, (pat.id, clients.id)).status == "active"

    remove = {"action": "remove", "target_list": news.id, "scope": "selected", "ids": [pat.id], "confirm": "1"}
    assert admin_client.post("/admin/subscribers/bulk", data=remove).status_code == 302
    assert db.session.get(Subscription, (pat.id, news.id)).status == "unsubscribed"
    assert db.session.get(Subscription, (pat.id, clients.id)).status == "active"

    define("tags", "list")
    update_attributes(pat, {"tags": "=SUM(A1); beta"}, None)
    db.session.commit()
    export = admin_client.post(
        "/admin/subscribers/bulk", data={"action": "export", "scope": "selected", "ids": [pat.id], "confirm": "1"}
    )
    assert export.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(r["email"], r["lists"]) for r in table] == [
        ("pat.pending@example.com", "Clients: active; News: unsubscribed")
    ]
    assert table[0]["attribs.tags"] == "'=SUM(A1); beta"  # written back as the importer reads it, formula-safe


def test_bulk_roles_csrf_and_bad_requests(app, editor_client, admin_client, world):
    ada = world["ada"]
    for action in ("erase", "suppress", "export"):
        data = {"action": action, "scope": "selected", "ids": [ada.id], "confirm": "1"}
        assert editor_client.post("/admin/subscribers/bulk", data=data).status_code == 403
    assert db.session.get(Subscriber, ada.id) is not None and not is_suppressed(ada.email)
    doc = parsed(editor_client, "/admin/subscribers")
    assert [o.get("value") for o in doc.cssselect("select[name=action] option")] == ["add", "remove", "unsubscribe"]
    data = {"action": "unsubscribe", "scope": "selected", "ids": [ada.id], "confirm": "1"}
    assert editor_client.post("/admin/subscribers/bulk", data=data).status_code == 302  # editors may unsubscribe
    assert is_suppressed(ada.email)
    assert admin_client.post("/admin/subscribers/bulk", data={"action": "add", "scope": "selected"}).status_code == 400
    no_list = {"action": "add", "scope": "selected", "ids": [ada.id]}
    assert admin_client.post("/admin/subscribers/bulk", data=no_list).status_code == 400
    assert admin_client.post("/admin/subscribers/bulk", data={"action": "x", "scope": "all"}).status_code == 400

    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = admin_client.post("/admin/subscribers/bulk", data={"action": "erase", "scope": "all", "confirm": "1"})
        assert (
            refused.status_code == 400
            and db.session.scalar(select(func.count()).where(Job.kind == "subscribers.bulk")) == 0
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _many(news, n: int, prefix: str = "m") -> None:
    now = utcnow()
    db.session.execute(
        insert(Subscriber),
        [{"email": f"{prefix}{i:05d}@bulk.example", "name": "", "created_at": now} for i in range(n)],
    )
    ids = db.session.scalars(select(Subscriber.id).where(Subscriber.email.like(f"{prefix}%@bulk.example"))).all()
    db.session.execute(
        insert(Subscription),
        [{"subscriber_id": i, "list_id": news.id, "status": "active", "created_at": now} for i in ids],
    )
    db.session.commit()


def test_bulk_on_all_matches_is_a_resumable_job(app, admin_client, monkeypatch):
    news, other = create_list("News"), create_list("Other")
    _many(news, 1234)
    monkeypatch.setattr(bulk, "BATCH", 100)
    search = {"q": "bulk.example", "scope": "all", "action": "add", "target_list": other.id}
    ask = admin_client.post("/admin/subscribers/bulk", data=search)
    assert lxml.html.fromstring(ask.data).cssselect("h1")[0].text_content() == "Add 1,234 subscribers to Other?"
    response = admin_client.post("/admin/subscribers/bulk", data={**search, "confirm": "1"})
    assert response.status_code == 302
    job = db.session.scalar(select(Job).where(Job.kind == "subscribers.bulk"))
    assert response.headers["Location"].endswith(f"/admin/subscribers/bulk/{job.id}")
    assert job.state == JobState.QUEUED  # nothing ran in the web process
    assert db.session.scalar(select(func.count()).where(Subscription.list_id == other.id)) == 0
    # someone who joins after the confirmation is not touched
    add_subscriber("late@bulk.example", "", news)

    # the worker dies after three batches: the next run resumes after them
    calls = Counter[str]()
    real = bulk._apply

    def dying(action, batch, *args):
        calls["batches"] += 1
        if calls["batches"] == 4:
            raise RuntimeError("worker killed")
        return real(action, batch, *args)

    monkeypatch.setattr(bulk, "_apply", dying)
    run_jobs(app)
    db.session.refresh(job)
    assert job.state == JobState.QUEUED and job.payload["processed"] == 300
    assert db.session.scalar(select(func.count()).where(Subscription.list_id == other.id)) == 300
    job.run_after = utcnow()
    db.session.commit()
    run_jobs(app)
    db.session.refresh(job)
    assert job.state == JobState.DONE, job.error
    assert db.session.scalar(select(func.count()).where(Subscription.list_id == other.id)) == 1234
    late = db.session.scalar(select(Subscriber).where(Subscriber.email == "late@bulk.example"))
    assert db.session.get(Subscription, (late.id, other.id)) is None
    status = admin_client.get(f"/admin/subscribers/bulk/{job.id}.json").json
    assert (status["state"], status["done"], status["total"], status["percent"]) == ("done", 1234, 1234, 100)
    doc = parsed(admin_client, f"/admin/subscribers/bulk/{job.id}")
    assert doc.cssselect("[data-field=summary]")[0].text_content() == "added 1,234"


def test_bulk_erase_and_export_of_all_matches(app, admin_client, editor_client, monkeypatch):
    news = create_list("News")
    _many(news, 250, "e")
    _many(news, 5, "keep")
    monkeypatch.setattr(bulk, "BATCH", 100)
    victim = db.session.scalar(select(Subscriber).where(Subscriber.email == "e00007@bulk.example"))
    issue_send = _delivery_for(victim, news)
    export = {"q": "e0", "scope": "all", "action": "export", "confirm": "1"}
    admin_client.post("/admin/subscribers/bulk", data=export)
    run_jobs(app)
    job = db.session.scalar(select(Job).where(Job.kind == "subscribers.bulk"))
    assert job.state == JobState.DONE, job.error
    assert editor_client.get(f"/admin/subscribers/bulk/{job.id}/export.csv").status_code == 403
    download = admin_client.get(f"/admin/subscribers/bulk/{job.id}/export.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv", download.get_data(as_text=True)
    table = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert len(table) == 250 and table[0]["email"] == "e00000@bulk.example" and table[0]["lists"] == "News: active"
    # the file holds personal data in bulk: the worker deletes it after a day
    from app.jobs.models import Upload

    assert bulk_export.drop_old_exports(bulk.KIND) == 0
    assert bulk_export.drop_old_exports(bulk.KIND, utcnow() + bulk_export.EXPORT_KEPT + timedelta(minutes=1)) == 1
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0
    assert admin_client.get(f"/admin/subscribers/bulk/{job.id}/export.csv").status_code == 404
    assert "was deleted a day after" in admin_client.get(f"/admin/subscribers/bulk/{job.id}").get_data(as_text=True)

    ask = admin_client.post("/admin/subscribers/bulk", data={"q": "e0", "scope": "all", "action": "erase"})
    heading = lxml.html.fromstring(ask.data).cssselect("h1")[0].text_content()
    assert heading == "Erase 250 subscribers? This cannot be undone"
    admin_client.post("/admin/subscribers/bulk", data={"q": "e0", "scope": "all", "action": "erase", "confirm": "1"})
    run_jobs(app)
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 5
    assert is_suppressed("e00007@bulk.example")  # through the erasure path: a hash stays
    row = db.session.scalar(select(Suppression).where(Suppression.email_hash == email_hash("e00007@bulk.example")))
    assert row.reason == "deleted" and row.email is None
    assert db.session.get(Delivery, issue_send).email == ""


def _delivery_for(subscriber: Subscriber, news) -> int:
    delivery = sent_delivery(subscriber, news)
    recount_sends()
    db.session.commit()
    return delivery.id
