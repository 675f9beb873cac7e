"""Placing orders: validate, store, source, reserve, create fulfillment orders and their tasks,
all in the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from midway import reads
from midway.agreements import service as agreements
from midway.agreements.service import ActiveTerms
from midway.catalog import service as catalog
from midway.catalog.service import SkuFacts
from midway.core import sourcing
from midway.core.calendar import ship_by
from midway.core.fulfillment import Action, apply, initial_state
from midway.core.templates import template
from midway.db import Base, new_id, one_of, per_dialect, utcnow
from midway.events.models import Event
from midway.events.service import NewEvent, emit, event_rows
from midway.facilities import service as facilities
from midway.facilities.models import Facility
from midway.fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from midway.fulfillment.progress import refresh_order
from midway.inserts import insert_tables
from midway.inventory import service as inventory
from midway.inventory.models import StockMovement
from midway.orders import service as orders
from midway.orders.models import Order, OrderLine
from midway.principal import Principal
from midway.tasks import service as tasks
from midway.tasks.models import Task

MAX_ATTEMPTS = 4
# A facility that rejected for these reasons may get the order again once things changed
# (stock arrived, the address was corrected); other rejections are final for this order.
RETRYABLE_REJECTIONS = ("inventory_out_of_stock", "incorrect_address")
IN_HOUSE = template("in_house")
DueAt = Callable[["Site"], datetime]  # a facility's ship-by deadline for work handed over now


@dataclass(frozen=True, slots=True)
class Site:
    """What intake needs of a facility (read as plain columns: every order reads its network,
    and loading ORM objects for it cost more than the query)."""

    id: str
    party_id: str
    code: str
    country: str
    timezone: str
    cutoff_local_time: str
    cost_per_package: Decimal
    cost_per_unit: Decimal
    created_at: datetime


@dataclass(frozen=True)
class Node:
    """A facility that may fulfil the merchant's orders, with the terms it works under."""

    facility: Site
    terms: ActiveTerms | None  # None: the merchant runs it itself

    @property
    def provider_id(self) -> str | None:
        return self.terms.provider_id if self.terms else None


def network(session: Session, merchant_id: str) -> dict[str, Node]:
    """Every facility that can ship the merchant's orders: its own (except returns centres)
    and those of its active agreements."""
    terms = agreements.active_terms(session, merchant_id)
    ids = {fid: t for t in terms for fid in t.facility_ids}
    rows = reads.rows(session, _NETWORK, {"m": merchant_id, "ids": sorted(ids)})
    sites = [Site(*row) for row in rows]
    return {f.id: Node(f, ids.get(f.id) if f.party_id != merchant_id else None) for f in sites}


# Built once: every order reads its merchant's network.
_NETWORK = per_dialect(
    lambda dialect: select(
        Facility.id,
        Facility.party_id,
        Facility.code,
        Facility.country,
        Facility.timezone,
        Facility.cutoff_local_time,
        Facility.cost_per_package,
        Facility.cost_per_unit,
        Facility.created_at,
    ).where(
        or_(
            (Facility.party_id == bindparam("m")) & (Facility.kind != "returns_centre"),
            one_of(Facility.id, "ids", dialect),
        )
    )
)


@dataclass(frozen=True)
class Placed:
    """What placing an order wrote, kept in memory so the reply needs no second read."""

    order: Order
    lines: list[OrderLine]
    reserved: dict[str, int]
    fulfillment_orders: list[dict[str, Any]]
    fulfillment_order_lines: list[dict[str, Any]]
    facility_codes: dict[str, str]

    @classmethod
    def of(
        cls,
        order: Order,
        lines: list[OrderLine],
        reserved: dict[str, int],
        handover: Handover,
        facility_codes: dict[str, str],
    ) -> Placed:
        """The record of an order placed with ``handover``'s fulfillment orders."""
        return cls(
            order=order,
            lines=lines,
            reserved=reserved,
            fulfillment_orders=handover.fulfillment_orders,
            fulfillment_order_lines=handover.fulfillment_order_lines,
            facility_codes=facility_codes,
        )


def place_order(session: Session, principal: Principal, data: orders.OrderInput) -> str:
    """Accept a channel order (see :func:`place`); returns the new order's id."""
    return place(session, principal, data).order.id


