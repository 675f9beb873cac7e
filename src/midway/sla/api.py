"""Routes: SLA terms, clocks, facility closures and monthly scorecards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from midway.api_deps import CurrentPrincipal, Db, choice, page_after
from midway.schemas import MONTH, PROBLEM_RESPONSES
from midway.sla import calendars, scorecard, service
from midway.sla.schemas import CalendarOut, ClockOut, ClosureIn, ClosureOut, TermsOut

router = APIRouter(tags=["sla"], responses=PROBLEM_RESPONSES)


@router.get("/v1/agreements/{agreement_id}/sla-terms", response_model=TermsOut)
def sla_terms(
    agreement_id: str, principal: CurrentPrincipal, db: Db, version: int | None = None
) -> TermsOut:
    """The SLA terms of an agreement version (the active one by default), with defaults filled
    in and marked as such, and the party accountable for each."""
    with db.transaction(write=False) as session:
        return TermsOut(**service.terms_of(session, principal, agreement_id, version))


@router.get("/v1/sla/clocks", response_model=list[ClockOut])
def list_clocks(
    principal: CurrentPrincipal,
    db: Db,
    agreement_id: str | None = None,
    status: str | None = choice(service.CLOCK_STATUSES, "the clock's status"),
    kind: str | None = None,
    subject_id: str | None = None,
    after: str | None = page_after(),
    limit: int = Query(100, ge=1, le=1000),
) -> list[ClockOut]:
    """SLA clocks of the caller's agreements, filtered by status (running, met, breached, void)
    or kind (on_time_ship, dock_to_stock, return_processing, incident_response, ...)."""
    with db.transaction(write=False) as session:
        clocks = service.list_clocks(
            session,
            principal,
            agreement_id=agreement_id,
            status=status,
            kind=kind,
            subject_id=subject_id,
            limit=limit,
            after=after,
        )
        return [ClockOut.model_validate(c, from_attributes=True) for c in clocks]


@router.get("/v1/agreements/{agreement_id}/scorecard")
def get_scorecard(
    agreement_id: str,
    principal: CurrentPrincipal,
    db: Db,
    period: str = Query(..., description="month, YYYY-MM", json_schema_extra=MONTH),
) -> dict[str, Any]:
    """The monthly scorecard: each term's result, pass/fail, credit or reward, trend against
    the three months before, and the ids of the failing items."""
    with db.transaction(write=False) as session:
        return scorecard.scorecard(session, principal, agreement_id, period)


@router.post("/v1/facilities/{facility_code}/closures", response_model=ClosureOut, status_code=201)
def add_closure(
    facility_code: str, body: ClosureIn, principal: CurrentPrincipal, db: Db
) -> ClosureOut:
    """Close one of your facilities on a day (on top of its country's public holidays)."""
    with db.transaction() as session:
        closure = calendars.add_closure(session, principal, facility_code, body.day, body.reason)
        return ClosureOut.model_validate(closure, from_attributes=True)


@router.get("/v1/facilities/{facility_code}/calendar", response_model=CalendarOut)
def facility_calendar(
    facility_code: str,
    principal: CurrentPrincipal,
    db: Db,
    year: int = Query(..., ge=2000, le=2100),
) -> CalendarOut:
    """Public holidays and own closures of one of your facilities in a year."""
    with db.transaction(write=False) as session:
        days = calendars.calendar_days(session, principal, facility_code, year)
        return CalendarOut(facility_code=facility_code, year=year, **days)
