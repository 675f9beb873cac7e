"""Fulfillment orders: the two-party handshake, holds, shipments, and order cancellation.

Each use case runs in the caller's transaction and never commits. The state machine itself is
pure (``midway.core.fulfillment``); this module loads, applies, persists and tells the other
side through events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from midway import paging
from midway.agreements import service as agreements
from midway.core.fulfillment import (
    HOLD_REASONS,
    REJECTION_REASONS,
    REQUEST_STATUSES,
    STATUSES,
    Action,
    FoState,
    allowed_actions,
    apply,
)
from midway.core.sharing import DEFAULT as DEFAULT_SHARING
from midway.core.sharing import provider_ship_to
from midway.db import new_id, utcnow
from midway.errors import InvalidInput, InvalidState, NotFound
from midway.events.service import NewEvent, emit
from midway.facilities.models import Facility
from midway.fulfillment.intake import Placed
from midway.fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, Hold, Shipment
from midway.fulfillment.progress import line_progress, refresh_order
from midway.inventory import service as inventory
from midway.orders import service as orders
from midway.orders.models import Order
from midway.principal import Principal
from midway.tasks import service as tasks

TERMINAL = ("closed", "cancelled", "incomplete")
EVENT_NAMES = {
    Action.SUBMIT: "submitted",
    Action.ACCEPT: "accepted",
    Action.REJECT: "rejected",
    Action.HOLD: "hold_placed",
    Action.RELEASE_HOLD: "hold_released",
    Action.REQUEST_CANCELLATION: "cancellation_requested",
    Action.ACCEPT_CANCELLATION: "cancellation_accepted",
    Action.REJECT_CANCELLATION: "cancellation_rejected",
    Action.CLOSE: "closed_incomplete",
    Action.CANCEL: "cancelled",
}


@dataclass(frozen=True)
class ShipmentLineInput:
    """Units of one SKU in a parcel."""

    sku: str
    quantity: int


def _state(fo: FulfillmentOrder) -> FoState:
    return FoState(
        status=fo.status,
        request_status=fo.request_status,
        provider_managed=fo.provider_id is not None,
        status_before_hold=fo.status_before_hold,
    )


def _visible(principal: Principal) -> Any:
    if principal.is_merchant:
        return FulfillmentOrder.merchant_id == principal.party_id
    return FulfillmentOrder.provider_id == principal.party_id


def get(
    session: Session, principal: Principal, fo_id: str, *, lock: bool = False
) -> FulfillmentOrder:
    """A fulfillment order the caller may see (its merchant, or the provider it is assigned to)."""
    query = select(FulfillmentOrder).where(FulfillmentOrder.id == fo_id, _visible(principal))
    if lock:
        query = query.with_for_update()
    fo = session.scalar(query)
    if fo is None:
        raise NotFound(f"no fulfillment order {fo_id}")
    return fo


def list_fulfillment_orders(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    request_status: str | None,
    order_id: str | None,
    facility_code: str | None,
    limit: int,
    after: str | None,
) -> list[FulfillmentOrder]:
    """A page of the fulfillment orders the caller may see, oldest first."""
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500", field="limit")
    for name, value, allowed in (
        ("status", status, STATUSES),
        ("request_status", request_status, REQUEST_STATUSES),
    ):
        if value and value not in allowed:
            raise InvalidInput(f"{name} must be one of {', '.join(allowed)}", field=name)
    visible = _visible(principal)
    query = paging.page(
        session,
        select(FulfillmentOrder).where(visible),
        (FulfillmentOrder.created_at, FulfillmentOrder.id),
        visible,
        after=after or None,
        limit=limit,
        what="a fulfillment order",
    )
    if status:
        query = query.where(FulfillmentOrder.status == status)
    if request_status:
        query = query.where(FulfillmentOrder.request_status == request_status)
    if order_id:
        query = query.where(FulfillmentOrder.order_id == order_id)
    if facility_code:
        query = query.join(Facility, Facility.id == FulfillmentOrder.facility_id).where(
            Facility.code == facility_code
        )
    return list(session.scalars(query))


def act(
    session: Session,
    principal: Principal,
    fo_id: str,
    action: Action,
    *,
    reason: str | None = None,
    message: str | None = None,
    hold_id: str | None = None,
) -> FulfillmentOrder:
    """Apply a handshake action (accept, reject, hold, release-hold, cancellation, close)."""
    principal.require("operator")
    fo = get(session, principal, fo_id, lock=True)
    open_holds_after = 0
    if action is Action.REJECT and reason not in REJECTION_REASONS:
        raise InvalidInput(
            f"reason must be one of {', '.join(REJECTION_REASONS)}",
            field="reason",
            code="invalid_reason",
        )
    if action is Action.HOLD and reason not in HOLD_REASONS:
        raise InvalidInput(
            f"reason must be one of {', '.join(HOLD_REASONS)}",
            field="reason",
            code="invalid_reason",
        )
    if action is Action.RELEASE_HOLD:
        open_holds_after = _release_holds(session, principal, fo, hold_id)
    outcome = apply(_state(fo), action, principal.kind, open_holds_after=open_holds_after)
    _store(fo, outcome.state)
    data: dict[str, Any] = {}
    if action is Action.REJECT:
        fo.rejection_reason, fo.rejection_message = reason, message
        data = {"reason": reason, "message": message}
    if action is Action.HOLD:
        hold = Hold(
            id=new_id("hld"),
            fulfillment_order_id=fo.id,
            merchant_id=fo.merchant_id,
            placed_by=principal.party_id,
            reason=reason or "other",
            note=message,
            created_at=utcnow(),
            released_at=None,
            released_by=None,
        )
        session.add(hold)
        data = {"hold_id": hold.id, "reason": reason, "note": message}
    if outcome.releases_reservation:
        cancels = action in (Action.CANCEL, Action.ACCEPT_CANCELLATION)
        data["released_units"] = _give_back(
            session, principal, fo, cancel=cancels, reason=EVENT_NAMES[action]
        )
        tasks.close_open(session, fo.id, status="cancelled", actor=principal.party_id)
    session.flush()
    _fo_event(session, fo, f"fulfillment_order.{EVENT_NAMES[action]}", principal, data)
    _refresh(session, fo.order_id)
    return fo


def _store(fo: FulfillmentOrder, state: FoState) -> None:
    fo.status, fo.request_status = state.status, state.request_status
    fo.status_before_hold = state.status_before_hold
    fo.updated_at = utcnow()


def _release_holds(
    session: Session, principal: Principal, fo: FulfillmentOrder, hold_id: str | None
) -> int:
    query = select(Hold).where(Hold.fulfillment_order_id == fo.id, Hold.released_at.is_(None))
    open_holds = list(session.scalars(query))
    mine = [
        h
        for h in open_holds
        if h.placed_by == principal.party_id and (hold_id is None or h.id == hold_id)
    ]
    if hold_id is not None and not mine:
        raise NotFound(
            f"no open hold {hold_id} of yours on this fulfillment order", field="hold_id"
        )
    if not mine:
        raise InvalidState(
            "you have no open hold on this fulfillment order",
            code="no_hold_to_release",
            state={"status": fo.status, "request_status": fo.request_status},
        )
    now = utcnow()
    for hold in mine:
        hold.released_at, hold.released_by = now, principal.party_id
    return len(open_holds) - len(mine)


def _give_back(
    session: Session, principal: Principal, fo: FulfillmentOrder, *, cancel: bool, reason: str
) -> int:
    """Release every unshipped unit of the FO to stock; cancel them on the order if asked."""
    units: dict[tuple[str, str], int] = defaultdict(int)
    total = 0
    for line in session.scalars(
        select(FulfillmentOrderLine).where(FulfillmentOrderLine.fulfillment_order_id == fo.id)
    ):
        left = line.quantity - line.shipped_quantity - line.released_quantity
        if left <= 0:
            continue
        for part in line.components:
            units[(fo.facility_id, part["sku"])] += left * int(part["quantity"])
        line.released_quantity += left
        total += left
        if cancel:
            orders.cancel_units(session, line.order_line_id, left)
    inventory.release(
        session, fo.merchant_id, units, reason=reason, reference=fo.id, actor=principal.party_id
    )
    return total


def ship(
    session: Session,
    principal: Principal,
    fo_id: str,
    *,
    carrier: str,
    tracking_number: str,
    lines: Sequence[ShipmentLineInput],
    carrier_charge: Decimal | None = None,
    currency: str | None = None,
    source: str | None = None,
) -> Shipment:
    """Record a parcel (partial shipments allowed); stock leaves the ledger. ``source`` (say,
    the id of the EDI document that reported the parcel) is kept on the event."""
    principal.require("operator")
    if carrier_charge is not None and carrier_charge < 0:
        raise InvalidInput("carrier_charge must not be negative", field="carrier_charge")
    if carrier_charge is not None and not currency:
        raise InvalidInput("give the currency of the carrier charge", field="currency")
    if not carrier.strip():
        raise InvalidInput("carrier must not be empty", field="carrier")
    if not tracking_number.strip():
        raise InvalidInput("tracking_number must not be empty", field="tracking_number")
    if not lines:
        raise InvalidInput("a shipment needs at least one line", field="lines")
    fo = get(session, principal, fo_id, lock=True)
    fo_lines = list(
        session.scalars(
            select(FulfillmentOrderLine)
            .where(FulfillmentOrderLine.fulfillment_order_id == fo.id)
            .order_by(FulfillmentOrderLine.id)
        )
    )
    units: dict[tuple[str, str], int] = defaultdict(int)
    for i, item in enumerate(lines):
        if item.quantity <= 0:
            raise InvalidInput("quantity must be positive", field=f"lines[{i}].quantity")
        matching = [ln for ln in fo_lines if ln.sku == item.sku]
        if not matching:
            raise InvalidInput(
                f"SKU '{item.sku}' is not on this fulfillment order",
                field=f"lines[{i}].sku",
                code="sku_not_on_fulfillment_order",
            )
        left = sum(ln.quantity - ln.shipped_quantity - ln.released_quantity for ln in matching)
        if item.quantity > left:
            raise InvalidInput(
                f"only {left} unit(s) of '{item.sku}' are left to ship",
                field=f"lines[{i}].quantity",
                code="over_shipment",
            )
        need = item.quantity
        for ln in matching:
            take = min(need, ln.quantity - ln.shipped_quantity - ln.released_quantity)
            if take <= 0:
                continue
            ln.shipped_quantity += take
            need -= take
            for part in ln.components:
                units[(fo.facility_id, part["sku"])] += take * int(part["quantity"])
    fully = all(ln.shipped_quantity + ln.released_quantity >= ln.quantity for ln in fo_lines)
    outcome = apply(_state(fo), Action.SHIP, principal.kind, fully_shipped=fully)
    _store(fo, outcome.state)
    inventory.ship(session, fo.merchant_id, units, reference=fo.id, actor=principal.party_id)
    shipment = Shipment(
        id=new_id("shp"),
        fulfillment_order_id=fo.id,
        merchant_id=fo.merchant_id,
        carrier=carrier.strip(),
        tracking_number=tracking_number.strip(),
        lines=[{"sku": x.sku, "quantity": x.quantity} for x in lines],
        carrier_charge=carrier_charge,
        currency=currency.upper() if currency else None,
        created_by=principal.party_id,
        shipped_at=utcnow(),
        delivered_at=None,
    )
    session.add(shipment)
    session.flush()
    _fo_event(
        session,
        fo,
        "fulfillment_order.shipment_created",
        principal,
        {
            "shipment_id": shipment.id,
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "lines": shipment.lines,
            "shipped_at": shipment.shipped_at.isoformat(),
            "fully_shipped": fo.status == "closed",
            "carrier_charge": str(carrier_charge) if carrier_charge is not None else None,
            "currency": shipment.currency,
            **({"source": source} if source else {}),
        },
    )
    if fo.status == "closed":
        tasks.close_open(session, fo.id, status="done", actor=principal.party_id)
        _fo_event(session, fo, "fulfillment_order.fulfilled", principal, {})
    _refresh(session, fo.order_id)
    return shipment


def record_delivery(
    session: Session, principal: Principal, shipment_id: str, *, delivered_at: datetime
) -> Shipment:
    """Record that a parcel was delivered (from carrier tracking, by either party)."""
    principal.require("operator")
    shipment = session.get(Shipment, shipment_id)
    fo = (
        None
        if shipment is None
        else session.scalar(
            select(FulfillmentOrder).where(
                FulfillmentOrder.id == shipment.fulfillment_order_id, _visible(principal)
            )
        )
    )
    if shipment is None or fo is None:
        raise NotFound(f"no shipment {shipment_id}")
    if delivered_at.tzinfo is None:
        raise InvalidInput("delivered_at needs a time zone", field="delivered_at")
    if delivered_at < shipment.shipped_at:
        raise InvalidInput("delivered_at is before the parcel shipped", field="delivered_at")
    if delivered_at > utcnow():
        raise InvalidInput("delivered_at is in the future", field="delivered_at")
    first = shipment.delivered_at is None
    shipment.delivered_at = delivered_at
    session.flush()
    if first:
        order = session.get(Order, fo.order_id)
        assert order is not None
        _fo_event(
            session,
            fo,
            "shipment.delivered",
            principal,
            {
                "shipment_id": shipment.id,
                "delivered_at": delivered_at.isoformat(),
                "promised_delivery": order.promised_delivery.isoformat()
                if order.promised_delivery
                else None,
            },
        )
    return shipment


def cancel_order(session: Session, principal: Principal, order_id: str) -> Order:
    """Cancel what can be cancelled now and ask providers to cancel what they accepted."""
    principal.require("operator")
    order = orders.get(session, principal, order_id, lock=True)
    if order.status in ("cancelled", "shipped", "closed"):
        raise InvalidState(
            f"order is already {order.status}",
            code="order_finished",
            state={"status": order.status},
        )
    for line_id, progress in line_progress(session, order.id).items():
        orders.cancel_units(session, line_id, progress.backordered)
    fos = session.scalars(
        select(FulfillmentOrder)
        .where(FulfillmentOrder.order_id == order.id, FulfillmentOrder.status.not_in(TERMINAL))
        .order_by(FulfillmentOrder.id)
    )
    requested = []
    for fo in list(fos):
        actions = allowed_actions(_state(fo), "merchant")
        if Action.CANCEL.value in actions:
            act(session, principal, fo.id, Action.CANCEL)
        elif Action.REQUEST_CANCELLATION.value in actions:
            act(session, principal, fo.id, Action.REQUEST_CANCELLATION)
            requested.append(fo.id)
    refresh_order(session, order)
    emit(
        session,
        [
            NewEvent(
                type="order.cancellation_requested" if requested else "order.cancelled",
                merchant_id=order.merchant_id,
                subject_type="order",
                subject_id=order.id,
                actor_party_id=principal.party_id,
                data={
                    "order_id": order.id,
                    "awaiting_providers": requested,
                    "status": order.status,
                },
            )
        ],
    )
    return order


def _refresh(session: Session, order_id: str) -> None:
    order = session.get(Order, order_id)
    assert order is not None
    refresh_order(session, order)


def _fo_event(
    session: Session, fo: FulfillmentOrder, kind: str, principal: Principal, data: dict[str, Any]
) -> None:
    emit(
        session,
        [
            NewEvent(
                type=kind,
                merchant_id=fo.merchant_id,
                provider_id=fo.provider_id,
                subject_type="fulfillment_order",
                subject_id=fo.id,
                actor_party_id=principal.party_id,
                data={
                    "fulfillment_order_id": fo.id,
                    "order_id": fo.order_id,
                    "facility_id": fo.facility_id,
                    "agreement_id": fo.agreement_id,
                    "status": fo.status,
                    "request_status": fo.request_status,
                    **data,
                },
            )
        ],
    )


def views(
    session: Session, principal: Principal, fos: Sequence[FulfillmentOrder]
) -> list[dict[str, Any]]:
    """Fulfillment orders as the caller may see them (PII only where the agreement allows)."""
    if not fos:
        return []
    ids = [fo.id for fo in fos]
    lines: dict[str, list[FulfillmentOrderLine]] = defaultdict(list)
    for ln in session.scalars(
        select(FulfillmentOrderLine)
        .where(FulfillmentOrderLine.fulfillment_order_id.in_(ids))
        .order_by(FulfillmentOrderLine.id)
    ):
        lines[ln.fulfillment_order_id].append(ln)
    holds: dict[str, list[Hold]] = defaultdict(list)
    for hold in session.scalars(
        select(Hold).where(Hold.fulfillment_order_id.in_(ids), Hold.released_at.is_(None))
    ):
        holds[hold.fulfillment_order_id].append(hold)
    shipments: dict[str, list[Shipment]] = defaultdict(list)
    for shp in session.scalars(
        select(Shipment).where(Shipment.fulfillment_order_id.in_(ids)).order_by(Shipment.shipped_at)
    ):
        shipments[shp.fulfillment_order_id].append(shp)
    codes: dict[str, str] = {
        fid: code
        for fid, code in session.execute(
            select(Facility.id, Facility.code).where(
                Facility.id.in_({fo.facility_id for fo in fos})
            )
        ).all()
    }
    order_rows = {
        o.id: o
        for o in session.scalars(select(Order).where(Order.id.in_({fo.order_id for fo in fos})))
    }
    now = utcnow()
    policies = (
        agreements.sharing_of(
            session,
            {
                (fo.agreement_id, fo.agreement_version)
                for fo in fos
                if fo.agreement_id is not None and fo.agreement_version is not None
            },
        )
        if principal.is_provider
        else {}
    )
    result = []
    for fo in fos:
        order = order_rows[fo.order_id]
        ship_to: dict[str, Any] | None = order.ship_to
        if principal.is_provider:
            ship_to = provider_ship_to(
                policies.get((fo.agreement_id or "", fo.agreement_version or 0), DEFAULT_SHARING),
                order.ship_to,
                finished_at=fo.updated_at if fo.status in TERMINAL else None,
                now=now,
            )
        result.append(
            {
                "id": fo.id,
                "order_id": fo.order_id,
                "merchant_id": fo.merchant_id,
                "provider_id": fo.provider_id,
                "facility_code": codes.get(fo.facility_id),
                "agreement_id": fo.agreement_id,
                "agreement_version": fo.agreement_version,
                "status": fo.status,
                "request_status": fo.request_status,
                "supported_actions": list(allowed_actions(_state(fo), principal.kind)),
                "channel": order.channel,
                "external_id": order.external_id,
                "ship_to": ship_to,
                "rejection_reason": fo.rejection_reason,
                "rejection_message": fo.rejection_message,
                "holds": [
                    {
                        "id": h.id,
                        "reason": h.reason,
                        "note": h.note,
                        "placed_by": h.placed_by,
                        "created_at": h.created_at,
                    }
                    for h in holds[fo.id]
                ],
                "lines": [
                    {
                        "id": ln.id,
                        "order_line_id": ln.order_line_id,
                        "sku": ln.sku,
                        "quantity": ln.quantity,
                        "shipped_quantity": ln.shipped_quantity,
                        "released_quantity": ln.released_quantity,
                        "remaining_quantity": ln.quantity
                        - ln.shipped_quantity
                        - ln.released_quantity,
                    }
                    for ln in lines[fo.id]
                ],
                "shipments": [
                    {
                        "id": s.id,
                        "carrier": s.carrier,
                        "tracking_number": s.tracking_number,
                        "lines": s.lines,
                        "shipped_at": s.shipped_at,
                        "delivered_at": s.delivered_at,
                        "carrier_charge": s.carrier_charge,
                        "currency": s.currency,
                    }
                    for s in shipments[fo.id]
                ],
                "created_at": fo.created_at,
                "updated_at": fo.updated_at,
            }
        )
    return result


def order_view(session: Session, principal: Principal, order: Order) -> dict[str, Any]:
    """An order with its lines' progress and its fulfillment orders."""
    progress = line_progress(session, order.id)
    fos = list(
        session.scalars(
            select(FulfillmentOrder)
            .where(FulfillmentOrder.order_id == order.id)
            .order_by(FulfillmentOrder.created_at, FulfillmentOrder.id)
        )
    )
    return {
        "id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "ship_to": order.ship_to,
        "currency": order.currency,
        "order_value": order.order_value,
        "placed_at": order.placed_at,
        "ship_by": order.ship_by,
        "promised_delivery": order.promised_delivery,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "lines": [
            {
                "id": ln.id,
                "line_no": ln.line_no,
                "sku": ln.sku,
                "quantity": ln.quantity,
                "reserved_quantity": progress[ln.id].reserved,
                "shipped_quantity": progress[ln.id].shipped,
                "cancelled_quantity": progress[ln.id].cancelled,
                "backordered_quantity": progress[ln.id].backordered,
                "unit_price": ln.unit_price,
            }
            for ln in orders.lines_of(session, order.id)
        ],
        "fulfillment_orders": views(session, principal, fos),
        "sourcing": order.sourcing,
    }


