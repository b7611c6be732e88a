"""The subscriber search as the admin's forms and links write it (``q``,
``list``, ``state``, ``segment``), turned into :class:`browse.Filters`. The
segment's condition is compiled here, at the admin's layer, because the
subscribers package may not import segments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.numbers import parse_id
from app.segments.models import Segment
from app.segments.store import compile_expression, get_segment
from app.subscribers.browse import STATES, Filters


@dataclass
class Search:
    filters: Filters
    params: dict[str, Any]  # what links and hidden fields carry (only the set ones)
    segment: Segment | None

    def frozen(self) -> dict[str, Any]:
        """The search as a bulk job keeps it: the segment's text and lists as of now."""
        saved: dict[str, Any] = {k: self.params.get(k) for k in ("q", "list", "state")}
        if self.segment is not None:
            saved["segment"] = {
                "id": self.segment.id,
                "name": self.segment.name,
                "expression": self.segment.expression,
                "lists": [mailing_list.id for mailing_list in self.segment.lists],
            }
        return saved


def parse_search(values: Mapping[str, str]) -> Search:
    """From query arguments or a form. ``status`` is the old name of ``state``
    (links from before states were derived keep working)."""
    q = (values.get("q") or "").strip()[:200]
    list_id = parse_id(values.get("list") or "")
    state = values.get("state") or values.get("status") or None
    state = state if state in STATES else None
    segment_id = parse_id(values.get("segment") or "")
    segment = get_segment(segment_id) if segment_id else None
    condition = None
    within: tuple[int, ...] = ()
    if segment is not None:
        within = tuple(mailing_list.id for mailing_list in segment.lists)
        condition = compile_expression(segment.expression, list(within))
    params = {k: v for k, v in (("q", q), ("list", list_id), ("state", state), ("segment", segment_id)) if v}
    return Search(Filters(q, list_id, state, condition, within), params, segment)
