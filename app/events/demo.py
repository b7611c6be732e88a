"""Demo events, relative to now so the section always has something to show."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.db import utcnow
from app.events.service import EventData, create_event


def load_demo_events() -> list[str]:
    now = utcnow()

    def day(offset: int, hour: int) -> datetime:
        """Wall time ``hour``:00 on the day ``offset`` days from now (in the event's zone)."""
        return (now + timedelta(days=offset)).replace(hour=hour, minute=0, second=0, microsecond=0)

    demos = [
        EventData(
            title="Strata Data Conference",
            url="https://conferences.example.com/strata-ny",
            start=day(12, 14),
            end=day(12, 15),
            timezone="America/New_York",
            location="New York",
            speakers="Micha",
            description="Interpretability in production.",
        ),
        EventData(
            title="Deep Learning for Anomaly Detection (webinar)",
            url="https://webinars.example.com/dl-ad",
            start=day(20, 10),
            end=day(20, 11),
            timezone="America/Los_Angeles",
            location="online",
            speakers="Victor and Nisha",
        ),
        EventData(
            title="PyData Berlin",
            url="https://pydata.example.org/berlin",
            start=day(35, 0),
            end=day(37, 0),
            timezone="Europe/Berlin",
            all_day=True,
            location="Berlin",
            speakers="Shioulin",
        ),
    ]
    for data in demos:
        create_event(data)
    return [f"events: {len(demos)} upcoming demo events"]
