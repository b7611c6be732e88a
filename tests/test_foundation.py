from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app import create_app
from app.auth.models import User
from app.db import db
from tests.conftest import PASSWORD, another_app, csrf_token_from, login_client


def test_config_overrides_and_env(monkeypatch, app_config):
    monkeypatch.setenv("PRESSROOM_NEWSLETTER_NAME", "From Env")
    monkeypatch.setenv("PRESSROOM_REQUIRE_APPROVAL", "false")
    app = create_app({**app_config, "BASE_URL": "https://news.example.org"})
    assert app.config["NEWSLETTER_NAME"] == "From Env"
    assert app.config["REQUIRE_APPROVAL"] is False
    assert app.config["BASE_URL"] == "https://news.example.org"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_migrations_match_models(app):
    """The models and the Alembic history describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.db import for_this_dialect

    with db.engine.connect() as conn:
        opts = {"compare_type": True, "include_object": for_this_dialect(conn.dialect.name)}
        context = MigrationContext.configure(conn, opts=opts)
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_login_page_and_anonymous_redirect(client):
    assert client.get("/admin/login").status_code == 200
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_login_wrong_password_then_rate_limited(client, users):
    for _ in range(5):
        response = client.post("/admin/login", data={"email": "admin@example.com", "password": "nope"})
        assert response.status_code == 401
        assert "Wrong email or password" in response.get_data(as_text=True)
    response = client.post("/admin/login", data={"email": "admin@example.com", "password": PASSWORD})
    assert response.status_code == 429


def test_login_success_and_open_redirect_refused(client, users):
    response = client.post(
        "/admin/login?next=//evil.example.com/x", data={"email": "ADMIN@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_editor_cannot_manage_users(editor_client, admin_client):
    assert editor_client.get("/admin/users").status_code == 403
    assert editor_client.post("/admin/users", data={"email": "x@example.com"}).status_code == 403
    assert editor_client.get("/admin/settings").status_code == 403
    assert admin_client.get("/admin/users").status_code == 200


def test_admin_creates_user(admin_client):
    response = admin_client.post(
        "/admin/users", data={"email": "new@example.com", "name": "New", "role": "editor", "password": "long enough pw"}
    )
    assert response.status_code == 302
    assert db.session.scalar(select(User).where(User.email == "new@example.com")).role == "editor"


def test_password_change_ends_other_sessions(app, users):
    first = login_client(app, users["editor"])
    second = login_client(app, users["editor"])
    assert second.get("/admin/").status_code == 200
    response = first.post(
        "/admin/account", data={"current": PASSWORD, "new": "a brand new password", "confirm": "a brand new password"}
    )
    assert response.status_code == 302
    assert first.get("/admin/").status_code == 200
    assert second.get("/admin/").status_code == 302  # back to login


def test_security_headers(client):
    response = client.get("/admin/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_every_admin_post_needs_csrf(csrf_app, users):
    """Every POST route under /admin refuses a request without a CSRF token."""
    client = login_client(csrf_app, users["admin"])
    post_rules = [
        r for r in csrf_app.url_map.iter_rules() if "POST" in (r.methods or set()) and r.rule.startswith("/admin")
    ]
    assert len(post_rules) >= 4
    for rule in post_rules:
        url = re.sub(r"<(?:\w+:)?(\w+)>", "1", rule.rule)
        response = client.post(url, data={"x": "1"})
        assert response.status_code == 400, f"{rule.rule} accepted a POST without CSRF token"


def test_csrf_token_works_when_present(csrf_app, users):
    client = login_client(csrf_app, users["admin"])
    token = csrf_token_from(client.get("/admin/settings").get_data(as_text=True))
    response = client.post(
        "/admin/settings",
        data={
            "csrf_token": token,
            "newsletter_name": "Weekly",
            "events_window_days": "30",
            "reader_timezone": "Europe/Berlin",
        },
    )
    assert response.status_code == 302


def test_users_create_cli(runner):
    result = runner.invoke(
        args=["users", "create", "cli@example.com", "--role", "admin", "--password-stdin"], input="a long password\n"
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == "cli@example.com")).role == "admin"
    result = runner.invoke(args=["users", "create", "cli@example.com", "--password-stdin"], input="another pw x\n")
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_error_pages(client, editor_client):
    response = client.get("/no-such-page")  # a reader's wrong address: the site's own page
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "This page does not exist" in page and 'href="/issues/"' in page and "public.css" in page
    german = client.get("/issues/no-such-issue", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="de">' in german and "Diese Seite gibt es nicht" in german
    admin = editor_client.get("/admin/no-such-page")
    assert admin.status_code == 404 and "Not Found" in admin.get_data(as_text=True)  # the admin's plain page


def test_behind_a_proxy_rate_limits_key_on_the_real_client(app_config, users):
    wrong = {"email": "admin@example.com", "password": "nope"}
    with another_app({**app_config, "PROXY_COUNT": 1}) as app:
        client = app.test_client()
        for _ in range(5):
            client.post("/admin/login", data=wrong, headers={"X-Forwarded-For": "203.0.113.7"})
        assert client.post("/admin/login", data=wrong, headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
        # Another client behind the same proxy is not locked out by the first one's guesses.
        assert (
            client.post(
                "/admin/login",
                data={"email": "admin@example.com", "password": PASSWORD},
                headers={"X-Forwarded-For": "198.51.100.9"},
            ).status_code
            == 302
        )
