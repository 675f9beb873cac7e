"""Billing periods and how the meter reads timestamps fast.

A period is a calendar month in the local time of each facility (``month_window``), any run
of local days such as an SLA week (``days_window``), or any UTC range for figures such as
cost per order (``instant_window``).

The meter reads millions of rows, so it skips SQLAlchemy's per-value type processing and
works on what the driver returns (:class:`RawTime`): naive UTC datetimes on PostgreSQL (the
column converted ``AT TIME ZONE 'UTC'``, because comparing aware datetimes costs a zone
lookup each time), UTC text ``YYYY-MM-DD HH:MM:SS.ffffff`` on SQLite (how
:class:`midway.db.UTCDateTime` stores them, which sorts like the instants). Bounds are
converted once to the same form, so comparisons need no conversion per row; a local day is
found by bisecting the facility's midnights.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, func, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

from midway.db import is_postgres
from midway.errors import InvalidInput
from midway.facilities.models import Facility
from midway.kpis.periods import parse_month

_TEXT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class Window:
    """A period: its name and, per facility, its UTC bounds [start, end) and the local days
    whose end-of-day stock snapshot falls inside them."""

    period: str
    bounds: Mapping[str, tuple[datetime, datetime]]
    zones: Mapping[str, ZoneInfo]
    day_range: Mapping[str, tuple[date, date]]

    @property
    def earliest(self) -> datetime:
        """The earliest start over the facilities."""
        return min(start for start, _ in self.bounds.values())

    @property
    def latest(self) -> datetime:
        """The latest end over the facilities."""
        return max(end for _, end in self.bounds.values())


def month_window(period: str, facilities: Iterable[Facility]) -> Window:
    """The month ``period`` in the local time of each facility."""
    year, month = parse_month(period)
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return days_window(f"{year:04d}-{month:02d}", first, following, facilities)


def days_window(label: str, first: date, following: date, facilities: Iterable[Facility]) -> Window:
    """The local days [first, following) at each facility (a month, or an SLA week)."""
    if following <= first:
        raise InvalidInput("a period must end after it starts", field="period")
    bounds: dict[str, tuple[datetime, datetime]] = {}
    zones: dict[str, ZoneInfo] = {}
    for facility in facilities:
        zone = ZoneInfo(facility.timezone)
        zones[facility.id] = zone
        bounds[facility.id] = (_midnight(first, zone), _midnight(following, zone))
    last = following - timedelta(days=1)
    return Window(label, bounds, zones, dict.fromkeys(bounds, (first, last)))


def instant_window(start: datetime, end: datetime, facilities: Iterable[Facility]) -> Window:
    """The same UTC bounds [start, end) at every facility (for ranges that are not months).

    A day's storage counts when its end-of-day snapshot (local midnight) is in (start, end]."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start and end must be timezone-aware", field="start")
    zones = {f.id: ZoneInfo(f.timezone) for f in facilities}
    bounds = {fid: (start.astimezone(UTC), end.astimezone(UTC)) for fid in zones}
    days = {
        fid: (start.astimezone(zone).date(), end.astimezone(zone).date() - timedelta(days=1))
        for fid, zone in zones.items()
    }
    return Window(f"{start.isoformat()}/{end.isoformat()}", bounds, zones, days)


def fetch(session: Session, statement: Executable) -> Sequence[Any]:
    """Every row of a Core statement in one fetch, without the ORM layer (many rows)."""
    return session.connection().execute(statement).all()


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


class RawTime:
    """Timestamps as the driver returns them, compared and turned into local days fast."""

    def __init__(self, session: Session, window: Window, *, lookback_days: int = 0) -> None:
        self.text = not is_postgres(session)
        self.window = window
        self.bounds = {
            fid: (self.raw(start), self.raw(end)) for fid, (start, end) in window.bounds.items()
        }
        self._midnights: dict[str, tuple[date, list[Any]]] = {}
        for fid, (first, last) in window.day_range.items():
            start = first - timedelta(days=lookback_days)
            count = (last - start).days + 2
            zone = window.zones[fid]
            marks = [self.raw(_midnight(start + timedelta(days=i), zone)) for i in range(count)]
            self._midnights[fid] = (start, marks)

    def raw(self, instant: datetime) -> Any:
        """``instant`` in the form the driver returns."""
        utc = instant.astimezone(UTC).replace(tzinfo=None)
        return utc.strftime(_TEXT_FORMAT) if self.text else utc

    def column(self, column: Any) -> ColumnElement[Any]:
        """A timestamp column read raw (see the module docstring)."""
        if self.text:
            return type_coerce(column, String)
        return type_coerce(func.timezone("UTC", column), String)

    @staticmethod
    def money(column: Any) -> ColumnElement[Any]:
        """A money column read raw: Decimal on PostgreSQL, text on SQLite."""
        return type_coerce(column, String)

    def holds(self, facility_id: str, value: Any) -> bool:
        """True when ``value`` is in the period at ``facility_id``."""
        start, end = self.bounds[facility_id]
        return bool(start <= value < end)

    def before(self, facility_id: str, value: Any) -> bool:
        """True when ``value`` is before the period at ``facility_id``."""
        return bool(value < self.bounds[facility_id][0])

    def instant(self, value: Any) -> datetime:
        """An aware UTC datetime from a raw value."""
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)

    def day(self, facility_id: str, value: Any) -> date:
        """The facility's local date of a raw value."""
        return self.day_finder(facility_id)(value)

    def day_finder(self, facility_id: str) -> Callable[[Any], date]:
        """A function from raw values to the facility's local dates (fast for a loop)."""
        start, marks = self._midnights[facility_id]
        days = [start + timedelta(days=i) for i in range(len(marks))]
        zone = self.window.zones[facility_id]
        size = len(marks)
        instant = self.instant

        def find(value: Any) -> date:
            index = bisect_right(marks, value)
            if 0 < index < size:
                return days[index - 1]
            return instant(value).astimezone(zone).date()

        return find
