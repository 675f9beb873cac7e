"""Routes: inbound shipments (ASNs) and receipts."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from midway.api_deps import CurrentPrincipal, Db, page_after
from midway.inbound import service
from midway.inbound.models import InboundShipment
from midway.inbound.schemas import ArrivalIn, InboundIn, InboundLineOut, InboundOut, ReceiptIn
from midway.schemas import PROBLEM_RESPONSES

router = APIRouter(tags=["inbound"], responses=PROBLEM_RESPONSES)


def out(session: Session, shipment: InboundShipment) -> InboundOut:
    """The API view of an inbound shipment."""
    lines = service.lines_of(session, shipment.id)
    dock = None
    if shipment.arrived_at and shipment.received_at:
        dock = (shipment.received_at - shipment.arrived_at).total_seconds()
    received = shipment.status == "received"
    return InboundOut(
        id=shipment.id,
        reference=shipment.reference,
        facility_id=shipment.facility_id,
        provider_id=shipment.provider_id,
        agreement_id=shipment.agreement_id,
        status=shipment.status,
        carrier=shipment.carrier,
        expected_at=shipment.expected_at,
        arrived_at=shipment.arrived_at,
        received_at=shipment.received_at,
        dock_to_stock_seconds=dock,
        created_at=shipment.created_at,
        lines=[
            InboundLineOut(
                sku=ln.sku,
                expected_quantity=ln.expected_quantity,
                received_quantity=ln.received_quantity,
                damaged_quantity=ln.damaged_quantity,
                short_quantity=max(ln.expected_quantity - ln.received_quantity, 0)
                if received
                else 0,
                over_quantity=max(ln.received_quantity - ln.expected_quantity, 0)
                if received
                else 0,
            )
            for ln in lines
        ],
    )


@router.post("/v1/inbound-shipments", response_model=InboundOut, status_code=201)
def create(body: InboundIn, principal: CurrentPrincipal, db: Db) -> InboundOut:
    """The merchant announces stock on its way to a facility."""
    with db.transaction() as session:
        shipment = service.create(
            session,
            principal,
            facility_code=body.facility_code,
            reference=body.reference,
            lines=[service.ExpectedLine(ln.sku, ln.quantity) for ln in body.lines],
            carrier=body.carrier,
            expected_at=body.expected_at,
        )
        return out(session, shipment)


@router.get("/v1/inbound-shipments", response_model=list[InboundOut])
def list_inbound(
    principal: CurrentPrincipal,
    db: Db,
    status: str | None = None,
    after: str | None = page_after(),
    limit: int = Query(100, ge=1, le=500),
) -> list[InboundOut]:
    """Inbound shipments the caller may see, newest first."""
    with db.transaction(write=False) as session:
        return [
            out(session, s)
            for s in service.list_inbound(
                session, principal, status=status, limit=limit, after=after
            )
        ]


@router.get("/v1/inbound-shipments/{inbound_id}", response_model=InboundOut)
def get(inbound_id: str, principal: CurrentPrincipal, db: Db) -> InboundOut:
    """One inbound shipment."""
    with db.transaction(write=False) as session:
        return out(session, service.get(session, principal, inbound_id))


@router.post("/v1/inbound-shipments/{inbound_id}/arrival", response_model=InboundOut)
def arrive(
    inbound_id: str, principal: CurrentPrincipal, db: Db, body: ArrivalIn | None = None
) -> InboundOut:
    """The facility records the arrival at its dock."""
    with db.transaction() as session:
        shipment = service.arrive(
            session, principal, inbound_id, arrived_at=(body or ArrivalIn()).arrived_at
        )
        return out(session, shipment)


@router.post("/v1/inbound-shipments/{inbound_id}/receipt", response_model=InboundOut)
def receive(inbound_id: str, body: ReceiptIn, principal: CurrentPrincipal, db: Db) -> InboundOut:
    """The facility records what it received; good units become available to sell."""
    with db.transaction() as session:
        shipment = service.receive(
            session,
            principal,
            inbound_id,
            [service.ReceivedLine(ln.sku, ln.received, ln.damaged) for ln in body.lines],
            received_at=body.received_at,
        )
        return out(session, shipment)
