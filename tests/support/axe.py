"""Accessibility checks with axe-core in the browser tests.

axe-core comes from npm with a lock file (tests/axe, installed by ``make test``).
Injecting it needs a page whose browser context was made with ``bypass_csp=True``
(the admin's CSP allows no script from outside 'self'): use the ``axe_page``
fixture, or make such a context only for the check, so every other browser test
keeps the real policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

AXE_JS = Path(__file__).resolve().parent.parent / "axe/node_modules/axe-core/axe.min.js"
BLOCKING = ("critical", "serious")


def axe_available() -> bool:
    return AXE_JS.is_file()


def require_axe() -> None:
    if not axe_available():
        pytest.skip("axe-core is not installed: `make test` (npm ci --prefix tests/axe) installs it")


def violations(page: Any, context: str | dict | None = None) -> list[dict]:
    """axe's violations on the page as it is now (WCAG 2.x A/AA and best practices)."""
    require_axe()
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(
        """async (context) => {
            const result = await axe.run(context || document, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
              targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary) }));
        }""",
        context,
    )


def assert_no_serious_violations(page: Any, context: str | dict | None = None) -> None:
    """Fail with a readable list when axe finds any critical or serious violation."""
    found = [v for v in violations(page, context) if v["impact"] in BLOCKING]
    report = "\n".join(f"- {v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["targets"]) for v in found)
    assert not found, f"axe found {len(found)} critical/serious violation(s):\n{report}"
