"""KPI use cases: figures per agreement, facility, channel and period, their drill-down, and
customer ratings. Never commits: the caller owns the transaction.

KPIs read the facts the clock engine keeps (``order_facts``, ``sla_clocks``,
``inventory_count_facts``) and imported history; nothing else.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from midway.agreements import service as agreements
from midway.core.kpi import WERC_BEST_IN_CLASS_LABEL, Ratio
from midway.core.sla_terms import SlaTerm
from midway.db import utcnow
from midway.errors import InvalidInput, InvalidState, NotFound
from midway.events.service import NewEvent, emit
from midway.facilities.models import Facility
from midway.kpis import compute
from midway.kpis.models import InventoryCountFact, OrderFact
from midway.kpis.periods import Period, split
from midway.orders import service as orders
from midway.principal import Principal
from midway.sla.models import SlaClock
from midway.sla.terms import TermsCache, version_terms

# The ratio KPIs whose target comes from the SLA term of the same metric.
_TERM_OF = {
    "on_time_ship": "on_time_ship",
    "on_time_delivery": "on_time_delivery",
    "order_accuracy": "order_accuracy",
    "fill_rate": "fill_rate",
    "inventory_accuracy": "inventory_accuracy",
    "dock_to_stock": "dock_to_stock",
    "return_processing": "return_processing",
    "incident_response": "incident_response",
    "incident_resolution": "incident_resolution",
}


DRILLABLE = (
    *compute.ORDER_KPIS,
    *compute.CLOCK_KPIS,
    "inventory_accuracy",
    "customer_satisfaction",
)


@dataclass(frozen=True)
class Scope:
    """Which facts a figure covers (all optional, and always within what the caller may see)."""

    agreement_id: str | None = None
    facility_ids: tuple[str, ...] | None = None
    channel: str | None = None


@dataclass
class Facts:
    """The facts of one scope and time range, loaded once and split by period in memory."""

    orders: list[OrderFact]
    clocks: list[SlaClock]
    counts: list[InventoryCountFact]


def _party(principal: Principal, merchant: Any, provider: Any) -> ColumnElement[bool]:
    column = merchant if principal.is_merchant else provider
    return cast(ColumnElement[bool], column == principal.party_id)


def resolve_scope(
    session: Session,
    principal: Principal,
    *,
    agreement_id: str | None,
    facility_code: str | None,
    channel: str | None,
) -> Scope:
    """Check the caller may see the agreement (404 otherwise) and turn codes into ids."""
    if agreement_id is not None:
        agreements.get(session, principal, agreement_id)
    facility_ids = None
    if facility_code is not None:
        facility_ids = tuple(
            session.scalars(select(Facility.id).where(Facility.code == facility_code))
        )
        if not facility_ids:
            raise NotFound(f"no facility '{facility_code}'", field="facility_code")
    return Scope(agreement_id=agreement_id, facility_ids=facility_ids, channel=channel)


def load_facts(
    session: Session, scope: Scope, start: datetime, end: datetime, party: Principal | None
) -> Facts:
    """Facts touching [start, end) in ``scope``; ``party`` limits them to what it may see
    (None: no limit, for internal callers such as the billing meter)."""

    def inside(column: Any) -> ColumnElement[bool]:
        return and_(column >= start, column < end)

    order_where: list[ColumnElement[bool]] = [
        or_(inside(OrderFact.handed_at), inside(OrderFact.delivered_at), inside(OrderFact.rated_at))
    ]
    clock_where: list[ColumnElement[bool]] = [
        or_(
            inside(SlaClock.stopped_at),
            and_(SlaClock.stopped_at.is_(None), SlaClock.deadline < end),
        )
    ]
    count_where: list[ColumnElement[bool]] = [inside(InventoryCountFact.counted_at)]
    if party is not None:
        order_where.append(_party(party, OrderFact.merchant_id, OrderFact.provider_id))
        clock_where.append(_party(party, SlaClock.merchant_id, SlaClock.provider_id))
        count_where.append(
            _party(party, InventoryCountFact.merchant_id, InventoryCountFact.provider_id)
        )
    if scope.agreement_id is not None:
        order_where.append(OrderFact.agreement_id == scope.agreement_id)
        clock_where.append(SlaClock.agreement_id == scope.agreement_id)
        count_where.append(InventoryCountFact.agreement_id == scope.agreement_id)
    if scope.facility_ids is not None:
        order_where.append(OrderFact.facility_id.in_(scope.facility_ids))
        clock_where.append(SlaClock.facility_id.in_(scope.facility_ids))
        count_where.append(InventoryCountFact.facility_id.in_(scope.facility_ids))
    if scope.channel is not None:
        order_where.append(OrderFact.channel == scope.channel)
    channel_only = scope.channel is not None
    return Facts(
        orders=list(session.scalars(select(OrderFact).where(*order_where))),
        # Clocks and counts have no channel: a channel filter leaves only order KPIs.
        clocks=[] if channel_only else list(session.scalars(select(SlaClock).where(*clock_where))),
        counts=[]
        if channel_only
        else list(session.scalars(select(InventoryCountFact).where(*count_where))),
    )


def cost_per_order(
    session: Session, agreement_id: str | None, period: Period, shipped: int
) -> dict[str, Any]:
    """Fulfillment charges of the period / orders shipped, from the billing module if present."""
    if agreement_id is None:
        return {"value": None, "available": False, "reason": "needs an agreement_id"}
    try:
        billing = importlib.import_module("midway.billing.service")
    except ModuleNotFoundError:
        return {"value": None, "available": False, "reason": "billing is not installed"}
    total = billing.charges_total(session, agreement_id, period.start, period.end)
    if total is None:
        return {"value": None, "available": False, "reason": "no charges for the period yet"}
    if shipped == 0:
        return {"value": None, "available": True, "charges": str(total), "orders_shipped": 0}
    value = (Decimal(total) / shipped).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return {
        "value": str(value),
        "available": True,
        "charges": str(total),
        "orders_shipped": shipped,
    }


def period_figures(
    session: Session,
    facts: Facts,
    period: Period,
    terms: Sequence[SlaTerm],
    agreement_id: str | None,
) -> dict[str, Any]:
    """Every KPI of one period, with targets (labelled default or agreed) and WERC's band."""
    figures: dict[str, Any] = {}
    ratios: dict[str, Ratio] = {}
    for name, kpi in compute.ORDER_KPIS.items():
        ratios[name] = compute.order_ratio(kpi, facts.orders, period)
        figures[name] = compute.ratio_dict(ratios[name])
    for kind in compute.CLOCK_KPIS:
        figures[kind] = compute.clock_summary(facts.clocks, kind, period)
    figures["inventory_accuracy"] = compute.inventory_summary(facts.counts, period)
    figures["customer_satisfaction"] = compute.satisfaction(facts.orders, period)
    figures["perfect_order_index"] = {"percent": compute.perfect_index(ratios)}
    shipped = sum(1 for f in facts.orders if f.status == "shipped" and period.contains(f.handed_at))
    figures["cost_per_order"] = cost_per_order(session, agreement_id, period, shipped)
    by_metric = {t.metric: t for t in terms}
    for name, metric in _TERM_OF.items():
        term = by_metric.get(metric)
        if term is not None:
            figures[name]["target"] = str(term.target)
            figures[name]["target_source"] = "default" if term.is_default else "agreement"
        band = compute.best_in_class(name)
        if band is not None:
            figures[name]["best_in_class"] = band
    return {
        "period": period.label,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "kpis": figures,
    }


