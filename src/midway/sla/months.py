"""Scorecard windows in each facility's local time, counted the way invoices count a month.

A scorecard month is ``YYYY-MM`` in the local time of the facility where each item happened:
a parcel handed over at 23:30 on 31 October in Chicago (04:30 UTC on 1 November) is an
October item, as its fee is on the October invoice. The KPI stays agreement-wide: the month
is the set of items each inside its own facility's month. Items without a facility the
agreement knows are read in the time zone of the agreement's first facility (UTC when it has
none). A weekly window is the local days Monday to Sunday of an ISO week, the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from midway.agreements.models import AgreementVersion
from midway.facilities.models import Facility
from midway.kpis.periods import month_period


@dataclass(frozen=True)
class Zones:
    """The time zone of each facility of an agreement, and the one for items without one."""

    by_facility: Mapping[str, ZoneInfo]
    fallback: ZoneInfo

    def of(self, facility_id: str | None) -> ZoneInfo:
        """The zone an item of ``facility_id`` is read in."""
        if facility_id is None:
            return self.fallback
        return self.by_facility.get(facility_id, self.fallback)


@dataclass(frozen=True)
class LocalWindow:
    """The local days [first, following) at every facility, labelled like 2026-10 (a month) or
    2026-10-05..2026-10-11 (a week)."""

    label: str
    first: date
    following: date
    zones: Zones

    def contains(self, instant: datetime | None, facility_id: str | None) -> bool:
        """True when ``instant`` falls on one of the window's days where ``facility_id`` is."""
        if instant is None:
            return False
        start, end = self._bounds.get(facility_id or "", self._fallback)
        return start <= instant < end

    @cached_property
    def _bounds(self) -> dict[str, tuple[datetime, datetime]]:
        return self.bounds()

    @cached_property
    def _fallback(self) -> tuple[datetime, datetime]:
        zone = self.zones.fallback
        return _midnight(self.first, zone), _midnight(self.following, zone)

    @property
    def start(self) -> datetime:
        """The earliest instant of the window over the zones (UTC)."""
        return min(_midnight(self.first, z) for z in self._all_zones())

    @property
    def end(self) -> datetime:
        """The latest end of the window over the zones (UTC)."""
        return max(_midnight(self.following, z) for z in self._all_zones())

    def bounds(self) -> dict[str, tuple[datetime, datetime]]:
        """[start, end) in UTC at each facility."""
        return {
            fid: (_midnight(self.first, z), _midnight(self.following, z))
            for fid, z in self.zones.by_facility.items()
        }

    def _all_zones(self) -> list[ZoneInfo]:
        return [self.zones.fallback, *self.zones.by_facility.values()]


def agreement_zones(session: Session, agreement_id: str, active: AgreementVersion | None) -> Zones:
    """The zones of every facility any version of the agreement named; the fallback is the
    active version's first facility."""
    lists = session.scalars(
        select(AgreementVersion.facility_ids).where(AgreementVersion.agreement_id == agreement_id)
    ).all()
    ids = {fid for found in lists for fid in (found or [])}
    rows = session.execute(select(Facility.id, Facility.timezone).where(Facility.id.in_(ids)))
    by_facility = {fid: ZoneInfo(tz) for fid, tz in rows}
    first = next(iter(active.facility_ids or []), None) if active is not None else None
    fallback = by_facility.get(first, ZoneInfo("UTC")) if first is not None else ZoneInfo("UTC")
    return Zones(by_facility, fallback)


def local_month(label: str, zones: Zones) -> LocalWindow:
    """The month ``YYYY-MM`` in each facility's local time (InvalidInput on ``period``)."""
    utc = month_period(label)  # validates the label
    first = utc.start.date()
    return LocalWindow(label, first, utc.end.date(), zones)


def local_weeks(month: LocalWindow) -> list[LocalWindow]:
    """The ISO weeks whose Monday is a day of ``month``, each Monday to Sunday."""
    weeks = []
    day = month.first + timedelta(days=(7 - month.first.weekday()) % 7)
    while day < month.following:
        after = day + timedelta(days=7)
        label = f"{day.isoformat()}..{(after - timedelta(days=1)).isoformat()}"
        weeks.append(LocalWindow(label, day, after, month.zones))
        day += timedelta(days=7)
    return weeks


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