def placed_view(principal: Principal, placed: Placed) -> dict[str, Any]:
    """The view of a just-placed order, built from what was written (no second read)."""
    order = placed.order
    fo_lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in placed.fulfillment_order_lines:
        fo_lines[row["fulfillment_order_id"]].append(row)
    fos = []
    for row in placed.fulfillment_orders:
        state = FoState(
            status=row["status"],
            request_status=row["request_status"],
            provider_managed=row["provider_id"] is not None,
        )
        fos.append(
            {
                **{
                    k: row[k]
                    for k in (
                        "id",
                        "order_id",
                        "merchant_id",
                        "provider_id",
                        "agreement_id",
                        "agreement_version",
                        "status",
                        "request_status",
                        "rejection_reason",
                        "rejection_message",
                        "created_at",
                        "updated_at",
                    )
                },
                "facility_code": placed.facility_codes.get(row["facility_id"]),
                "supported_actions": list(allowed_actions(state, principal.kind)),
                "channel": order.channel,
                "external_id": order.external_id,
                "ship_to": order.ship_to,
                "holds": [],
                "shipments": [],
                "lines": [
                    {
                        "id": ln["id"],
                        "order_line_id": ln["order_line_id"],
                        "sku": ln["sku"],
                        "quantity": ln["quantity"],
                        "shipped_quantity": 0,
                        "released_quantity": 0,
                        "remaining_quantity": ln["quantity"],
                    }
                    for ln in fo_lines[row["id"]]
                ],
            }
        )
    return {
        "id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "ship_to": order.ship_to,
        "currency": order.currency,
        "order_value": order.order_value,
        "placed_at": order.placed_at,
        "ship_by": order.ship_by,
        "promised_delivery": order.promised_delivery,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "lines": [
            {
                "id": ln.id,
                "line_no": ln.line_no,
                "sku": ln.sku,
                "quantity": ln.quantity,
                "reserved_quantity": placed.reserved[ln.id],
                "shipped_quantity": 0,
                "cancelled_quantity": 0,
                "backordered_quantity": ln.quantity - placed.reserved[ln.id],
                "unit_price": ln.unit_price,
            }
            for ln in placed.lines
        ],
        "fulfillment_orders": fos,
        "sourcing": order.sourcing,
    }
