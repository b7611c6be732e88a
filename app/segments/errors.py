"""The one exception the segment language raises."""

from __future__ import annotations


class SegmentError(ValueError):
    """A segment expression refused, with a message for the editor and the
    1-based column of the input it points at (0 when it has no position, e.g.
    an AST built in code)."""

    def __init__(self, message: str, column: int = 0) -> None:
        self.message = message
        self.column = column
        super().__init__(f"{message} (column {column})" if column else message)
