"""Routes: fulfillment orders, the handshake actions and shipments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from midway.api_deps import CurrentPrincipal, Db, choice, page_after
from midway.core import fulfillment as fo_states
from midway.core.fulfillment import Action
from midway.fulfillment import service
from midway.fulfillment.schemas import (
    ActionIn,
    DeliveryIn,
    FulfillmentOrderOut,
    ShipmentIn,
    ShipmentOut,
)
from midway.schemas import PROBLEM_RESPONSES

router = APIRouter(tags=["fulfillment orders"], responses=PROBLEM_RESPONSES)


def _one(session: Any, principal: Any, fo_id: str) -> FulfillmentOrderOut:
    fo = service.get(session, principal, fo_id)
    return FulfillmentOrderOut.model_validate(service.views(session, principal, [fo])[0])


@router.get("/v1/fulfillment-orders", response_model=list[FulfillmentOrderOut])
def list_fulfillment_orders(
    principal: CurrentPrincipal,
    db: Db,
    status: str | None = choice(fo_states.STATUSES, "the fulfillment order's status"),
    request_status: str | None = choice(
        fo_states.REQUEST_STATUSES, "where the request to the facility stands"
    ),
    order_id: str | None = None,
    facility_code: str | None = None,
    after: str | None = page_after(),
    limit: int = Query(100, ge=1, le=500),
) -> list[FulfillmentOrderOut]:
    """Fulfillment orders the caller may see (a provider: those assigned to its facilities)."""
    with db.transaction(write=False) as session:
        fos = service.list_fulfillment_orders(
            session,
            principal,
            status=status,
            request_status=request_status,
            order_id=order_id,
            facility_code=facility_code,
            limit=limit,
            after=after,
        )
        return [
            FulfillmentOrderOut.model_validate(v) for v in service.views(session, principal, fos)
        ]


@router.get("/v1/fulfillment-orders/{fo_id}", response_model=FulfillmentOrderOut)
def get_fulfillment_order(fo_id: str, principal: CurrentPrincipal, db: Db) -> FulfillmentOrderOut:
    """One fulfillment order."""
    with db.transaction(write=False) as session:
        return _one(session, principal, fo_id)


def _action_route(action: Action, path: str, doc: str) -> None:
    def route(
        fo_id: str, principal: CurrentPrincipal, db: Db, body: ActionIn | None = None
    ) -> FulfillmentOrderOut:
        details = body or ActionIn()
        with db.transaction() as session:
            service.act(
                session,
                principal,
                fo_id,
                action,
                reason=details.reason,
                message=details.message,
                hold_id=details.hold_id,
            )
            return _one(session, principal, fo_id)

    route.__doc__ = doc
    route.__name__ = f"fulfillment_order_{action.value}"
    router.add_api_route(
        f"/v1/fulfillment-orders/{{fo_id}}/{path}",
        route,
        methods=["POST"],
        response_model=FulfillmentOrderOut,
        name=route.__name__,
    )


for _action, _path, _doc in (
    (
        Action.SUBMIT,
        "submit",
        "The merchant submits the request to the provider "
        "(when the agreement does not submit automatically).",
    ),
    (Action.ACCEPT, "accept", "The provider accepts the request; the work is in progress."),
    (
        Action.REJECT,
        "reject",
        "The provider rejects the request with a reason; the reservation "
        "is released and the order can be re-sourced.",
    ),
    (Action.HOLD, "hold", "Either party places a hold with a reason."),
    (Action.RELEASE_HOLD, "release-hold", "Release the caller's holds (or one, by hold_id)."),
    (
        Action.REQUEST_CANCELLATION,
        "request-cancellation",
        "The merchant asks the provider to cancel accepted work.",
    ),
    (
        Action.ACCEPT_CANCELLATION,
        "accept-cancellation",
        "The provider accepts the cancellation; unshipped units are released and cancelled.",
    ),
    (
        Action.REJECT_CANCELLATION,
        "reject-cancellation",
        "The provider rejects the cancellation; work goes on.",
    ),
    (
        Action.CLOSE,
        "close",
        "The provider closes accepted work as incomplete; unshipped units "
        "return to the merchant for re-sourcing.",
    ),
    (Action.CANCEL, "cancel", "The merchant cancels work the provider has not accepted."),
):
    _action_route(_action, _path, _doc)


@router.post(
    "/v1/fulfillment-orders/{fo_id}/shipments", response_model=FulfillmentOrderOut, status_code=201
)
def create_shipment(
    fo_id: str, body: ShipmentIn, principal: CurrentPrincipal, db: Db
) -> FulfillmentOrderOut:
    """Record a parcel with carrier, tracking number and lines (partial shipments allowed)."""
    with db.transaction() as session:
        service.ship(
            session,
            principal,
            fo_id,
            carrier=body.carrier,
            tracking_number=body.tracking_number,
            lines=[service.ShipmentLineInput(x.sku, x.quantity) for x in body.lines],
            carrier_charge=body.carrier_charge,
            currency=body.currency,
        )
        return _one(session, principal, fo_id)


@router.post("/v1/shipments/{shipment_id}/delivery", response_model=ShipmentOut)
def record_delivery(
    shipment_id: str, body: DeliveryIn, principal: CurrentPrincipal, db: Db
) -> ShipmentOut:
    """Record when a parcel was delivered (feeds on-time delivery)."""
    with db.transaction() as session:
        shipment = service.record_delivery(
            session, principal, shipment_id, delivered_at=body.delivered_at
        )
        return ShipmentOut.model_validate(shipment, from_attributes=True)