def place(session: Session, principal: Principal, data: orders.OrderInput) -> Placed:
    """Accept a channel order: source and reserve it, store it, hand it to facilities.

    Sourcing runs before the order row is written so that the order is inserted once with its
    final status; a duplicate channel order fails on the unique key and rolls back everything.
    """
    principal.require("operator")
    principal.require_kind("merchant", "place orders")
    skus = orders.validate(session, principal.party_id, data)
    order, lines = orders.new_order(principal, data)
    nodes = network(session, order.merchant_id)
    demands = demands_of(lines, skus, {ln.id: ln.quantity for ln in lines})
    decision, wanted = _plan_and_reserve(session, order, nodes, demands, skus, set())
    reserved = settle(order, lines, decision)
    handover = hand_over(principal, order, lines, skus, nodes, demands, decision)
    order_row, line_rows = orders.order_rows(order, lines)
    ledger = inventory.reservation_rows(order.merchant_id, wanted, order.id, principal.party_id)
    try:
        # Everything in one go (one round trip on PostgreSQL), parents first.
        insert_tables(
            session,
            [
                (Order, [order_row]),
                (OrderLine, line_rows),
                (StockMovement, ledger),
                *handover.tables(),
                (Event, event_rows([order_created(principal, order), *handover.events])),
            ],
        )
    except IntegrityError as error:
        if orders.is_duplicate(error):  # this channel order exists already
            raise orders.duplicate(order) from None
        raise
    return Placed.of(
        order, lines, reserved, handover, {fid: n.facility.code for fid, n in nodes.items()}
    )


def settle(
    order: Order, lines: list[OrderLine], decision: sourcing.SourcingDecision
) -> dict[str, int]:
    """Give a new order the status and stored decision of its sourcing; returns the units
    reserved per line."""
    reserved = {ln.id: 0 for ln in lines}
    for alloc in decision.allocations:
        reserved[alloc.line_id] += alloc.quantity
    order.status = orders.status_of(
        [orders.LineProgress(ln.quantity, 0, reserved[ln.id], 0) for ln in lines]
    )
    order.sourcing = [decision.as_dict()]
    return reserved


def order_created(principal: Principal, order: Order) -> NewEvent:
    """The event of a newly placed order."""
    return NewEvent(
        type="order.created",
        merchant_id=order.merchant_id,
        subject_type="order",
        subject_id=order.id,
        actor_party_id=principal.party_id,
        data={
            "order_id": order.id,
            "channel": order.channel,
            "external_id": order.external_id,
            "status": order.status,
        },
    )


def resource_order(session: Session, principal: Principal, order_id: str) -> str:
    """Source an order's backordered units again (after stock arrived or a provider rejected
    its fulfillment order); facilities that rejected this order are skipped."""
    principal.require("operator")
    order = orders.get(session, principal, order_id, lock=True)
    lines = orders.lines_of(session, order.id)
    progress = refresh_order(session, order, emit_change=False)
    demand = {ln.id: progress[ln.id].backordered for ln in lines if progress[ln.id].backordered}
    if order.status in ("cancelled", "closed", "shipped") or not demand:
        return order.id
    rejected = set(
        session.scalars(
            select(FulfillmentOrder.facility_id).where(
                FulfillmentOrder.order_id == order.id,
                FulfillmentOrder.request_status == "rejected",
                FulfillmentOrder.rejection_reason.not_in(RETRYABLE_REJECTIONS),
            )
        )
    )
    skus = catalog.sku_facts(session, order.merchant_id, (ln.sku for ln in lines))
    nodes = network(session, order.merchant_id)
    demands = demands_of(lines, skus, demand)
    decision, wanted = _plan_and_reserve(session, order, nodes, demands, skus, rejected)
    handover = hand_over(principal, order, lines, skus, nodes, demands, decision)
    insert_tables(
        session,
        [
            (
                StockMovement,
                inventory.reservation_rows(order.merchant_id, wanted, order.id, principal.party_id),
            ),
            *handover.tables(),
        ],
    )
    emit(session, handover.events)
    refresh_order(session, order, sourcing=decision.as_dict())
    return order.id


def demands_of(
    lines: list[OrderLine], skus: Mapping[str, SkuFacts], demand: Mapping[str, int]
) -> tuple[sourcing.LineDemand, ...]:
    """What sourcing must place: ``demand`` units of each line, as the units it reserves
    (a kit reserves its components)."""
    result = []
    for line in lines:
        quantity = demand.get(line.id, 0)
        if quantity <= 0:
            continue
        sku = skus[line.sku]
        parts = tuple((c["sku"], int(c["quantity"])) for c in sku.components) or ((sku.sku, 1),)
        result.append(
            sourcing.LineDemand(line_id=line.id, sku=line.sku, quantity=quantity, components=parts)
        )
    return tuple(result)


