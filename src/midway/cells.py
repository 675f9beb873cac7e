"""Values as people type them into the cells of a CSV file."""

from __future__ import annotations

import re

# ASCII digits with an optional sign: Python's int() also takes "1_000" and other scripts'
# digits, which no spreadsheet writes for a count.
_WHOLE = re.compile(r"[+-]?[0-9]+")


def whole_number(cell: str) -> int | None:
    """The whole number ``cell`` holds (surrounding spaces allowed), None if it holds none."""
    text = cell.strip()
    return int(text) if _WHOLE.fullmatch(text) else None
