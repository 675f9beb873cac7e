"""Full business calendars of facilities: weekdays and cut-off (from the facility), public
holidays of its country (the ``holidays`` package) and its own closures (a table of ours)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import holidays as holiday_data
from sqlalchemy import select
from sqlalchemy.orm import Session

from midway.core.calendar import BusinessCalendar
from midway.db import new_id, utcnow
from midway.errors import Conflict, InvalidInput, NotFound
from midway.facilities import service as facilities
from midway.facilities.models import Facility
from midway.principal import Principal
from midway.sla.models import FacilityClosure

_MICROSECONDS_PER_HOUR = 3_600_000_000


@lru_cache(maxsize=512)
def public_holidays(country: str, year: int) -> frozenset[date]:
    """Public holidays of ``country`` (ISO 3166-1 alpha-2) in ``year``; empty if unknown."""
    try:
        found = holiday_data.country_holidays(country.upper(), years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(found.keys())


def closures_of(session: Session, facility_id: str) -> frozenset[date]:
    """The facility's own closure days."""
    return frozenset(
        session.scalars(
            select(FacilityClosure.day).where(FacilityClosure.facility_id == facility_id)
        )
    )


def full_calendar(
    session: Session, facility: Facility, around: datetime, *, years: int = 1
) -> BusinessCalendar:
    """The facility's calendar with public holidays and closures from ``years`` before to
    ``years`` after the year of ``around`` (deadlines never run further than that)."""
    base = facilities.calendar_of(facility)
    year = around.astimezone(UTC).year
    days: set[date] = set(closures_of(session, facility.id))
    for y in range(year - years, year + years + 1):
        days |= public_holidays(facility.country, y)
    return replace(base, holidays=frozenset(days))


class CalendarCache:
    """Full calendars by facility for one unit of work (one tick of the clock engine)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._calendars: dict[tuple[str, int], BusinessCalendar] = {}

    def get(self, facility_id: str, around: datetime) -> BusinessCalendar:
        """The full calendar of a facility for instants near ``around``."""
        key = (facility_id, around.astimezone(UTC).year)
        if key not in self._calendars:
            facility = facilities.get(self.session, facility_id)
            self._calendars[key] = full_calendar(self.session, facility, around)
        return self._calendars[key]


def subtract_business_hours(
    calendar: BusinessCalendar, deadline: datetime, hours: Decimal
) -> datetime:
    """The latest instant that lies ``hours`` business hours before ``deadline`` (UTC).

    Used for the at-risk warning: "2 business hours before the deadline" skips nights and
    closed days the same way the deadline itself does.
    """
    remaining = timedelta(microseconds=int(hours * _MICROSECONDS_PER_HOUR))
    end = deadline.astimezone(UTC)
    if remaining <= timedelta(0):
        return end
    day = calendar.local_date(end)
    for _ in range(3660):  # ten years of days: a bound, never reached with sane inputs
        if calendar.is_business_day(day):
            window_open = calendar.local_instant(day, calendar.opens)
            window_close = min(calendar.local_instant(day, calendar.closes), end)
            available = window_close - window_open
            if available > timedelta(0):
                if remaining <= available:
                    return window_close - remaining
                remaining -= available
        day -= timedelta(days=1)
    return end - remaining


def add_closure(
    session: Session, principal: Principal, facility_code: str, day: date, reason: str
) -> FacilityClosure:
    """The party running a facility closes it on ``day`` (stocktake, local holiday)."""
    principal.require("admin")
    facility = facilities.own_facility(session, principal, facility_code)
    if not reason.strip():
        raise InvalidInput("give a reason for the closure", field="reason")
    exists = session.scalar(
        select(FacilityClosure.id).where(
            FacilityClosure.facility_id == facility.id, FacilityClosure.day == day
        )
    )
    if exists:
        raise Conflict(f"{facility_code} is already closed on {day}", field="day")
    closure = FacilityClosure(
        id=new_id("fcl"),
        facility_id=facility.id,
        day=day,
        reason=reason.strip()[:200],
        created_by=principal.party_id,
        created_at=utcnow(),
    )
    session.add(closure)
    session.flush()
    return closure


def list_closures(
    session: Session, principal: Principal, facility_code: str
) -> list[FacilityClosure]:
    """Closure days of one of the caller's facilities."""
    facility = facilities.own_facility(session, principal, facility_code)
    return list(
        session.scalars(
            select(FacilityClosure)
            .where(FacilityClosure.facility_id == facility.id)
            .order_by(FacilityClosure.day)
        )
    )


def calendar_days(
    session: Session, principal: Principal, facility_code: str, year: int
) -> dict[str, list[date]]:
    """The closed days of one of the caller's facilities in ``year``: holidays and closures."""
    facility = facilities.own_facility(session, principal, facility_code)
    if not 2000 <= year <= 2100:
        raise NotFound(f"no calendar for year {year}", field="year")
    own = sorted(d for d in closures_of(session, facility.id) if d.year == year)
    return {
        "public_holidays": sorted(public_holidays(facility.country, year)),
        "closures": own,
    }
