"""One way to read an id, a page or a count from the outside world.

``str.isdigit()`` accepts "²" and "٣" (which ``int()`` then refuses or reads
as 3), Werkzeug's ``int`` converter matches any Unicode digit, and a number of
thirty digits overflows every database column after it: all of these were
500s. Only ASCII digits within the column's range count; anything else is "no
such thing" (404) or a clear 400, decided by the caller."""

from __future__ import annotations

import re
from collections.abc import Iterable

from werkzeug.routing import BaseConverter, ValidationError

__all__ = ["MAX_BIG_ID", "MAX_ID", "IdConverter", "parse_id", "parse_ids", "parse_int"]

MAX_ID = 2**31 - 1  # INTEGER primary keys
MAX_BIG_ID = 2**63 - 1  # BIGINT ones (deliveries, events, jobs)
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_int(value: object, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """``value`` as an int when it is ASCII digits (or an int) within [low, high], else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if low <= number <= high else None


def parse_id(value: object, high: int = MAX_ID) -> int | None:
    return parse_int(value, low=1, high=high)


def parse_ids(values: Iterable[object], high: int = MAX_ID) -> list[int] | None:
    """Every value as an id, or None if any is not one."""
    ids = [parse_id(value, high) for value in values]
    return None if any(i is None for i in ids) else [i for i in ids if i is not None]


class IdConverter(BaseConverter):
    """Replaces Werkzeug's ``int`` converter for every route: ASCII digits only,
    within the INTEGER column range, so ``/admin/issues/٣`` and
    ``/admin/issues/99999999999999999999`` are 404s, not 500s."""

    regex = r"[0-9]{1,19}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: object) -> str:
        return str(int(value))  # type: ignore[call-overload]