def kpi_report(
    session: Session,
    principal: Principal,
    *,
    start: date,
    end: date,
    agreement_id: str | None = None,
    facility_code: str | None = None,
    channel: str | None = None,
    group_by: str | None = None,
    tz: str = "UTC",
) -> dict[str, Any]:
    """KPIs for the caller over [start, end] (local dates in ``tz``), whole or per week/month."""
    scope = resolve_scope(
        session, principal, agreement_id=agreement_id, facility_code=facility_code, channel=channel
    )
    periods = split(start, end, group_by, tz)
    facts = load_facts(session, scope, periods[0].start, periods[-1].end, principal)
    terms = version_terms(TermsCache(session).version(agreement_id, None))
    return {
        "agreement_id": agreement_id,
        "facility_code": facility_code,
        "channel": channel,
        "group_by": group_by,
        "timezone": tz,
        "reference_band": WERC_BEST_IN_CLASS_LABEL,
        "periods": [period_figures(session, facts, p, terms, agreement_id) for p in periods],
    }


def drill_down(
    session: Session,
    principal: Principal,
    kpi: str,
    *,
    start: date,
    end: date,
    agreement_id: str | None = None,
    facility_code: str | None = None,
    channel: str | None = None,
    tz: str = "UTC",
    only_failed: bool = False,
    limit: int = 1000,
) -> dict[str, Any]:
    """The rows behind one KPI over [start, end]: orders, clocks or counts, with their events."""
    scope = resolve_scope(
        session, principal, agreement_id=agreement_id, facility_code=facility_code, channel=channel
    )
    (period,) = split(start, end, None, tz)
    facts = load_facts(session, scope, period.start, period.end, principal)
    items: list[dict[str, Any]]
    if kpi in compute.ORDER_KPIS:
        items = compute.order_items(compute.ORDER_KPIS[kpi], facts.orders, period)
    elif kpi in compute.CLOCK_KPIS:
        items = [clock_item(c) for c in compute.clock_rows(facts.clocks, kpi, period)]
    elif kpi == "inventory_accuracy":
        items = [
            {
                "count_id": c.id,
                "facility_id": c.facility_id,
                "sku": c.sku,
                "expected": c.expected,
                "counted": c.counted,
                "met": c.counted == c.expected,
                "at": c.counted_at,
                "event_ids": [c.event_id],
            }
            for c in facts.counts
            if period.contains(c.counted_at)
        ]
    elif kpi == "customer_satisfaction":
        items = [
            {
                "fact_id": f.id,
                "order_id": f.order_id,
                "external_ref": f.external_ref,
                "rating": f.rating,
                "met": (f.rating or 0) >= 4,
                "at": f.rated_at,
                "event_ids": list(f.event_ids),
            }
            for f in facts.orders
            if f.rating is not None and period.contains(f.rated_at)
        ]
    else:
        raise InvalidInput(
            f"unknown KPI '{kpi}'; drillable KPIs: {', '.join(DRILLABLE)}",
            field="kpi",
        )
    if only_failed:
        items = [i for i in items if not i["met"]]
    items.sort(key=lambda i: (i["at"] is None, i["at"]))
    return {"kpi": kpi, "period": period.label, "count": len(items), "items": items[:limit]}


