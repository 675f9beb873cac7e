"""Reporting periods: a date range in a time zone, split by week or month."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from midway.errors import InvalidInput

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# The years a month may be in: far enough from the ends of the calendar that its local
# bounds in any time zone are dates Python can hold.
FIRST_YEAR, LAST_YEAR = 1900, 2999
GROUPS = ("week", "month")


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of UTC instants, with a label like 2026-10 or 2026-W41."""

    label: str
    start: datetime
    end: datetime

    def contains(self, instant: datetime | None) -> bool:
        """True if ``instant`` lies in the period."""
        return instant is not None and self.start <= instant < self.end


def zone(name: str) -> ZoneInfo:
    """The time zone named ``name`` or InvalidInput on field ``tz``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"'{name}' is not an IANA time zone", field="tz") from None


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_month(label: object, field: str = "period") -> tuple[int, int]:
    """(year, month) of ``YYYY-MM``, or InvalidInput naming ``field``."""
    match = _MONTH.match(label.strip()) if isinstance(label, str) else None
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12:
            return year, month
    raise InvalidInput(
        f"{field} must be a month written YYYY-MM (e.g. 2026-10) in the years "
        f"{FIRST_YEAR}-{LAST_YEAR}, got {label!r}",
        field=field,
    )


def month_period(label: str, tz: str = "UTC", field: str = "period") -> Period:
    """The month ``YYYY-MM`` as a period in ``tz``."""
    year, month = parse_month(label, field)
    first = date(year, month, 1)
    return Period(label, _midnight(first, zone(tz)), _midnight(_next_month(first), zone(tz)))


def previous_month(label: str) -> str:
    """The month before ``YYYY-MM``."""
    year, month = (int(p) for p in label.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def date_range(start: date, end: date, tz: str = "UTC") -> Period:
    """From the start of ``start`` to the end of ``end`` (both local dates, inclusive)."""
    if end < start:
        raise InvalidInput("to must not be before from", field="to")
    if (end - start).days > 3700:
        raise InvalidInput("a KPI range may span at most ten years", field="to")
    where = zone(tz)
    label = f"{start.isoformat()}..{end.isoformat()}"
    return Period(label, _midnight(start, where), _midnight(end + timedelta(days=1), where))


def split(start: date, end: date, group_by: str | None, tz: str = "UTC") -> list[Period]:
    """The range cut into ISO weeks or calendar months (clipped to the range), or whole."""
    whole = date_range(start, end, tz)
    if group_by is None:
        return [whole]
    if group_by not in GROUPS:
        raise InvalidInput("group_by must be week or month", field="group_by")
    where = zone(tz)
    periods = []
    day = start
    while day <= end:
        if group_by == "week":
            first = day - timedelta(days=day.weekday())
            after = first + timedelta(days=7)
            iso = first.isocalendar()
            label = f"{iso.year}-W{iso.week:02d}"
        else:
            first = day.replace(day=1)
            after = _next_month(first)
            label = f"{first.year}-{first.month:02d}"
        last = min(after - timedelta(days=1), end)
        periods.append(
            Period(label, _midnight(day, where), _midnight(last + timedelta(days=1), where))
        )
        day = after
    return periods
