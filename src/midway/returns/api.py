"""Routes: returns (RMAs)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictInt
from sqlalchemy.orm import Session

from midway.api_deps import CurrentPrincipal, Db, page_after
from midway.returns import service
from midway.returns.models import ReturnAuthorization
from midway.schemas import PROBLEM_RESPONSES, StrictModel

router = APIRouter(tags=["returns"], responses=PROBLEM_RESPONSES)


class ReturnLineIn(StrictModel):
    """Units of a SKU to authorize."""

    sku: str
    quantity: StrictInt = Field(gt=0)


class ReturnIn(StrictModel):
    """A return authorization."""

    facility_code: str
    rma_number: str = Field(min_length=1, max_length=64)
    order_id: str | None = None
    reason: str | None = Field(None, max_length=2000)
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=500)


class OutcomeIn(StrictModel):
    """Per SKU: units received, condition, or disposition (depending on the step)."""

    sku: str
    quantity: StrictInt = Field(0, ge=0)
    condition: str | None = None
    disposition: str | None = None


class OutcomesIn(StrictModel):
    """The lines of a receipt, inspection or disposition."""

    lines: list[OutcomeIn] = Field(max_length=500)


class ReturnLineOut(BaseModel):
    """A return line."""

    sku: str
    quantity: int
    received_quantity: int
    condition: str | None
    disposition: str | None


class ReturnOut(BaseModel):
    """A return."""

    id: str
    rma_number: str
    order_id: str | None
    facility_id: str
    provider_id: str | None
    agreement_id: str | None
    status: str
    reason: str | None
    inspection_owner: str
    disposition_owner: str
    lines: list[ReturnLineOut]
    created_at: datetime
    received_at: datetime | None
    inspected_at: datetime | None
    disposed_at: datetime | None


def out(session: Session, rma: ReturnAuthorization) -> ReturnOut:
    """The API view of a return, with who owns its inspection and disposition."""
    return ReturnOut(
        id=rma.id,
        rma_number=rma.rma_number,
        order_id=rma.order_id,
        facility_id=rma.facility_id,
        provider_id=rma.provider_id,
        agreement_id=rma.agreement_id,
        status=rma.status,
        reason=rma.reason,
        inspection_owner=service.owner_of(session, rma, "returns_inspection")[0],
        disposition_owner=service.owner_of(session, rma, "returns_disposition")[0],
        lines=[
            ReturnLineOut.model_validate(ln, from_attributes=True)
            for ln in service.lines_of(session, rma.id)
        ],
        created_at=rma.created_at,
        received_at=rma.received_at,
        inspected_at=rma.inspected_at,
        disposed_at=rma.disposed_at,
    )


def _outcomes(body: OutcomesIn) -> list[service.LineOutcome]:
    return [service.LineOutcome(x.sku, x.quantity, x.condition, x.disposition) for x in body.lines]


@router.post("/v1/returns", response_model=ReturnOut, status_code=201)
def authorize(body: ReturnIn, principal: CurrentPrincipal, db: Db) -> ReturnOut:
    """The merchant authorizes a return."""
    with db.transaction() as session:
        rma = service.authorize(
            session,
            principal,
            facility_code=body.facility_code,
            rma_number=body.rma_number,
            lines=[service.ReturnLineInput(x.sku, x.quantity) for x in body.lines],
            order_id=body.order_id,
            reason=body.reason,
        )
        return out(session, rma)


@router.get("/v1/returns", response_model=list[ReturnOut])
def list_returns(
    principal: CurrentPrincipal,
    db: Db,
    status: str | None = None,
    after: str | None = page_after(),
    limit: int = Query(100, ge=1, le=500),
) -> list[ReturnOut]:
    """Returns the caller may see, newest first."""
    with db.transaction(write=False) as session:
        return [
            out(session, r)
            for r in service.list_returns(
                session, principal, status=status, limit=limit, after=after
            )
        ]


@router.get("/v1/returns/{return_id}", response_model=ReturnOut)
def get(return_id: str, principal: CurrentPrincipal, db: Db) -> ReturnOut:
    """One return."""
    with db.transaction(write=False) as session:
        return out(session, service.get(session, principal, return_id))


@router.post("/v1/returns/{return_id}/receipt", response_model=ReturnOut)
def receive(return_id: str, body: OutcomesIn, principal: CurrentPrincipal, db: Db) -> ReturnOut:
    """The facility records the units it received (quantity per SKU)."""
    with db.transaction() as session:
        return out(session, service.receive(session, principal, return_id, _outcomes(body)))


@router.post("/v1/returns/{return_id}/inspection", response_model=ReturnOut)
def inspect(return_id: str, body: OutcomesIn, principal: CurrentPrincipal, db: Db) -> ReturnOut:
    """The owner of returns inspection records conditions."""
    with db.transaction() as session:
        return out(session, service.inspect(session, principal, return_id, _outcomes(body)))


@router.post("/v1/returns/{return_id}/disposition", response_model=ReturnOut)
def dispose(return_id: str, body: OutcomesIn, principal: CurrentPrincipal, db: Db) -> ReturnOut:
    """The owner of returns disposition decides each SKU's fate."""
    with db.transaction() as session:
        return out(session, service.dispose(session, principal, return_id, _outcomes(body)))
