"""Business-time arithmetic for one facility: workdays, holidays, cut-off and business hours.

Every public function takes timezone-aware datetimes and returns UTC. Inside, instants are
turned into the facility's local wall clock with zoneinfo, so deadlines stay right across
daylight-saving changes. Holidays are handed in as local dates; nothing is looked up here.

Wall-clock times that fall into a daylight-saving gap or overlap are read with ``fold=0``,
the zoneinfo default: a time in a spring-forward gap is read with the offset in force before
the change (02:30 on a night that jumps from 02:00 to 03:00 becomes 03:30), and a repeated
time in the autumn is read as its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "BusinessCalendar",
    "CalendarError",
    "add_business_days",
    "add_business_hours",
    "business_hours_between",
    "ship_by",
]

_MICROSECONDS_PER_HOUR = 3_600_000_000


class CalendarError(ValueError):
    """Invalid calendar definition or input; ``field`` names the offending argument."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@lru_cache(maxsize=1024)
def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, kept once read. (``ZoneInfo`` keeps only the last eight
    zones it was asked for that nothing else holds; a network of more time zones than that
    read their files again for every calendar.)"""
    return ZoneInfo(name)


@dataclass(frozen=True)
class BusinessCalendar:
    """A facility's working calendar in its own local time zone.

    ``workdays`` uses Monday=0 … Sunday=6. ``holidays`` are local dates on which the
    facility is closed even if they fall on a workday (public holidays and own closures).
    ``opens``/``closes`` bound the business hours of each business day; ``cutoff`` is the
    daily order cut-off and may lie outside business hours.
    """

    timezone: str
    cutoff: time
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = frozenset()
    opens: time = time(8, 0)
    closes: time = time(18, 0)

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, str) or not self.timezone:
            raise CalendarError("timezone must be a non-empty IANA zone name", "timezone")
        try:
            zone_named(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(
                f"unknown time zone {self.timezone!r}; use an IANA name such as 'Europe/Berlin'",
                "timezone",
            ) from exc
        for name in ("cutoff", "opens", "closes"):
            value = getattr(self, name)
            if not isinstance(value, time):
                raise CalendarError(f"{name} must be a datetime.time", name)
            if value.tzinfo is not None:
                raise CalendarError(
                    f"{name} must be a local wall-clock time without tzinfo; "
                    "the calendar's timezone applies",
                    name,
                )
        if self.opens >= self.closes:
            raise CalendarError(
                f"opens ({self.opens}) must be before closes ({self.closes})", "opens"
            )
        # Accept any iterable of weekdays/dates but store frozensets so the value stays hashable.
        workdays = _frozen(self.workdays, "workdays")
        if not workdays:
            raise CalendarError("workdays must contain at least one weekday", "workdays")
        for day in workdays:
            if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
                raise CalendarError(
                    f"workdays must be integers 0 (Monday) to 6 (Sunday), got {day!r}",
                    "workdays",
                )
        holidays = _frozen(self.holidays, "holidays")
        for holiday in holidays:
            # datetime is a subclass of date; a datetime here is almost certainly a mistake.
            if isinstance(holiday, datetime) or not isinstance(holiday, date):
                raise CalendarError(
                    f"holidays must be datetime.date values, got {holiday!r}", "holidays"
                )
        object.__setattr__(self, "workdays", workdays)
        object.__setattr__(self, "holidays", holidays)

    @property
    def zone(self) -> ZoneInfo:
        """The facility's time zone."""
        return zone_named(self.timezone)

    def is_business_day(self, day: date) -> bool:
        """True if ``day`` is a workday and not a holiday."""
        return day.weekday() in self.workdays and day not in self.holidays

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after ``day``."""
        # Terminates: workdays is non-empty and holidays is finite.
        candidate = day + timedelta(days=1)
        while not self.is_business_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def business_day_on_or_after(self, day: date) -> date:
        """``day`` itself if it is a business day, otherwise the next business day."""
        return day if self.is_business_day(day) else self.next_business_day(day)

    def local_instant(self, day: date, at: time) -> datetime:
        """The UTC instant of local wall-clock time ``at`` on local date ``day``."""
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def local_date(self, instant: datetime) -> date:
        """The facility's local date at ``instant`` (an aware datetime)."""
        return _require_aware(instant, "instant").astimezone(self.zone).date()


