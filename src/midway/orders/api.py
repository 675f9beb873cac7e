"""Routes: orders (intake with idempotency keys, reading, cancelling, re-sourcing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response

from midway.api_deps import CurrentPrincipal, Db, Placer, choice, page_after
from midway.errors import Conflict
from midway.fulfillment import intake
from midway.fulfillment import service as fulfillment
from midway.idempotency import service as idempotency
from midway.orders import service
from midway.orders.schemas import OrderIn, OrderOut
from midway.principal import Principal
from midway.schemas import PROBLEM_RESPONSES

router = APIRouter(tags=["orders"], responses=PROBLEM_RESPONSES)


@router.post("/v1/orders", response_model=OrderOut, status_code=201)
def create_order(
    body: OrderIn,
    principal: CurrentPrincipal,
    db: Db,
    placer: Placer,
    idempotency_key: str | None = Header(None, description="replays the first answer on retry"),
) -> Any:
    """Accept an order: sourced, reserved and handed to facilities in one transaction.

    Without an Idempotency-Key, orders posted at the same time share a transaction (each is
    still accepted or refused on its own); with one, the order and its stored answer are
    written in a transaction of their own."""
    endpoint = "POST /v1/orders"
    if idempotency_key is not None:
        replay = idempotency.claim(
            db,
            party_id=principal.party_id,
            endpoint=endpoint,
            key=idempotency_key,
            body_hash=idempotency.fingerprint(body.model_dump(mode="json")),
            inflight_timeout=timedelta(seconds=60),
        )
        if replay is not None:
            return JSONResponse(
                replay.body, status_code=replay.status, headers={"Idempotent-Replayed": "true"}
            )
    try:
        if idempotency_key is None:
            # The answer is built after the commit: no write lock is held meanwhile.
            payload = _placed_payload(principal, placer.place(principal, body.to_input()))
        else:
            with db.transaction() as session:
                placed = intake.place(session, principal, body.to_input())
                payload = _placed_payload(principal, placed)  # stored with the order
                idempotency.complete(
                    session,
                    party_id=principal.party_id,
                    endpoint=endpoint,
                    key=idempotency_key,
                    status=201,
                    body=payload,
                )
    except BaseException as exc:
        if idempotency_key is not None:
            idempotency.release(
                db, party_id=principal.party_id, endpoint=endpoint, key=idempotency_key
            )
        if isinstance(exc, Conflict) and exc.code == "duplicate_order":
            with db.transaction(write=False) as session:
                existing = service.find_existing(
                    session, principal.party_id, body.channel, body.external_id
                )
            exc.extra["order_id"] = existing
        raise
    return Response(orjson.dumps(payload), status_code=201, media_type="application/json")


def _placed_payload(principal: Principal, placed: intake.Placed) -> dict[str, Any]:
    view = fulfillment.placed_view(principal, placed)
    payload: dict[str, Any] = OrderOut.model_validate(view).model_dump(mode="json")
    return payload


@router.get("/v1/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: str, principal: CurrentPrincipal, db: Db) -> OrderOut:
    """An order of the caller's."""
    with db.transaction(write=False) as session:
        order = service.get(session, principal, order_id)
        return OrderOut.model_validate(fulfillment.order_view(session, principal, order))


@router.get("/v1/orders", response_model=list[OrderOut])
def list_orders(
    principal: CurrentPrincipal,
    db: Db,
    status: str | None = choice(service.STATUSES, "the order's status"),
    channel: str | None = None,
    after: str | None = page_after(),
    limit: int = Query(50, ge=1, le=200),
) -> list[OrderOut]:
    """A page of the caller's orders, newest first."""
    with db.transaction(write=False) as session:
        return [
            OrderOut.model_validate(fulfillment.order_view(session, principal, o))
            for o in service.list_orders(
                session, principal, status=status, channel=channel, limit=limit, after=after
            )
        ]


@router.post("/v1/orders/{order_id}/cancel", response_model=OrderOut)
def cancel(order_id: str, principal: CurrentPrincipal, db: Db) -> OrderOut:
    """Cancel an order: unshipped work is cancelled, or its cancellation requested from the
    provider where the provider already accepted it."""
    with db.transaction() as session:
        order = fulfillment.cancel_order(session, principal, order_id)
        return OrderOut.model_validate(fulfillment.order_view(session, principal, order))


@router.post("/v1/orders/{order_id}/source", response_model=OrderOut)
def source(order_id: str, principal: CurrentPrincipal, db: Db) -> OrderOut:
    """Source the order's backordered units again (final rejections keep it away from a site)."""
    with db.transaction() as session:
        intake.resource_order(session, principal, order_id)
        order = service.get(session, principal, order_id)
        return OrderOut.model_validate(fulfillment.order_view(session, principal, order))
