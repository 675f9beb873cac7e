"""Routes: stock balances, postings and the ledger."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictInt

from midway.api_deps import CurrentPrincipal, Db
from midway.inventory import service
from midway.schemas import PROBLEM_RESPONSES, StrictModel

router = APIRouter(tags=["inventory"], responses=PROBLEM_RESPONSES)


class AdjustmentIn(StrictModel):
    """A signed change of on-hand stock at a facility the caller runs."""

    facility_code: str
    sku: str
    quantity: StrictInt = Field(description="signed: positive adds, negative removes")
    reason: str = Field(
        min_length=1, max_length=64, description="e.g. cycle_count, damaged, found, receipt"
    )
    reference: str | None = Field(None, max_length=128)
    kind: str = Field("adjustment", description="adjustment | receipt | count | return")
    merchant_id: str | None = Field(None, description="whose stock (required for providers)")


class BalanceOut(BaseModel):
    """Stock of one SKU at one facility."""

    merchant_id: str
    facility_code: str
    sku: str
    on_hand: int
    reserved: int
    available: int


class MovementOut(BaseModel):
    """One ledger row."""

    id: int
    facility_code: str
    sku: str
    kind: str
    on_hand_delta: int
    reserved_delta: int
    reason: str
    reference: str | None
    actor_party_id: str
    created_at: datetime


class LedgerPage(BaseModel):
    """A page of the ledger and the cursor for the next."""

    movements: list[MovementOut]
    next_after: int | None


@router.post("/v1/inventory/adjustments", response_model=BalanceOut, status_code=201)
def adjust(body: AdjustmentIn, principal: CurrentPrincipal, db: Db) -> BalanceOut:
    """Post a receipt, adjustment, count correction or restocked return (ledger + balance)."""
    with db.transaction() as session:
        balance = service.post(
            session,
            principal,
            facility_code=body.facility_code,
            sku=body.sku,
            quantity=body.quantity,
            kind=body.kind,
            reason=body.reason,
            reference=body.reference,
            merchant_id=body.merchant_id,
        )
        return BalanceOut(
            merchant_id=balance.merchant_id,
            facility_code=body.facility_code,
            sku=balance.sku,
            on_hand=balance.on_hand,
            reserved=balance.reserved,
            available=balance.on_hand - balance.reserved,
        )


@router.get("/v1/inventory", response_model=list[BalanceOut])
def inventory(
    principal: CurrentPrincipal,
    db: Db,
    sku: str | None = None,
    facility_code: str | None = None,
    merchant_id: str | None = None,
) -> list[BalanceOut]:
    """Balances per facility the caller may see."""
    with db.transaction(write=False) as session:
        rows = service.balances(
            session, principal, sku=sku, facility_code=facility_code, merchant_id=merchant_id
        )
        return [
            BalanceOut(
                merchant_id=b.merchant_id,
                facility_code=f.code,
                sku=b.sku,
                on_hand=b.on_hand,
                reserved=b.reserved,
                available=b.on_hand - b.reserved,
            )
            for b, f in rows
        ]


@router.get("/v1/inventory/ledger", response_model=LedgerPage)
def ledger(
    principal: CurrentPrincipal,
    db: Db,
    sku: str | None = None,
    facility_code: str | None = None,
    after: int | None = None,
    limit: int = Query(200, ge=1, le=1000),
) -> LedgerPage:
    """The stock ledger, oldest first."""
    with db.transaction(write=False) as session:
        rows = service.ledger(
            session, principal, sku=sku, facility_code=facility_code, after=after, limit=limit
        )
        out = [
            MovementOut(
                id=m.id,
                facility_code=f.code,
                sku=m.sku,
                kind=m.kind,
                on_hand_delta=m.on_hand_delta,
                reserved_delta=m.reserved_delta,
                reason=m.reason,
                reference=m.reference,
                actor_party_id=m.actor_party_id,
                created_at=m.created_at,
            )
            for m, f in rows
        ]
    return LedgerPage(movements=out, next_after=out[-1].id if out else after)
