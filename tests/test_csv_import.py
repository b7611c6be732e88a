"""CSV import / export: a hostile file, dedupe, suppression, CSV injection."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from app.db import db
from app.subscribers.csv_import import import_csv
from app.subscribers.lists import create_list, find_list
from app.subscribers.models import Subscriber, Subscription
from app.subscribers.service import add_subscriber
from app.subscribers.suppression import suppress
from tests.support.jobs import run_jobs
from tests.test_signup import mails

LONG = "x" * 10_000


def hostile_csv() -> bytes:
    lines = [
        "\ufeffE-mail,Full Name,Notes".encode(),  # 1 BOM + aliased headers
        b"good1@example.com,Good One,",  # 2
        b"not-an-email,Bad,",  # 3 invalid
        b"GOOD1@Example.com,Dup,",  # 4 duplicate of 2
        b'good2@example.com,"=HYPERLINK(""http://evil"")",',  # 5 formula: kept, neutralised on export
        f"good3@example.com,{LONG},".encode(),  # 6 10,000-char name: rejected
        f"{LONG}@example.com,Long,".encode(),  # 7 10,000-char address
        "caf\xe9@example.com,Latin1 Bytes,".encode("latin-1"),  # 8 wrong encoding
        b"suppressed@example.com,Blocked,",  # 9 suppressed: skipped and counted
        b"existing@example.com,Renamed?,",  # 10 already on the list: untouched
        b",no address,",  # 11
        b"",  # blank line: ignored
        f"good4@example.com,J\xfcrgen {LONG[:5]},{LONG}".encode(),  # 13 UTF-8 name, long ignored column
    ]
    return b"\r\n".join(lines) + b"\r\n"


def test_hostile_file(app):
    news = create_list("News")
    add_subscriber("existing@example.com", "Existing", news)
    suppress("suppressed@example.com", "complaint")
    before = db.session.scalar(select(Subscriber).where(Subscriber.email == "existing@example.com"))
    before_state = (before.name, before.subscriptions[0].status, before.subscriptions[0].source)

    result = import_csv(io.BytesIO(hostile_csv()), "News", "active")

    rows = dict(result.errors)
    assert set(rows) == {3, 4, 6, 7, 8, 11}, result.errors
    assert "not a valid email" in rows[3] and "duplicate of row 2" in rows[4]
    assert "200" in rows[6] and "UTF-8" in rows[8]
    assert (result.imported, result.already, result.suppressed, result.duplicates) == (3, 1, 1, 1)
    emails = set(db.session.scalars(select(Subscriber.email)))
    assert emails == {"existing@example.com", "good1@example.com", "good2@example.com", "good4@example.com"}
    good4 = db.session.scalar(select(Subscriber).where(Subscriber.email == "good4@example.com"))
    assert good4.name == "Jürgen xxxxx"
    assert all(s.status == "active" and s.confirmed_at for s in good4.subscriptions)
    after = db.session.scalar(select(Subscriber).where(Subscriber.email == "existing@example.com"))
    assert (after.name, after.subscriptions[0].status, after.subscriptions[0].source) == before_state
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 4


def test_duplicates_across_batches_and_pending_mails(app, monkeypatch):
    import app.subscribers.csv_import as module

    monkeypatch.setattr(module, "BATCH_ROWS", 2)
    data = b"email,name\na@example.com,A\nb@example.com,B\nc@example.com,C\nA@example.com,again\n"
    result = import_csv(io.BytesIO(data), "Brand New", "pending")
    run_jobs(app)
    assert find_list("Brand New") is not None
    assert (result.imported, result.duplicates) == (3, 1)
    assert [r for r, _ in result.errors] == [5]
    statuses = set(db.session.scalars(select(Subscription.status)))
    assert statuses == {"pending"}
    assert sorted(m["To"] for m in mails(app)) == ["a@example.com", "b@example.com", "c@example.com"]


def test_not_utf8_header_and_missing_email_column(app, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("courriel\xe9,nom\n".encode("latin-1"))
    result = runner.invoke(args=["subscribers", "import", str(path), "--list", "News"])
    assert result.exit_code == 1 and "UTF-8" in result.output
    path.write_bytes(b"who,what\nx,y\n")
    result = runner.invoke(args=["subscribers", "import", str(path), "--list", "News"])
    assert result.exit_code == 1 and "no email column" in result.output
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_cli_import_export_neutralises_formulas(app, runner, tmp_path):
    assert runner.invoke(args=["lists", "create", "Weekly", "--public"]).exit_code == 0
    assert find_list("Weekly").public is True
    assert runner.invoke(args=["lists", "create", "Weekly"]).exit_code == 1
    path = tmp_path / "in.csv"
    path.write_text(
        "Email Address,Name\nf1@example.com,=1+2\nf2@example.com,@SUM(A1)\n"
        'f3@example.com,+cmd\nf4@example.com,-2\nf5@example.com,"\tTab"\nf6@example.com,Plain\n'
        "bad,Bad\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["subscribers", "import", str(path), "--list", "Weekly", "--status", "active"])
    assert result.exit_code == 0, result.output
    assert "row 8:" in result.output and "6 imported" in result.output
    exported = runner.invoke(args=["subscribers", "export", "--list", "Weekly"])
    assert exported.exit_code == 0
    rows = list(csv.reader(io.StringIO(exported.output)))
    assert rows[0][:3] == ["email", "name", "status"]
    names = {row[0]: row[1] for row in rows[1:]}
    assert names == {
        "f1@example.com": "'=1+2",
        "f2@example.com": "'@SUM(A1)",
        "f3@example.com": "'+cmd",
        "f4@example.com": "'-2",
        "f5@example.com": "Tab",
        "f6@example.com": "Plain",
    }
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_neutralise_every_prefix():
    from app.subscribers.csv_export import neutralise

    for value in ("=x", "+x", "-x", "@x", "\tx", "\rx"):
        assert neutralise(value) == "'" + value
    assert neutralise("plain") == "plain" and neutralise(None) == ""


def test_semicolon_and_tab_separated_files(app):
    result = import_csv(io.BytesIO(b"Name;E-Mail\r\nAnn, the first;ann@example.com\r\n"), "News")
    tabbed = import_csv(io.BytesIO(b"email\tfirst name\tlast name\nbo@example.com\tBo\tB\n"), "News")
    assert (result.imported, tabbed.imported) == (1, 1)
    names = dict(db.session.execute(select(Subscriber.email, Subscriber.name)).all())
    assert names == {"ann@example.com": "Ann, the first", "bo@example.com": "Bo B"}
