"""Inbound shipments: the merchant announces stock (ASN), the facility's operator records its
arrival and its receipt. Receipt posts good units to the ledger and keeps the discrepancies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from midway import paging
from midway.agreements import service as agreements
from midway.catalog import service as catalog
from midway.db import new_id, utcnow
from midway.errors import Conflict, InvalidInput, InvalidState, NotFound
from midway.events.service import NewEvent, emit
from midway.facilities.models import Facility
from midway.inbound.models import InboundLine, InboundShipment
from midway.inventory import service as inventory
from midway.principal import Principal


@dataclass(frozen=True)
class ExpectedLine:
    """Units of a SKU announced on an ASN."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class ReceivedLine:
    """What the dock counted for a SKU: received in total, of which damaged."""

    sku: str
    received: int
    damaged: int = 0


def create(
    session: Session,
    principal: Principal,
    *,
    facility_code: str,
    reference: str,
    lines: Sequence[ExpectedLine],
    carrier: str | None = None,
    expected_at: datetime | None = None,
) -> InboundShipment:
    """The merchant announces an inbound shipment to one of its facilities."""
    principal.require("operator")
    principal.require_kind("merchant", "announce inbound shipments")
    if not reference.strip():
        raise InvalidInput("reference must not be empty", field="reference")
    if not lines:
        raise InvalidInput("an inbound shipment needs at least one line", field="lines")
    site = agreements.site_for(session, principal.party_id, facility_code)
    skus = catalog.skus_by_code(session, principal.party_id, (ln.sku for ln in lines))
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.sku not in skus:
            raise InvalidInput(
                f"unknown SKU '{line.sku}'", field=f"lines[{i}].sku", code="unknown_sku"
            )
        if line.sku in seen:
            raise InvalidInput(f"'{line.sku}' is listed twice", field=f"lines[{i}].sku")
        seen.add(line.sku)
        if line.quantity <= 0:
            raise InvalidInput("quantity must be positive", field=f"lines[{i}].quantity")
    if session.scalar(
        select(InboundShipment.id).where(
            InboundShipment.merchant_id == principal.party_id,
            InboundShipment.reference == reference,
        )
    ):
        raise Conflict(
            f"inbound shipment '{reference}' already exists",
            code="duplicate_inbound",
            field="reference",
        )
    shipment = InboundShipment(
        id=new_id("inb"),
        merchant_id=principal.party_id,
        facility_id=site.facility.id,
        provider_id=site.provider_id,
        agreement_id=site.terms.agreement_id if site.terms else None,
        reference=reference,
        status="expected",
        carrier=carrier,
        expected_at=expected_at,
        arrived_at=None,
        received_at=None,
        created_at=utcnow(),
    )
    session.add(shipment)
    session.flush()  # the lines reference it
    session.add_all(
        InboundLine(
            id=new_id("inl"),
            inbound_id=shipment.id,
            merchant_id=principal.party_id,
            sku=ln.sku,
            expected_quantity=ln.quantity,
            received_quantity=0,
            damaged_quantity=0,
        )
        for ln in lines
    )
    session.flush()
    _event(
        session,
        shipment,
        "inbound.expected",
        principal,
        {
            "expected_at": expected_at.isoformat() if expected_at else None,
            "lines": [{"sku": ln.sku, "expected": ln.quantity} for ln in lines],
        },
    )
    return shipment


def _visible(principal: Principal) -> Any:
    if principal.is_merchant:
        return InboundShipment.merchant_id == principal.party_id
    own = select(Facility.id).where(Facility.party_id == principal.party_id)
    return or_(
        InboundShipment.provider_id == principal.party_id, InboundShipment.facility_id.in_(own)
    )


def get(
    session: Session, principal: Principal, inbound_id: str, *, lock: bool = False
) -> InboundShipment:
    """An inbound shipment the caller may see."""
    query = select(InboundShipment).where(InboundShipment.id == inbound_id, _visible(principal))
    if lock:
        query = query.with_for_update()
    shipment = session.scalar(query)
    if shipment is None:
        raise NotFound(f"no inbound shipment {inbound_id}")
    return shipment


def lines_of(session: Session, inbound_id: str) -> list[InboundLine]:
    """The lines of an inbound shipment, by SKU."""
    return list(
        session.scalars(
            select(InboundLine)
            .where(InboundLine.inbound_id == inbound_id)
            .order_by(InboundLine.sku)
        )
    )


def list_inbound(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    limit: int,
    after: str | None = None,
) -> list[InboundShipment]:
    """A page of the inbound shipments the caller may see, newest first; ``after`` is the
    last shipment of the previous page."""
    visible = _visible(principal)
    query = paging.page(
        session,
        select(InboundShipment).where(visible),
        (InboundShipment.created_at, InboundShipment.id),
        visible,
        after=after,
        limit=limit,
        newest_first=True,
        what="an inbound shipment",
    )
    if status:
        query = query.where(InboundShipment.status == status)
    return list(session.scalars(query))


