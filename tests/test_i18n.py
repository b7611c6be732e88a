"""Readers' languages (issue 16): a German list's confirmation email and pages
are in German, a French browser gets the site in French when the lists do not
agree on one, the admin stays English, and the catalogues are complete and
compiled from what the code and templates say today."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.checkers import python_format
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import update

from app.db import db
from app.events.models import Event
from app.sending import service
from app.sending.worker import worker_for
from app.subscribers.lists import create_list
from app.subscribers.models import Subscriber, Subscription
from app.subscribers.service import unsubscribe_token_for
from tests.support.jobs import run_jobs
from tests.support.outbox import outbox_mails
from tests.support.sending import make_issue, make_list

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app/translations"
SHIPPED = ("de", "fr", "es")


def _po(path: Path):
    return read_po(BytesIO(path.read_bytes()))


def _key(value):
    return tuple(value) if isinstance(value, list) else value


def test_a_german_lists_confirmation_email_and_pages_are_german(app, client) -> None:
    club = create_list("ml-de", public=True)
    club.display_name, club.language = "Maschinelles Lernen kompakt", "de"
    db.session.commit()

    page = client.get("/subscribe").get_data(as_text=True)
    assert '<html lang="de">' in page and "E-Mail-Adresse" in page and ">Abonnieren<" in page
    done = client.post("/subscribe", data={"email": "leserin@example.de"}).get_data(as_text=True)
    assert "Sehen Sie in Ihr Postfach" in done
    run_jobs(app)
    [mail] = outbox_mails(app)
    assert str(mail["Subject"]) == "Bestätigen Sie Ihr Abonnement von Pressroom Newsletter"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Hallo,")
    assert "Jemand (hoffentlich Sie) hat diese Adresse für “Maschinelles Lernen kompakt” angemeldet." in text
    assert "Der Link gilt 7 Tage." in text

    path = re.search(r"https?://[^/\s]+(/confirm/\S+)", text).group(1)
    confirm = client.get(path).get_data(as_text=True)
    assert "Bestätigen Sie Ihr Abonnement" in confirm and "Ja, ich möchte abonnieren" in confirm
    assert "Sie sind angemeldet" in client.post(path).get_data(as_text=True)

    reader = db.session.query(Subscriber).filter_by(email="leserin@example.de").one()
    prefs = client.get(f"/unsubscribe/{unsubscribe_token_for(reader.id, club.id)}").get_data(as_text=True)
    assert "Maschinelles Lernen kompakt nicht mehr erhalten?" in prefs and "Auswahl speichern" in prefs
    bad = client.post("/subscribe", data={"email": "kein-at-zeichen"}).get_data(as_text=True)
    assert "Das ist keine gültige E-Mail-Adresse" in bad


def test_the_browser_decides_when_the_lists_do_not_agree(app, client, admin_client) -> None:
    create_list("en-list", public=True)
    create_list("fr-list", public=True).language = "fr"
    db.session.commit()
    home = client.get("/", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="fr">' in home and ">Archives</a>" in home and "Tous les numéros" in home
    english = client.get("/", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert '<html lang="en">' in english and ">Archive</a>" in english
    admin = admin_client.get("/admin/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Dashboard" in admin  # the admin stays English


def test_a_list_language_is_chosen_from_the_shipped_ones(app, admin_client) -> None:
    weekly = create_list("weekly")
    ok = admin_client.post(f"/admin/subscribers/lists/{weekly.id}", data={"name": "weekly", "language": "es"})
    assert ok.status_code in (302, 303)
    db.session.refresh(weekly)
    assert weekly.language == "es"
    refused = admin_client.post(f"/admin/subscribers/lists/{weekly.id}", data={"name": "weekly", "language": "xx"})
    assert refused.status_code == 400 and "Unknown language" in refused.get_data(as_text=True)


def test_catalogues_are_complete_current_and_compiled(tmp_path) -> None:
    pot = TRANSLATIONS / "messages.pot"
    fresh = tmp_path / "fresh.pot"
    keywords = ["-k", "_", "-k", "gettext", "-k", "ngettext:1,2", "-k", "lazy_gettext"]
    command = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", *keywords]
    command += ["--no-location", "--sort-output", "--omit-header", "-o", str(fresh), "."]
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
    wanted = {m.id for m in _po(fresh) if m.id}
    assert len(wanted) > 100
    assert wanted == {m.id for m in _po(pot) if m.id}, "run `make translations`"
    for language in SHIPPED:
        folder = TRANSLATIONS / language / "LC_MESSAGES"
        catalog = _po(folder / "messages.po")
        for message in catalog:
            if not message.id:
                continue
            assert message.id in wanted and message.string, (language, message.id)
            assert "fuzzy" not in message.flags, (language, message.id)
            python_format(catalog, message)  # raises when placeholders differ
        assert {m.id for m in catalog if m.id} == wanted, language
        compiled = {_key(m.id): _key(m.string) for m in read_mo(BytesIO((folder / "messages.mo").read_bytes())) if m.id}
        assert compiled == {m.id: m.string for m in catalog if m.id}, f"{language}: run `make translations`"


@pytest.mark.parametrize("language", SHIPPED)
def test_no_translation_drops_a_placeholder(language: str) -> None:
    catalog = _po(TRANSLATIONS / language / "LC_MESSAGES/messages.po")
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]", ids[-1]))
        for string in strings:
            assert set(re.findall(r"%\(\w+\)[sd]", string)) == wanted, (language, message.id, string)


def test_an_issue_to_a_german_list_speaks_german_around_its_text(app) -> None:
    readers = make_list("leser", 1)
    readers.display_name, readers.language = "Die Wochenausgabe", "de"
    db.session.execute(update(Subscription).values(confirmed_at=datetime(2026, 3, 4, 9, 0)))
    issue = make_issue()
    issue.lists = [readers]  # approval freezes the email in its lists' language
    db.session.commit()
    service.create_send(issue, [readers])
    db.session.commit()
    worker_for(app).run(once=True)
    [mail] = outbox_mails(app)
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="de"' in html and "Diese Ausgabe im Browser ansehen" in html
    assert "Sie erhalten diese E-Mail, weil Sie Die Wochenausgabe am 4. März 2026 abonniert haben." in html
    assert "Abmelden oder Abonnement verwalten" in html
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Diese Ausgabe im Browser ansehen:" in text and "am 4. März 2026 abonniert" in text


def test_event_dates_follow_the_site_language(app, client) -> None:
    create_list("ml-de", public=True).language = "de"
    db.session.add(Event(title="PyData Berlin", starts_at=datetime(2027, 1, 7, 17, 0), timezone="Europe/Berlin"))
    db.session.commit()
    page = client.get("/events").get_data(as_text=True)
    assert "Do. 7 Jan. 2027, 17:00" in page and "Zum Kalender hinzufügen" in page
    assert "Thu 7 Jan" not in page