def eligible(
    nodes: Mapping[str, Node],
    order: Order,
    demands: tuple[sourcing.LineDemand, ...],
    skus: Mapping[str, SkuFacts],
    excluded: set[str],
) -> dict[str, frozenset[str]]:
    """For each line, the facilities whose agreement scope admits it (own ones always)."""
    country = order.ship_to["country"]
    result = {}
    for demand in demands:
        tags = frozenset(skus[demand.sku].tags)
        allowed = []
        for fid, node in nodes.items():
            if fid in excluded:
                continue
            if (
                node.terms is None
                or node.terms.scope.admits(
                    sku=demand.sku, sku_tags=tags, channel=order.channel, country=country
                )[0]
            ):
                allowed.append(fid)
        result[demand.line_id] = frozenset(allowed)
    return result


def _plan_and_reserve(
    session: Session,
    order: Order,
    nodes: Mapping[str, Node],
    demands: tuple[sourcing.LineDemand, ...],
    skus: Mapping[str, SkuFacts],
    excluded: set[str],
) -> tuple[sourcing.SourcingDecision, dict[tuple[str, str], int]]:
    """Decide where each line goes and reserve it; re-plan when another order was faster.
    Returns the decision and the units reserved per facility × SKU (the caller writes their
    ledger rows with the rest of the order)."""
    allowed = eligible(nodes, order, demands, skus, excluded)
    options = facility_options(nodes)
    keys = stock_keys(demands, allowed)
    for _attempt in range(MAX_ATTEMPTS):
        request = sourcing.SourcingRequest(
            destination_country=order.ship_to["country"],
            lines=demands,
            facilities=options,
            available=inventory.available(session, order.merchant_id, keys),
            eligible=allowed,
        )
        decision = sourcing.source(request)
        wanted = reservation_of(demands, decision)
        try:
            inventory.reserve(session, order.merchant_id, wanted)
            return decision, wanted
        except inventory.InsufficientStock:
            pass  # another order took the stock between our read and our update
    backordered = sourcing.SourcingDecision(
        allocations=(),
        backordered={d.line_id: d.quantity for d in demands},
        reason="stock kept moving under concurrent orders; everything backordered",
        steps=(),
    )
    return backordered, {}


def facility_options(nodes: Mapping[str, Node]) -> tuple[sourcing.FacilityOption, ...]:
    """The network as sourcing sees it: country, costs and a stable rank for exact ties."""
    return tuple(
        sourcing.FacilityOption(
            facility_id=fid,
            country=n.facility.country,
            cost_per_package=n.facility.cost_per_package,
            cost_per_unit=n.facility.cost_per_unit,
            priority=rank,
        )
        # Exact cost ties go to the facility that joined the network first, not to a random id.
        for rank, (fid, n) in enumerate(
            sorted(
                nodes.items(), key=lambda item: (item[1].facility.created_at, item[1].facility.code)
            )
        )
    )


def stock_keys(
    demands: tuple[sourcing.LineDemand, ...], allowed: Mapping[str, frozenset[str]]
) -> set[tuple[str, str]]:
    """The facility × SKU balances sourcing must read for these demands."""
    return {(fid, part) for d in demands for fid in allowed[d.line_id] for part, _ in d.components}


def reservation_of(
    demands: tuple[sourcing.LineDemand, ...], decision: sourcing.SourcingDecision
) -> dict[tuple[str, str], int]:
    """The units a sourcing decision reserves, per facility × SKU (kits as components)."""
    wanted: dict[tuple[str, str], int] = defaultdict(int)
    by_line = {d.line_id: d for d in demands}
    for alloc in decision.allocations:
        for part, units in sourcing.reserve_units(by_line[alloc.line_id], alloc.quantity).items():
            wanted[(alloc.facility_id, part)] += units
    return dict(wanted)


@dataclass(frozen=True)
class Handover:
    """The fulfillment orders, lines and tasks an order's sourcing produces, not yet written,
    and the events that announce them."""

    fulfillment_orders: list[dict[str, Any]]
    fulfillment_order_lines: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    events: list[NewEvent]

    def tables(self) -> list[tuple[type[Base], list[dict[str, Any]]]]:
        """The rows to insert, per table in parent-first order (the caller emits the events
        with its own)."""
        return [
            (FulfillmentOrder, self.fulfillment_orders),
            (FulfillmentOrderLine, self.fulfillment_order_lines),
            (Task, self.tasks),
        ]


def handover_tables(handovers: list[Handover]) -> list[tuple[type[Base], list[dict[str, Any]]]]:
    """The rows of many handovers, merged per table (parents first)."""
    merged: dict[type[Base], list[dict[str, Any]]] = {}
    for handover in handovers:
        for model, rows in handover.tables():
            merged.setdefault(model, []).extend(rows)
    return list(merged.items())


