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

# (shipment id, units, units of each special-handling tag, carrier charge, currency)
Parcel = tuple[str, int, tuple[int, ...], Any, str | None]


class _Tags:
    """The special-handling tags billed, and which of them each SKU carries (by position)."""

    def __init__(self, codes: list[str], skus: Mapping[str, SkuFacts]) -> None:
        self.codes = codes
        tags = [code[len(SPECIAL_HANDLING_PREFIX) :] for code in codes]
        self.of_sku: dict[str, tuple[int, ...]] = {}
        for sku, facts in skus.items():
            marks = tuple(k for k, tag in enumerate(tags) if tag in facts.tags)
            if marks:
                self.of_sku[sku] = marks

    def parcel(self, parcel_id: str, text: str, charge: Any, currency: str | None) -> Parcel:
        """A parcel from its stored lines: its units, and its units of each tag."""
        units = 0
        counts = [0] * len(self.codes)
        of_sku = self.of_sku
        for line in orjson.loads(text):
            quantity = int(line["quantity"])
            units += quantity
            marks = of_sku.get(line["sku"]) if of_sku else None
            if marks:
                for k in marks:
                    counts[k] += quantity
        return (parcel_id, units, tuple(counts), charge, currency)


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
    tags = _Tags(sorted(c for c in codes if c.startswith(SPECIAL_HANDLING_PREFIX)), skus)
    current, earlier = _parcels(session, scope, clock, tags)
    fees = owners.provider("packing") and bool(codes & set(SHIPMENT_CODES))
    included = scope.card.included_units
    orders: list[str] = []
    extra = 0
    extra_parcels: list[str] = []
    for fo_id, parcels in current.items() if fees else ():
        before_parcels = earlier.get(fo_id)
        now = 0
        for parcel in parcels:
            now += parcel[1]
        before = sum(p[1] for p in before_parcels) if before_parcels else 0
        if not before_parcels:
            orders.append(fo_id)
        more = max(0, before + now - included) - max(0, before - included)
        if more:
            extra += more
            extra_parcels.extend(p[0] for p in parcels)
    if orders:
        tally.add(FULFILLMENT_ORDER, len(orders), {"fulfillment_orders": orders}, distinct=True)
    if extra:
        tally.add(FULFILLMENT_EXTRA_UNIT, extra, {"shipments": extra_parcels}, distinct=True)
    for k, code in enumerate(tags.codes):
        _handling(tally, scope, code, k, current, earlier)
    if carrier:
        _carrier(result, scope, current)


def _parcels(
    session: Session, scope: Scope, clock: RawTime, tags: _Tags
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
    parcel_of = tags.parcel
    for fo_id, parcel_id, lines, charge, currency, facility_id, shipped, created in rows:
        start, end = bounds[facility_id]
        if shipped < start:
            earlier[fo_id].append(parcel_of(parcel_id, lines, charge, currency))
        elif shipped < end:
            current[fo_id].append(parcel_of(parcel_id, lines, charge, currency))
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
            earlier[fo_id].append(parcel_of(parcel_id, lines, charge, currency))
    return current, earlier


def _handling(
    tally: Tally,
    scope: Scope,
    code: str,
    k: int,
    current: Mapping[str, list[Parcel]],
    earlier: Mapping[str, list[Parcel]],
) -> None:
    """Special handling of the ``k``-th billed tag: per unit of it shipped in the period, or
    per order, once, in the period of the order's first parcel with such units."""
    per_order = scope.card.charges[code].unit == "order"
    quantity = 0
    parcels_with_tag: list[str] = []
    for fo_id, parcels in current.items():
        ids = [p[0] for p in parcels if p[2][k]]
        if not ids:
            continue
        if per_order:
            if any(p[2][k] for p in earlier.get(fo_id, ())):
                continue
            quantity += 1
            ids = ids[:1]
        else:
            quantity += sum(p[2][k] for p in parcels)
        parcels_with_tag.extend(ids)
    if quantity:
        tally.add(code, quantity, {"shipments": parcels_with_tag}, distinct=True)


def _carrier(result: Metered, scope: Scope, current: Mapping[str, list[Parcel]]) -> None:
    currency = scope.card.currency
    cost = Decimal(0)
    ids: list[str] = []
    for parcels in current.values():
        for parcel_id, _, _, charge, parcel_currency in parcels:
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
    """Meter the provider's value-added tasks done in the period (each facility's month is
    selected in SQL; per-order charges read only the task ids)."""
    processes = [p for p in TASK_CHARGES if p in wanted]
    per_unit = [p for p in processes if scope.card.charges[p].unit == "unit"]
    per_order = [p for p in processes if p not in per_unit]
    by_order: dict[str, list[str]] = {p: [] for p in per_order}
    unit_tasks: list[tuple[str, str, str, list[str]]] = []
    for facility_id, (start, end) in clock.window.bounds.items():
        where = (
            FulfillmentOrder.agreement_id == scope.agreement_id,
            FulfillmentOrder.facility_id == facility_id,
            Task.owner == "provider",
            Task.status == "done",
            Task.completed_at >= start,
            Task.completed_at < end,
        )
        if per_order:
            query = select(Task.id, Task.process).join(
                FulfillmentOrder, FulfillmentOrder.id == Task.fulfillment_order_id
            )
            for task_id, process in fetch(
                session, query.where(*where, Task.process.in_(per_order))
            ):
                by_order[process].append(task_id)
        if per_unit:
            units_query = select(
                Task.id, Task.process, Task.fulfillment_order_id, cast(Task.skus, Text)
            ).join(FulfillmentOrder, FulfillmentOrder.id == Task.fulfillment_order_id)
            for task_id, process, fo_id, task_skus in fetch(
                session, units_query.where(*where, Task.process.in_(per_unit))
            ):
                unit_tasks.append((task_id, process, fo_id, orjson.loads(task_skus)))
    for process, ids in by_order.items():
        if ids:
            tally.add(process, len(ids), {"tasks": ids}, distinct=True)
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
