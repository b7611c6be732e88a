"""Demo content beyond users; each domain adds its part here as it lands."""

from __future__ import annotations

from app.events.demo import load_demo_events
from app.issues.demo import load_demo_issues
from app.reports.demo import load_demo_reports
from app.subscribers.demo import load_demo_subscribers


def load_demo_content() -> list[str]:
    lines: list[str] = []

    lines += load_demo_issues()

    lines += load_demo_events()

    lines += load_demo_reports()

    lines += load_demo_subscribers()
    return lines