def hand_over(
    principal: Principal,
    order: Order,
    lines: list[OrderLine],
    skus: Mapping[str, SkuFacts],
    nodes: Mapping[str, Node],
    demands: tuple[sourcing.LineDemand, ...],
    decision: sourcing.SourcingDecision,
    due_at: DueAt | None = None,
) -> Handover:
    """One FO per facility of the decision, with its lines and the matrix's tasks.

    ``due_at`` gives a facility's ship-by deadline for work handed to it now (default
    :func:`facilities_due`; batch intake passes one computed once per batch)."""
    due_for = due_at or facilities_due
    by_facility: dict[str, list[sourcing.Allocation]] = defaultdict(list)
    for alloc in decision.allocations:
        by_facility[alloc.facility_id].append(alloc)
    by_line = {d.line_id: d for d in demands}
    line_sku = {ln.id: ln.sku for ln in lines}
    now = utcnow()
    fo_rows: list[dict[str, Any]] = []
    line_rows: list[dict[str, Any]] = []
    task_rows: list[dict[str, Any]] = []
    events: list[NewEvent] = []
    for facility_id, allocs in by_facility.items():
        node = nodes[facility_id]
        state = initial_state(node.terms is not None)
        submit = node.terms is not None and node.terms.auto_submit
        if submit:
            state = apply(state, Action.SUBMIT, "merchant").state
        fo_id = new_id("fo")
        due = order.ship_by or due_for(node.facility)
        fo_rows.append(
            {
                "id": fo_id,
                "merchant_id": order.merchant_id,
                "order_id": order.id,
                "facility_id": facility_id,
                "provider_id": node.provider_id,
                "agreement_id": node.terms.agreement_id if node.terms else None,
                "agreement_version": node.terms.version if node.terms else None,
                "status": state.status,
                "request_status": state.request_status,
                "status_before_hold": None,
                "rejection_reason": None,
                "rejection_message": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        for alloc in allocs:
            demand = by_line[alloc.line_id]
            line_rows.append(
                {
                    "id": new_id("fol"),
                    "fulfillment_order_id": fo_id,
                    "merchant_id": order.merchant_id,
                    "order_line_id": alloc.line_id,
                    "sku": line_sku[alloc.line_id],
                    "components": [{"sku": s, "quantity": q} for s, q in demand.components],
                    "quantity": alloc.quantity,
                    "shipped_quantity": 0,
                    "released_quantity": 0,
                }
            )
        facts = {
            "fulfillment_order_id": fo_id,
            "order_id": order.id,
            "facility_id": facility_id,
            "facility_code": node.facility.code,
            "agreement_id": node.terms.agreement_id if node.terms else None,
            "agreement_version": node.terms.version if node.terms else None,
            "channel": order.channel,
            "status": state.status,
            "request_status": state.request_status,
            "released_at": now.isoformat(),
            "ship_by": due.isoformat(),
            "units": sum(a.quantity for a in allocs),
        }
        events.append(
            NewEvent(
                type="fulfillment_order.created",
                merchant_id=order.merchant_id,
                provider_id=node.provider_id,
                subject_type="fulfillment_order",
                subject_id=fo_id,
                actor_party_id=principal.party_id,
                data=facts,
            )
        )
        if submit:
            events.append(
                NewEvent(
                    type="fulfillment_order.submitted",
                    merchant_id=order.merchant_id,
                    provider_id=node.provider_id,
                    subject_type="fulfillment_order",
                    subject_id=fo_id,
                    actor_party_id=principal.party_id,
                    data=facts,
                )
            )
        planned_rows, planned_events = tasks.planned(
            tasks.WorkOrder(
                fulfillment_order_id=fo_id,
                merchant_id=order.merchant_id,
                provider_id=node.provider_id,
                channel=order.channel,
                country=order.ship_to["country"],
                order_value=order.order_value,
                lines=[
                    tasks.LineFacts(a.sku, frozenset(skus[a.sku].tags))
                    for a in (by_line[x.line_id] for x in allocs)
                ],
                due_at=due,
            ),
            node.terms.matrix if node.terms else IN_HOUSE,
        )
        task_rows += planned_rows
        events += planned_events
    return Handover(fo_rows, line_rows, task_rows, events)


def facilities_due(facility: Site) -> datetime:
    """When work handed to a facility now is due: its ship-by deadline."""
    return ship_by(facilities.calendar_of(facility), utcnow())
