"""A demo segment over the demo list, so the Segments page and the send
form's "Only a segment" have something to show."""

from __future__ import annotations

from app.db import db
from app.segments.store import create_segment, find_segment
from app.subscribers.lists import find_list

DEMO_SEGMENT = ("Pro readers", 'attribs.plan = "pro"')


def load_demo_segments() -> list[str]:
    name, expression = DEMO_SEGMENT
    mailing_list = find_list("subscribers")
    if mailing_list is None or find_segment(name) is not None:
        return []
    create_segment(name, [mailing_list], expression)
    db.session.commit()
    return [f"segments: {name!r} ({expression}) over the subscribers list"]
