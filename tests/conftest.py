"""Shared fixtures: app, database isolation, per-role clients, moto server,
a live server and headless Chromium.

The database is SQLite unless PRESSROOM_TEST_DATABASE_URL names another
(``make test`` runs the suite on both when it is set). The schema is built
once per session by the real Alembic migrations; each test starts from empty
tables.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.db import db

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
# The real newsletter corpus beside the checkout (CI has it; a clone may not).
# PRESSROOM_TEST_CORPUS points elsewhere, e.g. at nothing to try the suite without it.
CORPUS = Path(os.environ.get("PRESSROOM_TEST_CORPUS") or SHARED / "corpus")
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"needs the newsletter corpus at {CORPUS} (not part of this repository)"
)
ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "correct horse battery"

TEST_DATABASE_URL = os.environ.get("PRESSROOM_TEST_DATABASE_URL", "")
IS_POSTGRES = TEST_DATABASE_URL.startswith(("postgres://", "postgresql"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "postgres_only" in item.keywords and not IS_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-only: set PRESSROOM_TEST_DATABASE_URL"))
        if "sqlite_only" in item.keywords and IS_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="SQLite-only behaviour"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        _drop_everything(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "migrate", "TESTING": True})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield url


def _drop_everything(url: str) -> None:
    from app.config import _normalise_db_url

    engine = create_engine(_normalise_db_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def make_config(database_url: str, instance: Path, **overrides: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "BASE_URL": "http://127.0.0.1:5000",
        "MEDIA_URL": f"file://{instance / 'media'}",
        "TRANSPORT": f"outbox:{instance / 'outbox'}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        "POSTAL_ADDRESS": "1 Test Street, Testville",
    }
    config.update(overrides)
    return config


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Override entries in a test before the ``app`` fixture is built."""
    return make_config(database_url, tmp_path / "instance")


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production, so ``g``
    (and Flask-Login's cached user) is not shared with the test or with other
    clients. Afterwards the test's own session is expired so it re-reads
    whatever the request committed."""

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        try:
            _check_send_counts()
        finally:
            _empty_tables()
            db.engine.dispose()


@contextmanager
def another_app(config: dict[str, Any]) -> Iterator[Flask]:
    """A second app in a test (other settings), pushed; its engine is disposed
    afterwards, so no pooled connection is left for the garbage collector."""
    other = create_app(config)
    try:
        with other.app_context():
            yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def _check_send_counts() -> None:
    """Every test ends with each send's counts equal to its rows' states
    (the counts are kept by deltas, so any path that forgets one shows here)."""
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT send_id, status, count(*) FROM deliveries GROUP BY send_id, status")).all()
        kept = conn.execute(
            text("SELECT send_id, status, sum(n) FROM send_counts GROUP BY send_id, status HAVING sum(n) <> 0")
        ).all()
    actual = {(send_id, status): int(n) for send_id, status, n in rows}
    counted = {(send_id, status): int(n) for send_id, status, n in kept}
    assert counted == actual, f"send_counts disagree with the deliveries: {counted} != {actual}"


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def users(app: Flask) -> dict[str, Any]:
    from app.auth.service import create_user

    people = {
        "admin": create_user("admin@example.com", PASSWORD, "admin", "Ada Admin"),
        "editor": create_user("editor@example.com", PASSWORD, "editor", "Eddie Editor"),
        "editor2": create_user("editor2@example.com", PASSWORD, "editor", "Erin Editor"),
    }
    db.session.commit()
    return people


def login_client(app: Flask, user: Any) -> FlaskClient:
    """A client logged in as ``user`` through a real server-side session."""
    from app.auth.service import start_session

    client = app.test_client()
    start_session(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin_client(app: Flask, users: dict[str, Any]) -> FlaskClient:
    return login_client(app, users["admin"])


@pytest.fixture
def editor_client(app: Flask, users: dict[str, Any]) -> FlaskClient:
    return login_client(app, users["editor"])


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


# --- AWS through a real moto server over HTTP -------------------------------


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    yield url
    server.stop()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """boto3 pointed at moto server through the standard endpoint variables;
    moto state is reset after the test."""
    import requests

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for service in ("SESV2", "SES", "S3", "SNS"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", moto_server)
    yield moto_server
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)


# --- live server and Chromium ----------------------------------------------


class LiveServer:
    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import make_server

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The test app served over HTTP on a free port, with CSRF on as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = LiveServer(app)
    app.config["BASE_URL"] = server.url
    server.start()
    yield server
    server.stop()


CHROMIUM = os.environ.get("PRESSROOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def browser_login(page: Any, server: LiveServer, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.url}/admin/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def screenshots(page: Any, name: str, widths: tuple[int, ...] = (1280, 375)) -> None:
    """``name-<width>.png`` at each width (desktop, then phone); the viewport
    goes back to the first width for what the test does next."""
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": widths[0], "height": 900})


@pytest.fixture
def axe_page(browser: Any) -> Iterator[Any]:
    """A page whose context bypasses the CSP, only so tests/support/axe.py can inject
    axe-core; every other browser test keeps the real policy."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def job_loop(app: Flask) -> Iterator[None]:
    """The worker's job loop running beside a live server, as ``pressroom worker`` would."""
    import threading

    from app.jobs.loop import JobLoop

    stop = threading.Event()
    loop = JobLoop(app, "test-job-loop", stop, poll=0.1)
    loop.start()
    yield
    stop.set()
    loop.join(timeout=10)


def eventually(check: Any, timeout: float = 10.0) -> Any:
    """Poll ``check()`` until it returns something truthy (work done by a background loop)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)
