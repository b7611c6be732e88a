"""axe-core over every admin page (issue 15): the demo's data loaded, every GET
route of the admin that answers HTML visited at desktop and phone width, 0
critical and 0 serious violations on each. The route list comes from the app's
URL map, so a new admin page is checked the day it is added (or this test fails
asking for an id to open it with)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import db
from app.demo_content import load_demo_content
from app.events.models import Event
from app.issues.models import Issue
from app.jobs.models import Job
from app.segments.models import Segment
from app.sending.models import Send
from app.subscribers.models import MailingList, Subscriber, SubscriberImport
from tests.conftest import browser_login
from tests.support.axe import BLOCKING, violations

pytestmark = pytest.mark.browser

NOT_PAGES = (".json", ".csv")  # data endpoints, not pages


def _first(model, *where) -> int:
    found = db.session.scalar(select(model.id).where(*where).order_by(model.id).limit(1))
    assert found is not None, f"the demo has no {model.__name__} to open"
    return found


def serious(found: list[dict]) -> list[dict]:
    return [v for v in found if v["impact"] in BLOCKING]


def admin_pages(app) -> list[str]:
    ids = {
        "issue_id": _first(Issue, Issue.status == "draft"),
        "event_id": _first(Event),
        "send_id": _first(Send, Send.started_at.is_not(None)),
        "subscriber_id": _first(Subscriber),
        "list_id": _first(MailingList),
        "job_id": _first(SubscriberImport),
        "segment_id": _first(Segment),
        "bulk_id": _first(Job, Job.kind == "subscribers.bulk"),
    }
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods or rule.rule.endswith(NOT_PAGES):
            continue
        if rule.endpoint == "admin.subscribers_import_columns":
            continue  # its upload exists only until imported: checked on the way, below
        missing = set(rule.arguments) - set(ids)
        assert not missing, f"{rule.rule}: give this test an id for {missing}"
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", str(ids[name]))
        if rule.endpoint == "admin.sends_new":
            path += f"?issue={ids['issue_id']}"
        if rule.endpoint != "auth.login":  # checked logged out below
            pages.append(path)
    return pages


def test_every_admin_page_has_no_serious_accessibility_violations(app, users, live_server, axe_page, tmp_path):
    load_demo_content()
    db.session.commit()
    page = axe_page
    page.goto(f"{live_server.url}/admin/login")
    found = {"/admin/login @1280": serious(violations(page))}
    browser_login(page, live_server, "admin@example.com")

    csv = tmp_path / "people.csv"  # an import, so its status page exists too
    csv.write_text("email,name,plan\nnew.reader@example.org,New Reader,pro\n", encoding="utf-8")
    page.goto(f"{live_server.url}/admin/subscribers/import")
    page.set_input_files("input[name=file]", str(csv))
    page.fill("input[name=list_name]", "Imported")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/subscribers/import/columns/*")  # the mapping step: an extra column
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        found[f"/admin/subscribers/import/columns @{width}"] = serious(violations(page))
    page.get_by_role("button", name="Import as active").click()
    page.wait_for_url("**/subscribers/imports/*")
    page.goto(f"{live_server.url}/admin/subscribers")  # a bulk job, so its page exists too
    page.get_by_label("Action").select_option("export")
    page.get_by_label("All", exact=False).last.check()
    page.get_by_role("button", name="Continue…").click()
    page.get_by_role("button", name="Export CSV", exact=False).click()
    page.wait_for_url("**/subscribers/bulk/*")

    pages = admin_pages(app)
    assert len(pages) >= 25
    for path in pages:
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, path
            page.wait_for_load_state("networkidle")
            found[f"{path} @{width}"] = serious(violations(page))
    bad = {where: v for where, v in found.items() if v}
    assert not bad, "\n".join(f"{where}: {v}" for where, v in bad.items())
    assert page.js_errors == []