def clock_item(clock: SlaClock) -> dict[str, Any]:
    """One clock as a drill-down row."""
    return {
        "clock_id": clock.id,
        "kind": clock.kind,
        "subject_type": clock.subject_type,
        "subject_id": clock.subject_id,
        "facility_id": clock.facility_id,
        "accountable": clock.accountable,
        "started_at": clock.started_at,
        "deadline": clock.deadline,
        "stopped_at": clock.stopped_at,
        "status": clock.status,
        "met": clock.status == "met",
        "at": clock.stopped_at,
        "event_ids": [e for e in (clock.start_event_id, clock.stop_event_id) if e],
    }


def rate_order(
    session: Session,
    principal: Principal,
    order_id: str,
    *,
    score: int,
    rated_at: datetime | None = None,
) -> list[OrderFact]:
    """The merchant records the customer's rating (1-5) of an order's delivery and packaging."""
    principal.require("operator")
    principal.require_kind("merchant", "record a customer rating")
    order = orders.get(session, principal, order_id)
    if isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidInput("score must be a whole number from 1 to 5", field="score")
    when = rated_at or utcnow()
    if when.tzinfo is None:
        raise InvalidInput("rated_at needs a time zone", field="rated_at")
    facts = list(
        session.scalars(
            select(OrderFact).where(OrderFact.order_id == order.id, OrderFact.source == "live")
        )
    )
    if not facts:
        raise InvalidState(
            "the order has not been handed to a facility yet (or the SLA worker has not seen "
            "it yet); rate it once it has shipped",
            code="order_not_fulfilled",
        )
    ids = emit(
        session,
        [
            NewEvent(
                type="order.rated",
                merchant_id=order.merchant_id,
                subject_type="order",
                subject_id=order.id,
                actor_party_id=principal.party_id,
                data={"order_id": order.id, "score": score, "rated_at": when.isoformat()},
            )
        ],
    )
    for fact in facts:
        fact.rating, fact.rated_at = score, when
        fact.event_ids = [*fact.event_ids, *ids]
        fact.updated_at = utcnow()
    session.flush()
    return facts
