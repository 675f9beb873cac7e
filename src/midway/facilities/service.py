"""Use cases for facilities. Never commits: the caller owns the transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from midway.core import money
from midway.core.calendar import BusinessCalendar
from midway.core.regions import is_country_code
from midway.db import new_id, utcnow
from midway.errors import Conflict, InvalidInput, NotFound
from midway.facilities.models import Facility
from midway.principal import Principal

PROVIDER_KINDS = ("warehouse",)
MERCHANT_KINDS = ("stockroom", "packing_studio", "returns_centre", "warehouse")
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
_CODE = re.compile(CODE_PATTERN)
CUTOFF_PATTERN = r"^([01]\d|2[0-3]):([0-5]\d)$"
_CUTOFF = re.compile(CUTOFF_PATTERN)


@dataclass(frozen=True)
class FacilityInput:
    """What a party gives to create a facility."""

    code: str
    name: str
    country: str
    timezone: str
    cutoff_local_time: str = "14:00"
    kind: str | None = None
    cost_per_package: Decimal = Decimal("3.00")
    cost_per_unit: Decimal = Decimal("0.40")


def validate_country(country: str, field: str) -> str:
    """Upper-cased ISO 3166-1 alpha-2 code, or InvalidInput naming the field."""
    code = country.strip().upper()
    if not is_country_code(code):
        raise InvalidInput(
            f"'{country}' is not an ISO 3166-1 alpha-2 country code",
            field=field,
            code="unknown_country",
        )
    return code


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _validate_timezone(name: str) -> str:
    if name not in _zones():
        raise InvalidInput(
            f"'{name}' is not an IANA time zone", field="timezone", code="unknown_timezone"
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"'{name}' is not an IANA time zone", field="timezone", code="unknown_timezone"
        ) from None
    return name


def create_facility(session: Session, principal: Principal, data: FacilityInput) -> Facility:
    """Create a facility run by the calling party."""
    principal.require("admin")
    if not _CODE.match(data.code):
        raise InvalidInput("code must be 1-40 letters, digits, '-', '_' or '.'", field="code")
    if not _CUTOFF.match(data.cutoff_local_time):
        raise InvalidInput("cutoff_local_time must be HH:MM (24 h)", field="cutoff_local_time")
    kinds = MERCHANT_KINDS if principal.is_merchant else PROVIDER_KINDS
    kind = data.kind or kinds[0]
    if kind not in kinds:
        raise InvalidInput(
            f"a {principal.kind} facility kind is one of {', '.join(kinds)}", field="kind"
        )
    for name, value in (
        ("cost_per_package", data.cost_per_package),
        ("cost_per_unit", data.cost_per_unit),
    ):
        if value < 0:
            raise InvalidInput(f"{name} must not be negative", field=name)
        if not money.fits(value):
            raise InvalidInput(f"{name}: {money.describe(value)}", field=name)
    exists = session.scalar(
        select(Facility.id).where(
            Facility.party_id == principal.party_id, Facility.code == data.code
        )
    )
    if exists:
        raise Conflict(
            f"you already have a facility with code '{data.code}'",
            code="duplicate_facility",
            field="code",
        )
    facility = Facility(
        id=new_id("fac"),
        party_id=principal.party_id,
        code=data.code,
        name=data.name,
        kind=kind,
        country=validate_country(data.country, "country"),
        timezone=_validate_timezone(data.timezone),
        cutoff_local_time=data.cutoff_local_time,
        cost_per_package=data.cost_per_package,
        cost_per_unit=data.cost_per_unit,
        created_at=utcnow(),
    )
    session.add(facility)
    session.flush()
    return facility


def own_facility(
    session: Session, principal: Principal, code: str, field: str = "facility_code"
) -> Facility:
    """The caller's own facility with this code, or NotFound naming the field."""
    facility = session.scalar(
        select(Facility).where(Facility.party_id == principal.party_id, Facility.code == code)
    )
    if facility is None:
        raise NotFound(f"you run no facility with code '{code}'", field=field)
    return facility


def list_own(session: Session, principal: Principal) -> list[Facility]:
    """Facilities the caller runs."""
    return list(
        session.scalars(
            select(Facility).where(Facility.party_id == principal.party_id).order_by(Facility.code)
        )
    )


def get(session: Session, facility_id: str) -> Facility:
    """A facility by id (no visibility check)."""
    facility = session.get(Facility, facility_id)
    if facility is None:
        raise NotFound(f"no facility {facility_id}")
    return facility


class Scheduled(Protocol):
    """Anything with a facility's time zone and daily cut-off (a row, or intake's view)."""

    @property
    def timezone(self) -> str: ...

    @property
    def cutoff_local_time(self) -> str: ...


def calendar_of(facility: Scheduled) -> BusinessCalendar:
    """The business calendar of a facility (weekdays, its cut-off, in its zone)."""
    hours, minutes = (int(p) for p in facility.cutoff_local_time.split(":"))
    return BusinessCalendar(timezone=facility.timezone, cutoff=time(hours, minutes))
