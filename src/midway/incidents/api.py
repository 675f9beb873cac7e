"""Routes: incidents and their threads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictBool
from sqlalchemy.orm import Session

from midway.api_deps import CurrentPrincipal, Db, page_after
from midway.incidents import service
from midway.incidents.models import Incident
from midway.schemas import PROBLEM_RESPONSES, StrictModel

router = APIRouter(tags=["incidents"], responses=PROBLEM_RESPONSES)


class IncidentIn(StrictModel):
    """An exception to open."""

    kind: str = Field(
        description="damaged_inbound, short_shipment, mis_pick, wrong_item, "
        "damaged_outbound, address_invalid, lost_in_transit, stockout, urgent_reorder"
    )
    summary: str = Field(min_length=1, max_length=4000)
    fulfillment_order_id: str | None = None
    agreement_id: str | None = None


class MessageIn(StrictModel):
    """A message in the thread."""

    body: str = Field(min_length=1, max_length=8000)


class ResolutionIn(StrictModel):
    """How the incident ended."""

    resolution: str = Field(min_length=1, max_length=4000)
    confirmed: StrictBool = Field(description="the exception really happened")


class MessageOut(BaseModel):
    """A message."""

    id: str
    author_party_id: str
    body: str
    created_at: datetime


class IncidentOut(BaseModel):
    """An incident with its thread."""

    id: str
    kind: str
    summary: str
    status: str
    owner: str
    owner_party_id: str
    cost_bearer: str | None
    decision: dict[str, Any]
    confirmed: bool
    agreement_id: str | None
    facility_id: str | None
    fulfillment_order_id: str | None
    opened_by: str
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    messages: list[MessageOut]


def out(session: Session, incident: Incident) -> IncidentOut:
    """The API view of an incident."""
    data = {c.key: getattr(incident, c.key) for c in Incident.__table__.columns}
    data["messages"] = [
        MessageOut.model_validate(m, from_attributes=True)
        for m in service.messages(session, incident.id)
    ]
    return IncidentOut.model_validate(data)


@router.post("/v1/incidents", response_model=IncidentOut, status_code=201)
def open_incident(body: IncidentIn, principal: CurrentPrincipal, db: Db) -> IncidentOut:
    """Open an incident; the matrix names its owner and cost bearer."""
    with db.transaction() as session:
        incident = service.open_incident(
            session,
            principal,
            kind=body.kind,
            summary=body.summary,
            fulfillment_order_id=body.fulfillment_order_id,
            agreement_id=body.agreement_id,
        )
        return out(session, incident)


@router.get("/v1/incidents", response_model=list[IncidentOut])
def list_incidents(
    principal: CurrentPrincipal,
    db: Db,
    status: str | None = None,
    mine: bool = False,
    after: str | None = page_after(),
    limit: int = Query(100, ge=1, le=500),
) -> list[IncidentOut]:
    """Incidents the caller is a party to, newest first."""
    with db.transaction(write=False) as session:
        return [
            out(session, i)
            for i in service.list_incidents(
                session, principal, status=status, mine=mine, limit=limit, after=after
            )
        ]


@router.get("/v1/incidents/{incident_id}", response_model=IncidentOut)
def get(incident_id: str, principal: CurrentPrincipal, db: Db) -> IncidentOut:
    """One incident with its thread."""
    with db.transaction(write=False) as session:
        return out(session, service.get(session, principal, incident_id))


@router.post("/v1/incidents/{incident_id}/messages", response_model=IncidentOut, status_code=201)
def post_message(
    incident_id: str, body: MessageIn, principal: CurrentPrincipal, db: Db
) -> IncidentOut:
    """Write in the thread (the owner's first message is its response)."""
    with db.transaction() as session:
        service.post_message(session, principal, incident_id, body.body)
        return out(session, service.get(session, principal, incident_id))


@router.post("/v1/incidents/{incident_id}/resolve", response_model=IncidentOut)
def resolve(
    incident_id: str, body: ResolutionIn, principal: CurrentPrincipal, db: Db
) -> IncidentOut:
    """The owner resolves the incident."""
    with db.transaction() as session:
        incident = service.resolve_incident(
            session, principal, incident_id, resolution=body.resolution, confirmed=body.confirmed
        )
        return out(session, incident)
