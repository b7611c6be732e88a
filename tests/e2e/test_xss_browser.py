"""Security sweep (issue 10), XSS in real Chromium: every payload of
tests/support/xss.py stored in every editor-controlled field, then every admin
page (including the editor's sandboxed preview frames) and every public page is
loaded. No dialog may open, ``window.__xss`` must stay undefined in every frame,
and the browser must report no blocked script (a CSP violation would mean
markup got through and only the policy stopped it)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import browser_login
from tests.support import xss

pytestmark = pytest.mark.browser

# Records what the Content-Security-Policy blocked, in every frame that runs scripts.
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  const entry = e.effectiveDirective + ' ' + e.blockedURI + ' ' + (e.sample || '');
  (window.__csp = window.__csp || []).push(entry);
});
"""


def _executed(page: Any) -> list[str]:
    found = []
    for frame in page.frames:
        for attempt in range(3):
            try:
                state = frame.evaluate(
                    "() => [typeof window.__xss, (window.__csp || []).filter(v => v.startsWith('script'))]"
                )
                break
            except Exception as exc:  # noqa: BLE001
                # A preview frame navigating to its new srcdoc: look again once it has loaded.
                if attempt == 2 or "context was destroyed" not in str(exc):
                    raise
                frame.wait_for_load_state("load")
        if state[0] != "undefined":
            found.append(f"window.__xss set in {frame.url[:80]}")
        found += [f"CSP blocked in {frame.url[:80]}: {v[:100]}" for v in state[1]]
    return found


def _poll(page: Any, predicate: str) -> None:
    """Wait until ``predicate`` holds (a CSP violation event is dispatched asynchronously)."""
    for _ in range(100):
        if page.evaluate(predicate):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {predicate}")


def test_no_payload_executes_on_any_admin_or_public_page(live_server, page, users):
    hostile = xss.seed(users)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(f"{page.url}: {dialog.message}"), dialog.dismiss()))
    page.context.add_init_script(CSP_LISTENER)
    browser_login(page, live_server, "admin@example.com")
    page.wait_for_selector("h1:has-text('Dashboard')")

    problems: list[str] = []
    visited = 0
    for path in xss.admin_pages(hostile) + xss.public_pages(hostile):
        if path == "/events.ics":
            continue  # a download, not a page: tests/test_security_xss.py parses it
        response = page.goto(live_server.url + path, wait_until="load")
        assert response is not None and response.status == 200, (path, response and response.status)
        if path.startswith("/admin/issues/") and path.rstrip("0123456789") == "/admin/issues/":
            # The editor renders the sanitised email and web previews into sandboxed frames.
            page.wait_for_function(
                "() => document.getElementById('preview-email').srcdoc.length > 0"
                " && document.getElementById('preview-web').srcdoc.length > 0"
            )
        problems += [f"{path}: {p}" for p in _executed(page)]
        visited += 1
    assert dialogs == []
    assert problems == []
    assert not [e for e in page.js_errors if "xss" in e.lower()]
    assert visited == len(xss.admin_pages(hostile)) + len(xss.public_pages(hostile)) - 1

    # Controls: the probes do see an executed payload and a script the policy blocked.
    page.goto(f"{live_server.url}/admin/issues")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__xss = 1';"
        " document.body.append(s); }"
    )
    _poll(page, "() => (window.__csp || []).length > 0")
    assert any("CSP blocked" in p for p in _executed(page))
    page.goto("about:blank")  # no policy here, so the payload runs
    page.set_content("<img src=x onerror='window.__xss = 1'>")
    _poll(page, "() => window.__xss === 1")
    assert any("window.__xss set" in p for p in _executed(page))
