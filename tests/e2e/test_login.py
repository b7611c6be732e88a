"""The admin shell in real Chromium: log in, see the dashboard, log out; a
wrong password is explained and rapid guessing is cut off."""

from __future__ import annotations

import pytest

from tests.conftest import browser_login, screenshot

pytestmark = pytest.mark.browser


def test_login_dashboard_logout(live_server, page, users):
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login" in page.url  # anonymous users are sent to the login page
    browser_login(page, live_server, "editor@example.com")
    page.wait_for_selector("h1:has-text('Dashboard')")
    # Editors do not see the admin-only navigation.
    assert page.locator("header.topbar nav a", has_text="Users").count() == 0
    screenshot(page, "dashboard")
    page.click("button:has-text('Log out')")
    page.wait_for_selector("text=You are logged out.")
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login" in page.url
    assert page.js_errors == []


def test_wrong_password_then_sixth_attempt_refused(live_server, page, users):
    for _ in range(5):
        browser_login(page, live_server, "admin@example.com", "not the password")
        page.wait_for_selector("text=Wrong email or password.")
    browser_login(page, live_server, "admin@example.com")  # even the right password: too many tries
    page.wait_for_selector("text=Too many login attempts")
    assert "/admin/login" in page.url
