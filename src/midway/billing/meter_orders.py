"""The order side of the meter: shipments (fees per order and per extra unit, special
handling, carrier pass-through) and value-added tasks (inserts, kitting, labeling).

A fulfillment order's fee is billed in the period of its first shipment; its extra units are
counted over the whole order (units shipped up to the end of the period beyond the included
ones, less those already beyond them before the period), so an order split across months is
never charged twice. Special handling per order follows the same rule per tag.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from midway.billing.meter import Metered, Owners, Scope, SkuFacts, Tally
from midway.billing.window import RawTime, fetch
from midway.core.rating import (
    BRANDED_INSERTS,
    FULFILLMENT_EXTRA_UNIT,
    FULFILLMENT_ORDER,
    KITTING,
    LABELING,
    SPECIAL_HANDLING_PREFIX,
)
from midway.fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, Shipment
from midway.tasks.models import Task

TASK_CHARGES = (BRANDED_INSERTS, KITTING, LABELING)
SHIPMENT_CODES = (FULFILLMENT_ORDER, FULFILLMENT_EXTRA_UNIT)
_CHUNK = 500

# (shipment id, lines, carrier charge, currency, units)
Parcel = tuple[str, list[dict[str, Any]], Any, str | None, int]


def _parcel(parcel_id: str, text: str, charge: Any, currency: str | None) -> Parcel:
    lines = orjson.loads(text)
    return (parcel_id, lines, charge, currency, sum(int(x["quantity"]) for x in lines))


def shipments(
    session: Session,
    scope: Scope,
    clock: RawTime,
    tally: Tally,
    result: Metered,
    owners: Owners,
    skus: Mapping[str, SkuFacts],
    codes: set[str],
    carrier: bool,
) -> None:
    """Meter the agreement's parcels of the period."""
    current, earlier = _parcels(session, scope, clock)
    fees = owners.provider("packing") and bool(codes & set(SHIPMENT_CODES))
    included = scope.card.included_units
    orders: list[str] = []
    extra = 0
    extra_parcels: list[str] = []
    for fo_id, parcels in current.items() if fees else ():
        before_parcels = earlier.get(fo_id)
        now = sum(p[4] for p in parcels)
        before = sum(p[4] for p in before_parcels) if before_parcels else 0
        if not before_parcels:
            orders.append(fo_id)
        more = max(0, before + now - included) - max(0, before - included)
        if more:
            extra += more
            extra_parcels.extend(p[0] for p in parcels)
    if orders:
        tally.add(FULFILLMENT_ORDER, len(orders), {"fulfillment_orders": orders})
    if extra:
        tally.add(
            FULFILLMENT_EXTRA_UNIT,
            extra,
            {"shipments": extra_parcels},
        )
    for code in sorted(c for c in codes if c.startswith(SPECIAL_HANDLING_PREFIX)):
        _handling(tally, scope, code, current, earlier, skus)
    if carrier:
        _carrier(result, scope, current)


def _parcels(
    session: Session, scope: Scope, clock: RawTime
) -> tuple[dict[str, list[Parcel]], dict[str, list[Parcel]]]:
    """Parcels of the period by fulfillment order, and those shipped before it for the same
    orders (only orders created before the period can have any)."""
    window = clock.window
    columns = (
        Shipment.fulfillment_order_id,
        Shipment.id,
        cast(Shipment.lines, Text),
        clock.money(Shipment.carrier_charge),
        Shipment.currency,
        FulfillmentOrder.facility_id,
        clock.column(Shipment.shipped_at),
        clock.column(FulfillmentOrder.created_at),
    )
    joined = select(*columns).join(
        FulfillmentOrder, FulfillmentOrder.id == Shipment.fulfillment_order_id
    )
    rows = fetch(
        session,
        joined.where(
            FulfillmentOrder.agreement_id == scope.agreement_id,
            Shipment.shipped_at >= window.earliest,
            Shipment.shipped_at < window.latest,
        ),
    )
    current: dict[str, list[Parcel]] = defaultdict(list)
    earlier: dict[str, list[Parcel]] = defaultdict(list)
    older: set[str] = set()
    bounds = clock.bounds
    loads = orjson.loads
    for fo_id, parcel_id, text, charge, currency, facility_id, shipped, created in rows:
        start, end = bounds[facility_id]
        lines = loads(text)
        units = 0
        for line in lines:
            units += int(line["quantity"])
        parcel = (parcel_id, lines, charge, currency, units)
        if shipped < start:
            earlier[fo_id].append(parcel)
        elif shipped < end:
            current[fo_id].append(parcel)
            if created < start:
                older.add(fo_id)
    # Without the join: these orders are known to be the agreement's, and the database
    # should look them up by order, not scan the orders for each chunk.
    candidates = sorted(older)
    for i in range(0, len(candidates), _CHUNK):
        chunk = candidates[i : i + _CHUNK]
        for fo_id, parcel_id, lines, charge, currency in fetch(
            session,
            select(*columns[:5]).where(
                Shipment.fulfillment_order_id.in_(chunk),
                Shipment.shipped_at < window.earliest,
            ),
        ):
            earlier[fo_id].append(_parcel(parcel_id, lines, charge, currency))
    return current, earlier