def ship_by(calendar: BusinessCalendar, released_at: datetime) -> datetime:
    """The ship-by deadline for an order released to the facility at ``released_at``.

    Released on a business day strictly before that day's cut-off: ship by the same day's
    cut-off. Released exactly at or after the cut-off, or on a weekend or holiday: ship by
    the next business day's cut-off. Returns UTC.
    """
    released = _require_aware(released_at, "released_at").astimezone(UTC)
    day = calendar.local_date(released)
    if calendar.is_business_day(day) and released < calendar.local_instant(day, calendar.cutoff):
        return calendar.local_instant(day, calendar.cutoff)
    return calendar.local_instant(calendar.next_business_day(day), calendar.cutoff)


def add_business_days(calendar: BusinessCalendar, start: datetime, days: int) -> datetime:
    """Close of business on the ``days``-th business day after ``start``'s local date.

    Day 0 is ``start``'s local date if that is a business day, otherwise the next business
    day; the time of day of ``start`` does not matter. Returns UTC.
    """
    _require_aware(start, "start")
    if isinstance(days, bool) or not isinstance(days, int):
        raise CalendarError(f"days must be an int, got {days!r}", "days")
    if days < 0:
        raise CalendarError(f"days must not be negative, got {days}", "days")
    day = calendar.business_day_on_or_after(calendar.local_date(start))
    for _ in range(days):
        day = calendar.next_business_day(day)
    return calendar.local_instant(day, calendar.closes)


def business_hours_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Elapsed time between ``start`` and ``end`` that lies inside business hours.

    Only time between ``opens`` and ``closes`` on business days counts, measured as real
    elapsed time (a business day that spans a clock change is an hour shorter or longer).
    Returns zero when ``end`` is not after ``start``.
    """
    begin = _require_aware(start, "start").astimezone(UTC)
    finish = _require_aware(end, "end").astimezone(UTC)
    total = timedelta(0)
    if finish <= begin:
        return total
    for window_open, window_close in _windows(calendar, calendar.local_date(begin)):
        if window_open >= finish:
            break
        overlap = min(window_close, finish) - max(window_open, begin)
        if overlap > timedelta(0):
            total += overlap
    return total


def add_business_hours(
    calendar: BusinessCalendar, start: datetime, hours: Decimal | int
) -> datetime:
    """The instant that lies ``hours`` business hours after ``start``. Returns UTC.

    Time outside business hours is skipped. A deadline that uses up a day's hours exactly
    lands on that day's ``closes``, not on the next day's ``opens``. Zero hours returns
    ``start`` unchanged.
    """
    begin = _require_aware(start, "start").astimezone(UTC)
    remaining = _hours_to_timedelta(hours)
    if remaining == timedelta(0):
        return begin
    for window_open, window_close in _windows(calendar, calendar.local_date(begin)):
        if window_close <= begin:
            continue
        effective_open = max(window_open, begin)
        available = window_close - effective_open
        if remaining <= available:
            return effective_open + remaining
        remaining -= available
    raise AssertionError("unreachable: _windows is an endless generator")  # pragma: no cover


def _windows(calendar: BusinessCalendar, first_day: date) -> Iterator[tuple[datetime, datetime]]:
    """Business-hour windows (UTC open, UTC close) from ``first_day`` onwards, without end."""
    day = calendar.business_day_on_or_after(first_day)
    while True:
        yield (
            calendar.local_instant(day, calendar.opens),
            calendar.local_instant(day, calendar.closes),
        )
        day = calendar.next_business_day(day)


def _hours_to_timedelta(hours: Decimal | int) -> timedelta:
    # Floats are refused: 0.1 h is not exactly representable and deadlines must be reproducible.
    if isinstance(hours, bool) or not isinstance(hours, Decimal | int):
        raise CalendarError(f"hours must be a Decimal or an int, got {hours!r}", "hours")
    if isinstance(hours, Decimal) and not hours.is_finite():
        raise CalendarError(f"hours must be finite, got {hours}", "hours")
    if hours < 0:
        raise CalendarError(f"hours must not be negative, got {hours}", "hours")
    microseconds = (Decimal(hours) * _MICROSECONDS_PER_HOUR).to_integral_value()
    return timedelta(microseconds=int(microseconds))


def _require_aware(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise CalendarError(f"{field} must be a datetime, got {value!r}", field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise CalendarError(
            f"{field} must be timezone-aware (UTC), got naive {value.isoformat()}", field
        )
    return value


def _frozen(values: Any, field: str) -> frozenset[Any]:
    if isinstance(values, str | bytes):
        raise CalendarError(f"{field} must be a collection, got {values!r}", field)
    try:
        return frozenset(values)
    except TypeError as exc:
        raise CalendarError(f"{field} must be a collection, got {values!r}", field) from exc
