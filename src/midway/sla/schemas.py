"""API shapes of SLA clocks, terms, facility closures and scorecards."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from midway.schemas import StrictModel


class ClockOut(BaseModel):
    """One SLA clock: what started it, when it is due, and how it ended."""

    id: str
    kind: str
    agreement_id: str | None
    facility_id: str | None
    subject_type: str
    subject_id: str
    accountable: str | None
    started_at: datetime
    deadline: datetime
    at_risk_at: datetime
    stopped_at: datetime | None
    status: str
    at_risk_sent: bool
    breached_sent: bool
    start_event_id: str
    stop_event_id: str | None
    detail: dict[str, Any]


class TermsOut(BaseModel):
    """An agreement version's SLA terms, resolved with defaults."""

    agreement_id: str
    version: int
    terms: list[dict[str, Any]]


class ClosureIn(StrictModel):
    """A day the facility is closed, on top of public holidays."""

    day: date
    reason: str = Field(min_length=1, max_length=200)


class ClosureOut(BaseModel):
    """A facility closure day."""

    id: str
    day: date
    reason: str
    created_at: datetime


class CalendarOut(BaseModel):
    """Closed days of a facility in one year."""

    facility_code: str
    year: int
    public_holidays: list[date]
    closures: list[date]
