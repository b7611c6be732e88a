"""Demo content beyond users; each domain adds its part here as it lands."""

from __future__ import annotations

from app.events.demo import load_demo_events
from app.issues.demo import load_demo_issues
from app.reports.demo import load_demo_reports
from app.segments.demo import load_demo_segments
from app.settings import get_setting, set_setting
from app.subscribers.demo import load_demo_subscribers

DEMO_POSTAL_ADDRESS = "Pressroom demo, 1 Example Street, Springfield"
DEMO_DESCRIPTION = "Weekly notes on applied machine learning: what we read, built and learned."


def load_demo_content() -> list[str]:
    lines: list[str] = []
    if not get_setting("postal_address"):
        # Every bulk email must carry one (CAN-SPAM, CASL); the demo's is an example to replace.
        set_setting("postal_address", DEMO_POSTAL_ADDRESS)
        lines.append(f"postal address set to the example {DEMO_POSTAL_ADDRESS!r} (Settings)")

    if not get_setting("site_description"):
        set_setting("site_description", DEMO_DESCRIPTION)
        lines.append("site description set (Settings): the public home page shows it")

    lines += load_demo_issues()

    lines += load_demo_events()

    lines += load_demo_reports()

    lines += load_demo_subscribers()

    lines += load_demo_segments()
    return lines
