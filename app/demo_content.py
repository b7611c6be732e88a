"""Demo content beyond users; each domain adds its part here as it lands."""

from __future__ import annotations


def load_demo_content() -> list[str]:
    lines: list[str] = []
    from app.issues.demo import load_demo_issues

    lines += load_demo_issues()
    from app.events.demo import load_demo_events

    lines += load_demo_events()
    from app.reports.demo import load_demo_reports

    lines += load_demo_reports()
    from app.subscribers.demo import load_demo_subscribers

    lines += load_demo_subscribers()
    return lines
