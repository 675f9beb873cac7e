"""Routes: facilities."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from midway.api_deps import CurrentPrincipal, Db
from midway.facilities import service
from midway.schemas import COUNTRY, PROBLEM_RESPONSES, Amount, StrictModel

router = APIRouter(tags=["facilities"], responses=PROBLEM_RESPONSES)


class FacilityIn(StrictModel):
    """A facility the caller runs."""

    code: str = Field(
        min_length=1, max_length=40, json_schema_extra={"pattern": service.CODE_PATTERN}
    )
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(
        min_length=2, max_length=2, description="ISO 3166-1 alpha-2", json_schema_extra=COUNTRY
    )
    timezone: str = Field(
        description="IANA time zone, e.g. America/Chicago", examples=["America/Chicago"]
    )
    cutoff_local_time: str = Field(
        "14:00",
        description="daily order cut-off, HH:MM local (24 h)",
        json_schema_extra={"pattern": service.CUTOFF_PATTERN},
    )
    kind: str | None = Field(
        None,
        description="a merchant's sites may be of any kind (default stockroom); a provider's "
        "are warehouses",
        json_schema_extra={"enum": list(service.MERCHANT_KINDS)},
    )
    cost_per_package: Amount = Decimal("3.00")
    cost_per_unit: Amount = Decimal("0.40")


class FacilityOut(BaseModel):
    """A facility."""

    id: str
    party_id: str
    code: str
    name: str
    kind: str
    country: str
    timezone: str
    cutoff_local_time: str
    cost_per_package: Decimal
    cost_per_unit: Decimal
    created_at: datetime


@router.post("/v1/facilities", response_model=FacilityOut, status_code=201)
def create_facility(body: FacilityIn, principal: CurrentPrincipal, db: Db) -> FacilityOut:
    """Create a facility run by the caller."""
    with db.transaction() as session:
        facility = service.create_facility(
            session, principal, service.FacilityInput(**body.model_dump())
        )
        return FacilityOut.model_validate(facility, from_attributes=True)


@router.get("/v1/facilities", response_model=list[FacilityOut])
def list_facilities(principal: CurrentPrincipal, db: Db) -> list[FacilityOut]:
    """The facilities the caller runs."""
    with db.transaction(write=False) as session:
        return [
            FacilityOut.model_validate(f, from_attributes=True)
            for f in service.list_own(session, principal)
        ]