def _operator(session: Session, principal: Principal, shipment: InboundShipment) -> Facility:
    facility = session.get(Facility, shipment.facility_id)
    assert facility is not None
    if facility.party_id != principal.party_id:
        raise InvalidState(
            "only the party that runs the facility records arrival and receipt",
            code="not_facility_operator",
        )
    return facility


def arrive(
    session: Session, principal: Principal, inbound_id: str, *, arrived_at: datetime | None = None
) -> InboundShipment:
    """The facility records that the shipment is at its dock (starts dock-to-stock)."""
    principal.require("operator")
    shipment = get(session, principal, inbound_id, lock=True)
    _operator(session, principal, shipment)
    if shipment.status != "expected":
        raise InvalidState(
            f"the shipment is already {shipment.status}",
            code="invalid_transition",
            state={"status": shipment.status},
        )
    shipment.status = "arrived"
    shipment.arrived_at = _past(arrived_at, "arrived_at")
    session.flush()
    _event(
        session,
        shipment,
        "inbound.arrived",
        principal,
        {"arrived_at": shipment.arrived_at.isoformat()},
    )
    return shipment


def receive(
    session: Session,
    principal: Principal,
    inbound_id: str,
    lines: Sequence[ReceivedLine],
    *,
    received_at: datetime | None = None,
    source: str | None = None,
) -> InboundShipment:
    """Record the receipt: good units go on hand, damaged ones are kept as a discrepancy;
    short and over quantities are reported against the ASN. ``source`` (say, the id of the
    EDI document that reported it) is carried in the event."""
    principal.require("operator")
    shipment = get(session, principal, inbound_id, lock=True)
    facility = _operator(session, principal, shipment)
    if shipment.status not in ("expected", "arrived"):
        raise InvalidState(
            f"the shipment is already {shipment.status}",
            code="invalid_transition",
            state={"status": shipment.status},
        )
    expected = {ln.sku: ln for ln in lines_of(session, shipment.id)}
    counted: dict[str, ReceivedLine] = {}
    for i, line in enumerate(lines):
        if line.received < 0 or line.damaged < 0 or line.damaged > line.received:
            raise InvalidInput(
                "received and damaged must be ≥ 0 with damaged ≤ received", field=f"lines[{i}]"
            )
        if line.sku in counted:
            raise InvalidInput(f"'{line.sku}' is listed twice", field=f"lines[{i}].sku")
        counted[line.sku] = line
    for i, line in enumerate(lines):
        if line.sku not in expected:  # an item nobody announced: receive it as an extra line
            catalog.get_sku(session, shipment.merchant_id, line.sku, field=f"lines[{i}].sku")
            row = InboundLine(
                id=new_id("inl"),
                inbound_id=shipment.id,
                merchant_id=shipment.merchant_id,
                sku=line.sku,
                expected_quantity=0,
                received_quantity=0,
                damaged_quantity=0,
            )
            session.add(row)
            expected[line.sku] = row
    now = _past(received_at, "received_at")
    if shipment.arrived_at is None:
        shipment.arrived_at = now
    summary = []
    for sku, row in sorted(expected.items()):
        got = counted.get(sku, ReceivedLine(sku, 0, 0))
        row.received_quantity, row.damaged_quantity = got.received, got.damaged
        good = got.received - got.damaged
        if good:
            inventory.post(
                session,
                principal,
                facility_code=facility.code,
                sku=sku,
                quantity=good,
                kind="receipt",
                reason="inbound_receipt",
                reference=shipment.id,
                merchant_id=None if principal.is_merchant else shipment.merchant_id,
            )
        summary.append(
            {
                "sku": sku,
                "expected": row.expected_quantity,
                "received": got.received,
                "damaged": got.damaged,
                "short": max(row.expected_quantity - got.received, 0),
                "over": max(got.received - row.expected_quantity, 0),
            }
        )
    shipment.status = "received"
    shipment.received_at = now
    session.flush()
    _event(
        session,
        shipment,
        "inbound.received",
        principal,
        {
            "received_at": now.isoformat(),
            "arrived_at": shipment.arrived_at.isoformat(),
            "lines": summary,
            "discrepancies": [s for s in summary if s["short"] or s["over"] or s["damaged"]],
            **({"source": source} if source else {}),
        },
    )
    return shipment


def _past(instant: datetime | None, field: str) -> datetime:
    now = utcnow()
    if instant is None:
        return now
    if instant.tzinfo is None:
        raise InvalidInput(f"{field} needs a time zone", field=field)
    if instant > now:
        raise InvalidInput(f"{field} is in the future", field=field)
    return instant


def _event(
    session: Session,
    shipment: InboundShipment,
    kind: str,
    principal: Principal,
    data: dict[str, Any],
) -> None:
    emit(
        session,
        [
            NewEvent(
                type=kind,
                merchant_id=shipment.merchant_id,
                provider_id=shipment.provider_id,
                subject_type="inbound_shipment",
                subject_id=shipment.id,
                actor_party_id=principal.party_id,
                data={
                    "inbound_id": shipment.id,
                    "reference": shipment.reference,
                    "facility_id": shipment.facility_id,
                    "agreement_id": shipment.agreement_id,
                    **data,
                },
            )
        ],
    )
