"""Audience end to end: a CSV with extra columns becomes typed attributes,
a segment selects readers by attribute and by engagement, and a send reaches
exactly the matching readers (never a suppressed or unsubscribed one)."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from email.utils import parseaddr
from pathlib import Path

import html5lib
import pytest
from sqlalchemy import delete, func, select

from app.db import db
from app.jobs.models import Upload
from app.sending.models import Delivery, Send
from app.subscribers.attributes import definitions
from app.subscribers.lists import find_list
from app.subscribers.models import AttributeDefinition, Subscriber, SubscriberImport, Subscription
from app.subscribers.suppression import suppress
from tests.support.jobs import run_jobs
from tests.support.sending import make_issue
from tests.test_sending import outbox_messages

NS = {"h": "http://www.w3.org/1999/xhtml"}

CSV = (
    "Email,Name,Plan,Country,Age,VIP,Tags,Renewal,Timezone,Postcode\n"
    "ada@example.org,Ada,pro,DE,36,yes,beta;press,2026-05-01,Europe/Berlin,01234\n"
    "bob@example.com,Bob,free,FR,17.5,no,beta,2026-06-01,Europe/Paris,75001\n"
    "cy@example.net,Cy,pro,US,52,no,,2026-07-01,America/New_York,10001\n"
    "dee@example.org,Dee,pro,FR,41,yes,press,,Europe/Paris,75002\n"
    "eve@example.com,Eve,gold,DE,29,no,beta|press,2026-01-31,,10115\n"
)


def parse(html: str):
    return html5lib.parse(html, namespaceHTMLElements=True)


def upload(admin_client, body: str, list_name: str = "News", status: str = "active"):
    response = admin_client.post(
        "/admin/subscribers/import",
        data={"file": (io.BytesIO(body.encode()), "people.csv"), "list_name": list_name, "status": status},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def mapping_rows(admin_client, location: str) -> dict[str, tuple[str, str, list[str]]]:
    """{column header: (proposed key, proposed type, sample values)} as the mapping page shows them."""
    page = parse(admin_client.get(location).get_data(as_text=True))
    rows = {}
    [table] = [t for t in page.iterfind(".//h:table", NS) if "columns" in t.get("class", "").split()]
    for row in table.iterfind("h:tbody/h:tr", NS):
        header = row.find("h:th", NS).text
        key = row.find(".//h:input[@type='text']", NS).get("value")
        select_ = row.find(".//h:select", NS)
        if select_ is not None:
            type_ = next(o.get("value") for o in select_.iterfind("h:option", NS) if o.get("selected") is not None)
        else:
            type_ = row.find(".//h:input[@type='hidden']", NS).get("value")
        samples = [c.text for c in row.iterfind(".//h:code", NS)]
        rows[header] = (key, type_, samples)
    return rows


def form_for(location: str, admin_client, **changes: str) -> dict[str, str]:
    """The mapping form as proposed, with ``changes`` (e.g. key-2='plan_name', skip-9='1')."""
    page = parse(admin_client.get(location).get_data(as_text=True))
    form = {}
    for field in page.iterfind(".//h:form//h:input", NS):
        if field.get("type") in ("text", "hidden"):
            form[field.get("name")] = field.get("value") or ""
        elif field.get("type") == "radio" and field.get("checked") is not None:
            form[field.get("name")] = field.get("value")
    for select_ in page.iterfind(".//h:form//h:select", NS):
        form[select_.get("name")] = next(
            o.get("value") for o in select_.iterfind("h:option", NS) if o.get("selected") is not None
        )
    form.update(changes)
    return form


def csv_file(name: str, text: str) -> str:
    """The CSV on disk, where the CLI reads it."""
    path = Path(tempfile.mkdtemp(prefix="pressroom-csv-")) / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def attributes_of(email: str) -> dict:
    db.session.expire_all()
    return db.session.scalar(select(Subscriber.attributes).where(Subscriber.email == email))


def test_csv_columns_are_proposed_typed_renamed_skipped_and_stored(app, admin_client):
    location = upload(admin_client, CSV)
    rows = mapping_rows(admin_client, location)
    assert rows == {
        "Plan": ("plan", "text", ["pro", "free", "pro", "pro", "gold"]),
        "Country": ("country", "text", ["DE", "FR", "US", "FR", "DE"]),
        "Age": ("age", "number", ["36", "17.5", "52", "41", "29"]),
        "VIP": ("vip", "boolean", ["yes", "no", "no", "yes", "no"]),
        "Tags": ("tags", "text", ["beta;press", "beta", "press", "beta|press"]),  # mixed separators: not a list
        "Renewal": ("renewal", "date", ["2026-05-01", "2026-06-01", "2026-07-01", "2026-01-31"]),
        "Timezone": ("time_zone", "text", ["Europe/Berlin", "Europe/Paris", "America/New_York", "Europe/Paris"]),
        "Postcode": ("postcode", "text", ["01234", "75001", "10001", "75002", "10115"]),  # leading zero: text
    }
    # The admin renames Country, makes Tags a list, skips Postcode.
    form = form_for(location, admin_client, **{"key-3": "country_code", "type-6": "list", "skip-9": "1"})
    response = admin_client.post(location, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    run_jobs(app)
    job = admin_client.get(response.headers["Location"] + ".json").json
    assert (job["state"], job["imported"], job["invalid"]) == ("done", 5, 0)
    assert attributes_of("eve@example.com")["tags"] == ["beta", "press"]  # each cell may use either separator
    assert attributes_of("ada@example.org") == {
        "plan": "pro",
        "country_code": "DE",
        "age": 36,
        "vip": True,
        "tags": ["beta", "press"],
        "renewal": "2026-05-01",
        "time_zone": "Europe/Berlin",
    }
    assert attributes_of("dee@example.org") == {
        "plan": "pro",
        "country_code": "FR",
        "age": 41,
        "vip": True,
        "tags": ["press"],
        "time_zone": "Europe/Paris",
    }  # an empty cell is "not set", not ""
    assert definitions() == {
        "time_zone": "text",
        "language": "text",
        "plan": "text",
        "country_code": "text",
        "age": "number",
        "vip": "boolean",
        "tags": "list",
        "renewal": "date",
    }
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0  # the upload is gone once imported


def test_a_cell_its_column_type_refuses_reports_the_row_and_imports_nothing_of_it(app, admin_client):
    location = upload(admin_client, "email,age,plan\nzed@example.org,12,pro\nyan@example.org,twelve,pro\n")
    assert mapping_rows(admin_client, location)["age"][1] == "text"  # "twelve" is not a number
    admin_client.post(location, data=form_for(location, admin_client, **{"type-1": "number"}))
    run_jobs(app)
    assert attributes_of("zed@example.org") == {"age": 12, "plan": "pro"}
    assert attributes_of("yan@example.org") is None  # not half imported
    job = db.session.scalar(select(SubscriberImport))
    assert job.invalid == 1 and "row" not in job.errors and "column age" in job.errors and "'twelve'" in job.errors


def test_mapping_refuses_reserved_duplicate_and_retyped_keys_and_keeps_the_upload(app, admin_client):
    location = upload(admin_client, CSV)
    for changes, message in (
        ({"key-2": "email"}, "reserved"),
        ({"key-2": "age"}, "both map to attribs.age"),
        ({"key-2": "9lives"}, "cannot be an attribute name"),
    ):
        response = admin_client.post(location, data=form_for(location, admin_client, **changes))
        assert response.status_code == 400 and message in response.get_data(as_text=True), changes
    assert db.session.scalar(select(func.count()).select_from(AttributeDefinition)) == 0  # nothing declared
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 1  # the file waits for a good mapping
    # A declared key keeps its type: age is a number, a later file cannot make it text.
    admin_client.post(location, data=form_for(location, admin_client, **{"type-6": "list"}))
    run_jobs(app)
    again = upload(admin_client, "email,age\nzed@example.org,unknown\n")
    assert mapping_rows(admin_client, again)["age"] == ("age", "number", ["unknown"])
    # Someone else cannot use my upload.
    upload_id = int(re.search(r"/columns/(\d+)", again).group(1))
    assert db.session.get(Upload, upload_id).created_by_id is not None


def test_reimport_overwrites_or_keeps_existing_values(app, admin_client, runner):
    path = csv_file("first.csv", "email,plan,age\nada@example.org,pro,36\n")
    assert runner.invoke(args=["subscribers", "import", path, "--list", "News"]).exit_code == 0
    path = csv_file("second.csv", "email,plan,age,country\nada@example.org,free,,DE\n")
    result = runner.invoke(args=["subscribers", "import", path, "--list", "News", "--existing", "keep"])
    assert result.exit_code == 0, result.output
    assert attributes_of("ada@example.org") == {"plan": "pro", "age": 36, "country": "DE"}  # only the gap filled
    result = runner.invoke(args=["subscribers", "import", path, "--list", "News"])
    assert "column 'plan' -> attribs.plan (text)" in result.output
    assert attributes_of("ada@example.org") == {"plan": "free", "age": 36, "country": "DE"}  # empty age: kept
    result = runner.invoke(
        args=["subscribers", "import", path, "--list", "News", "--attribute", "plan=tier", "--skip-column", "country"]
    )
    assert attributes_of("ada@example.org") == {"plan": "free", "tier": "free", "age": 36, "country": "DE"}


def test_export_writes_attributes_back_formula_safe(app, admin_client, runner):
    path = csv_file("people.csv", 'email,note,tags,vip\nada@example.org,"=HYPERLINK(""http://evil"")",beta;press,yes\n')
    assert runner.invoke(args=["subscribers", "import", path, "--list", "News"]).exit_code == 0
    news = find_list("News")
    rows = list(csv.DictReader(io.StringIO(admin_client.get(f"/admin/subscribers/lists/{news.id}/export.csv").text)))
    assert rows[0]["note"] == '\'=HYPERLINK("http://evil")"' or rows[0]["note"].startswith("'=")
    assert (rows[0]["tags"], rows[0]["vip"], rows[0]["time_zone"]) == ("beta; press", "true", "")
    # The export imports back to the same values.
    exported = admin_client.get(f"/admin/subscribers/lists/{news.id}/export.csv").text
    path = csv_file("exported.csv", exported)
    before = attributes_of("ada@example.org")
    result = runner.invoke(args=["subscribers", "import", path, "--list", "Copy", "--skip-column", "note"])
    assert result.exit_code == 0, result.output
    assert attributes_of("ada@example.org") == before


# --- segments and sends -------------------------------------------------------------


def import_people(app, runner) -> None:
    path = csv_file("people.csv", CSV)
    result = runner.invoke(args=["subscribers", "import", path, "--list", "News", "--attribute", "tags=tags:text"])
    assert result.exit_code == 0 and "5 imported" in result.output, result.output


def recipients(app, send: Send) -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(select(Delivery.email).where(Delivery.send_id == send.id, Delivery.status == "sent")))


def click_first_link(client, app, email: str) -> None:
    """The reader clicks the first tracked link of the newest email they got."""
    message = [m for m in outbox_messages(app) if parseaddr(m["To"])[1] == email][-1]
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    link = re.search(r'href="https?://[^/"]+(/r/[^"]+)"', html).group(1)
    assert client.get(link.replace("&amp;", "&")).status_code == 302


def test_segment_by_attribute_and_engagement_reaches_exactly_its_readers(app, runner, client):
    import_people(app, runner)
    first = make_issue("first")
    assert runner.invoke(args=["send", "first", "--list", "News"]).exit_code == 0
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    for reader in ("ada@example.org", "cy@example.net", "bob@example.com"):
        click_first_link(client, app, reader)
    assert first.id

    result = runner.invoke(
        args=[
            "segments", "create", "Engaged pros", "--list", "News",
            "--where", 'attribs.plan = "pro" AND clicked_in_last(1)',
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 readers now" in result.output and 'where attribs.plan = "pro" and clicked_in_last(1)' in result.output
    shown = runner.invoke(args=["segments", "show", "engaged-pros"]).output
    assert "reaches now: 2 readers" in shown and "ada@example.org" in shown and "cy@example.net" in shown

    suppress("cy@example.net", "complaint")  # matches, but suppression wins
    make_issue("second")
    result = runner.invoke(args=["send", "second", "--segment", "Engaged pros"])
    assert result.exit_code == 0, result.output
    assert "1 recipients" in result.output and "segment 'Engaged pros'" in result.output
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    second = db.session.scalar(select(Send).where(Send.issue.has(slug="second")))
    assert recipients(app, second) == {"ada@example.org"}
    assert second.segment_name == "Engaged pros" and second.recipient_count == 1

    # An attribute-only segment, with an unsubscribed reader who matches.
    runner.invoke(
        args=["segments", "create", "Europe over 30", "--list", "News",
              "--where", 'attribs.country in ["DE", "FR"] and attribs.age > 30 or attribs.tags contains "beta|press"']
    )  # fmt: skip
    dee = db.session.scalar(select(Subscriber).where(Subscriber.email == "dee@example.org"))
    db.session.execute(
        Subscription.__table__.update().where(Subscription.subscriber_id == dee.id).values(status="unsubscribed")
    )
    db.session.commit()
    make_issue("third")
    assert runner.invoke(args=["send", "third", "--segment", "europe-over-30"]).exit_code == 0
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    third = db.session.scalar(select(Send).where(Send.issue.has(slug="third")))
    assert recipients(app, third) == {"ada@example.org", "eve@example.com"}  # eve by her tags text


def test_send_cli_refuses_both_or_neither_and_unknown_segments(app, runner):
    make_issue("one")
    assert "not both" in runner.invoke(args=["send", "one"]).output
    assert "No segment 'nope'" in runner.invoke(args=["send", "one", "--segment", "nope"]).output
    result = runner.invoke(args=["segments", "create", "x", "--list", "nope", "--where", "name is set"])
    assert result.exit_code != 0 and "No list 'nope'" in result.output


def test_segments_cli_refuses_bad_expressions_with_the_column(app, runner):
    import_people(app, runner)
    for expression, message in (
        ("attribs.plan = 3", "(column 16)"),
        ('emial = "x"', "unknown field 'emial'"),
        ('attribs.colour = "red"', "attribs.colour"),
        ('name = "x"); DROP TABLE subscribers; --', "column"),
    ):
        result = runner.invoke(args=["segments", "create", "bad", "--list", "News", "--where", expression])
        assert result.exit_code != 0 and message in result.output, (expression, result.output)
    assert runner.invoke(args=["segments", "list"]).output.startswith("No segments yet")
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 5


def test_a_segment_send_that_no_longer_compiles_pauses_instead_of_mailing_the_list(app, runner):
    import_people(app, runner)
    runner.invoke(args=["segments", "create", "Pros", "--list", "News", "--where", 'attribs.plan = "pro"'])
    make_issue("later")
    assert runner.invoke(args=["send", "later", "--segment", "pros"]).exit_code == 0
    db.session.execute(delete(AttributeDefinition).where(AttributeDefinition.key == "plan"))  # undeclared since
    db.session.commit()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    send = db.session.scalar(select(Send).where(Send.issue.has(slug="later")))
    db.session.refresh(send)
    assert send.status == "paused" and "attribs.plan" in send.pause_reason
    assert db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.send_id == send.id)) == 0
    assert outbox_messages(app) == []


# --- the admin ------------------------------------------------------------------------


def test_admin_segment_editor_preview_and_send_to_a_segment(app, admin_client, runner):
    import_people(app, runner)
    news = find_list("News")
    preview = admin_client.post(
        "/admin/segments/preview",
        json={"lists": [news.id], "expression": 'attribs.plan = "pro" and attribs.vip = true'},
    )
    assert preview.status_code == 200
    assert preview.json == {
        "count": 2,
        "sample": ["ada@example.org", "dee@example.org"],
        "canonical": 'attribs.plan = "pro" and attribs.vip = true',
    }
    for expression, column in (("attribs.plan = ", 16), ('attribs.age > "x"', 15), ("plan = 1", 1)):
        bad = admin_client.post("/admin/segments/preview", json={"lists": [news.id], "expression": expression})
        assert bad.status_code == 422 and bad.json["column"] == column, (expression, bad.json)
    assert admin_client.post("/admin/segments/preview", data="{not json").status_code == 422  # never a 500

    created = admin_client.post(
        "/admin/segments/new",
        data={"name": "VIP pros", "list": news.id, "expression": 'attribs.vip = true and attribs.plan = "pro"'},
    )
    assert created.status_code == 303
    editor = parse(admin_client.get(created.headers["Location"]).get_data(as_text=True))
    assert editor.find(".//h:textarea[@name='expression']", NS).text == 'attribs.vip = true and attribs.plan = "pro"'
    refused = admin_client.post(
        "/admin/segments/new", data={"name": "VIP pros", "list": news.id, "expression": "name is set"}
    )
    assert refused.status_code == 422 and "already a segment" in refused.get_data(as_text=True)
    segment_id = int(created.headers["Location"].rstrip("/").split("/")[-1])

    issue = make_issue("vip-issue")
    form = admin_client.get(f"/admin/sends/new?issue={issue.id}").get_data(as_text=True)
    assert "VIP pros (News)" in form
    confirm = admin_client.post(
        "/admin/sends/new", data={"issue": issue.id, "when": "now", "audience": "segment", "segment": segment_id}
    )
    page = parse(confirm.get_data(as_text=True))
    assert page.find(".//*[@id='confirm-recipients']", NS).text == "2"
    assert page.find(".//*[@id='confirm-segment']", NS).text == "VIP pros"
    done = admin_client.post(
        "/admin/sends/new",
        data={"issue": issue.id, "when": "now", "audience": "segment", "segment": segment_id, "step": "create"},
    )
    assert done.status_code == 303
    run_jobs(app)
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    send = db.session.scalar(select(Send).where(Send.issue_id == issue.id))
    assert recipients(app, send) == {"ada@example.org", "dee@example.org"}
    detail = admin_client.get(f"/admin/sends/{send.id}").get_data(as_text=True)
    assert "VIP pros" in detail and "as it read when the send started" in detail

    gone = admin_client.post(
        "/admin/sends/new", data={"issue": make_issue("x").id, "when": "now", "audience": "segment", "segment": 999}
    )
    assert gone.status_code == 422 and "No such segment" in gone.get_data(as_text=True)
    assert admin_client.post(f"/admin/segments/{segment_id}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.get(Send, send.id).segment_name == "VIP pros"  # the send keeps what it was for


@pytest.mark.parametrize(
    "hostile", ["'; DROP TABLE subscribers; --", '"\\u0000"', "x" * 5000, "(" * 40 + "name is set"]
)
def test_hostile_preview_input_is_refused_or_harmless(app, admin_client, runner, hostile):
    import_people(app, runner)
    news = find_list("News")
    response = admin_client.post("/admin/segments/preview", json={"lists": [news.id], "expression": hostile})
    if "\\u0000" in hostile:  # NUL is refused before any view sees it
        assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    else:
        assert response.status_code == 422 and response.json["error"]
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 5