def _handling(
    tally: Tally,
    scope: Scope,
    code: str,
    current: Mapping[str, list[Parcel]],
    earlier: Mapping[str, list[Parcel]],
    skus: Mapping[str, SkuFacts],
) -> None:
    tag = code[len(SPECIAL_HANDLING_PREFIX) :]
    marked = frozenset(sku for sku, facts in skus.items() if tag in facts.tags)
    per_order = scope.card.charges[code].unit == "order"

    def tagged(parcel: Parcel) -> int:
        return sum(int(x["quantity"]) for x in parcel[1] if x["sku"] in marked)

    quantity = 0
    parcels_with_tag: list[str] = []
    for fo_id, parcels in current.items():
        counts = [(p[0], tagged(p)) for p in parcels]
        ids = [pid for pid, n in counts if n]
        if not ids:
            continue
        if per_order:
            if any(tagged(p) for p in earlier.get(fo_id, ())):
                continue
            quantity += 1
            ids = ids[:1]
        else:
            quantity += sum(n for _, n in counts)
        parcels_with_tag.extend(ids)
    if quantity:
        tally.add(code, quantity, {"shipments": parcels_with_tag})


def _carrier(result: Metered, scope: Scope, current: Mapping[str, list[Parcel]]) -> None:
    currency = scope.card.currency
    cost = Decimal(0)
    ids: list[str] = []
    for parcels in current.values():
        for parcel_id, _, charge, parcel_currency, _ in parcels:
            if charge is None:
                continue
            if parcel_currency != currency:
                amount = Decimal(charge)
                cents = amount.quantize(Decimal("0.01"))
                shown = cents if cents == amount else amount.normalize()
                result.notes.append(
                    f"shipment {parcel_id}: carrier charge {shown} {parcel_currency} "
                    f"not passed through (the rate card is in {currency})"
                )
                continue
            cost += Decimal(charge)
            ids.append(parcel_id)
    result.carrier_cost += cost
    result.carrier_shipments += len(ids)
    if ids:
        result.carrier_refs.setdefault("shipments", []).extend(ids)


def tasks(session: Session, scope: Scope, clock: RawTime, tally: Tally, wanted: set[str]) -> None:
    """Meter the provider's value-added tasks done in the period."""
    window = clock.window
    processes = [p for p in TASK_CHARGES if p in wanted]
    per_unit = {p for p in processes if scope.card.charges[p].unit == "unit"}
    rows = fetch(
        session,
        select(
            Task.id,
            Task.process,
            Task.fulfillment_order_id,
            cast(Task.skus, Text),
            FulfillmentOrder.facility_id,
            clock.column(Task.completed_at),
        )
        .join(FulfillmentOrder, FulfillmentOrder.id == Task.fulfillment_order_id)
        .where(
            FulfillmentOrder.agreement_id == scope.agreement_id,
            Task.process.in_(processes),
            Task.owner == "provider",
            Task.status == "done",
            Task.completed_at >= window.earliest,
            Task.completed_at < window.latest,
        ),
    )
    by_order: dict[str, list[str]] = {p: [] for p in processes}
    unit_tasks: list[tuple[str, str, str, list[str]]] = []
    bounds = clock.bounds
    for task_id, process, fo_id, task_skus, facility_id, completed in rows:
        start, end = bounds[facility_id]
        if not start <= completed < end:
            continue
        if process in per_unit:
            unit_tasks.append((task_id, process, fo_id, orjson.loads(task_skus)))
        else:
            by_order[process].append(task_id)
    for process, ids in by_order.items():
        if ids:
            tally.add(process, len(ids), {"tasks": ids})
    if unit_tasks:
        shipped = _shipped_units(session, sorted({t[2] for t in unit_tasks}))
        for task_id, process, fo_id, task_skus in unit_tasks:
            units = sum(shipped.get((fo_id, sku), 0) for sku in task_skus)
            if units:
                tally.add(process, units, {"tasks": [task_id]})


def _shipped_units(session: Session, fo_ids: list[str]) -> dict[tuple[str, str], int]:
    units: dict[tuple[str, str], int] = defaultdict(int)
    for start in range(0, len(fo_ids), _CHUNK):
        chunk = fo_ids[start : start + _CHUNK]
        for fo_id, sku, quantity in fetch(
            session,
            select(
                FulfillmentOrderLine.fulfillment_order_id,
                FulfillmentOrderLine.sku,
                FulfillmentOrderLine.shipped_quantity,
            ).where(FulfillmentOrderLine.fulfillment_order_id.in_(chunk)),
        ):
            units[(fo_id, sku)] += quantity
    return units
