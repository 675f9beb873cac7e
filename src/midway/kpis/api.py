"""Routes: KPIs, their drill-down, and customer ratings of orders."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from midway.api_deps import CurrentPrincipal, Db
from midway.kpis import service
from midway.kpis.schemas import RatingIn, RatingOut
from midway.schemas import PROBLEM_RESPONSES

router = APIRouter(tags=["kpis"], responses=PROBLEM_RESPONSES)


@router.get("/v1/kpis")
def kpis(
    principal: CurrentPrincipal,
    db: Db,
    start: date = Query(..., alias="from", description="first local date, inclusive"),
    end: date = Query(..., alias="to", description="last local date, inclusive"),
    agreement_id: str | None = None,
    facility_code: str | None = None,
    channel: str | None = None,
    group_by: str | None = Query(None, pattern="^(week|month)$"),
    tz: str = "UTC",
) -> dict[str, Any]:
    """KPIs with numerator and denominator, per period; empty periods have no value (null)."""
    with db.transaction(write=False) as session:
        return service.kpi_report(
            session,
            principal,
            start=start,
            end=end,
            agreement_id=agreement_id,
            facility_code=facility_code,
            channel=channel,
            group_by=group_by,
            tz=tz,
        )


@router.get("/v1/kpis/{kpi}/items")
def kpi_items(
    kpi: str,
    principal: CurrentPrincipal,
    db: Db,
    start: date = Query(..., alias="from"),
    end: date = Query(..., alias="to"),
    agreement_id: str | None = None,
    facility_code: str | None = None,
    channel: str | None = None,
    tz: str = "UTC",
    failed: bool = False,
    limit: int = Query(1000, ge=1, le=10000),
) -> dict[str, Any]:
    """The orders, clocks or counts behind a KPI, each with whether it met the bar and the ids
    of its events; ``failed=true`` for the misses only."""
    with db.transaction(write=False) as session:
        return service.drill_down(
            session,
            principal,
            kpi,
            start=start,
            end=end,
            agreement_id=agreement_id,
            facility_code=facility_code,
            channel=channel,
            tz=tz,
            only_failed=failed,
            limit=limit,
        )


@router.post("/v1/orders/{order_id}/rating", response_model=RatingOut, status_code=201)
def rate_order(order_id: str, body: RatingIn, principal: CurrentPrincipal, db: Db) -> RatingOut:
    """Record the customer's rating of an order's delivery and packaging (feeds satisfaction)."""
    with db.transaction() as session:
        facts = service.rate_order(
            session, principal, order_id, score=body.score, rated_at=body.rated_at
        )
        return RatingOut(
            order_id=order_id,
            score=body.score,
            rated_at=facts[0].rated_at or body.rated_at,
            fulfillment_order_ids=[f.fulfillment_order_id or "" for f in facts],
        )
