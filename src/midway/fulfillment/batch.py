"""Placing many orders at once (bulk import): the same decisions as :func:`intake.place`, with
the reads and writes of a whole batch shared.

One batch reads the catalog, the network, the existing channel keys and the stock balances once
(:func:`read_batch`), sources its orders one after another against a running copy of the
balances without the database (:func:`plan`), then reserves the summed units with guarded
updates and writes everything with one statement per table (:func:`write_batch`). Reading and
writing can run in different transactions: bulk import reads and plans the next batch while the
previous one is finished, passing the batches its snapshot does not contain yet as ``unseen``.
If another writer took stock or placed one of the same channel orders in the meantime, that
batch rolls back to its savepoint and its orders are placed one by one through
:func:`intake.place`, which re-reads and retries on its own. Either way every order is accepted
or rejected on its own, and the stored records are the ones the single-order path writes: the
same rows, ledger lines (one set per order), decisions and events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from midway.catalog import service as catalog
from midway.core import sourcing
from midway.core.errors import DomainError
from midway.errors import MidwayError
from midway.events.models import Event
from midway.events.service import NewEvent, event_rows
from midway.fulfillment import intake
from midway.inserts import insert_tables
from midway.inventory import service as inventory
from midway.inventory.models import StockMovement
from midway.orders import service as orders
from midway.orders.models import Order, OrderLine
from midway.principal import Principal

# What placing wrote for an order (as :func:`intake.place` returns it), or why it was refused.
Outcome = intake.Placed | MidwayError | DomainError


@dataclass
class _Planned:
    index: int
    placed: intake.Placed
    handover: intake.Handover
    ledger: list[dict[str, object]]


@dataclass
class BatchPlan:
    """A batch sourced against the stock as read, not yet written (see :func:`write_batch`)."""

    inputs: Sequence[orders.OrderInput]
    outcomes: list[Outcome | None]  # refusals found while planning; None: to be written
    planned: list[_Planned]
    totals: dict[tuple[str, str], int]  # the units to reserve per facility × SKU
    keys: set[tuple[str, str]]  # the channel keys of the planned orders
    together: bool  # False: planning the batch together failed; write it one by one
    committed: bool = False  # set by whoever commits the batch's transaction


def place_many(
    session: Session, principal: Principal, inputs: Sequence[orders.OrderInput]
) -> list[Outcome]:
    """Place every order of ``inputs`` in the caller's transaction; one outcome per input, in
    order. A refused order writes nothing; the others are unaffected by it."""
    return write_batch(session, principal, plan_batch(session, principal, inputs))


@dataclass
class BatchFacts:
    """What planning a batch needs from the database, read in one go (see :func:`read_batch`),
    with the refusals found while reading."""

    inputs: Sequence[orders.OrderInput]
    outcomes: list[Outcome | None]
    skus: dict[str, catalog.SkuFacts]
    taken: set[tuple[str, str]]  # channel keys in use, this batch's planned ones not yet
    nodes: dict[str, intake.Node]
    stock: dict[tuple[str, str], int]  # available per facility × SKU of the batch


def plan_batch(
    session: Session,
    principal: Principal,
    inputs: Sequence[orders.OrderInput],
    unseen: Sequence[BatchPlan] = (),
) -> BatchPlan:
    """Check and source a batch against the stock as read; nothing is written (see
    :func:`read_batch` and :func:`plan`)."""
    return plan(principal, read_batch(session, principal, inputs, unseen))


def read_batch(
    session: Session,
    principal: Principal,
    inputs: Sequence[orders.OrderInput],
    unseen: Sequence[BatchPlan] = (),
) -> BatchFacts:
    """Check a batch and read what planning it needs: its SKUs, the channel keys in use, the
    network and the stock of every facility of it for the batch's SKUs.

    ``unseen`` are batches being written that the session's snapshot does not contain yet
    (bulk import plans the next batch while the previous one is written): their
    reservations are subtracted from what is read and their channel keys count as taken. The
    session must then read one snapshot (:meth:`Database.transaction` with ``snapshot=True``).
    """
    principal.require("operator")
    principal.require_kind("merchant", "place orders")
    outcomes: list[Outcome | None] = [None] * len(inputs)
    merchant_id = principal.party_id

    for i, data in enumerate(inputs):
        try:
            orders.check(data)
        except (MidwayError, DomainError) as exc:
            outcomes[i] = exc
    valid = [d for i, d in enumerate(inputs) if outcomes[i] is None]
    skus = catalog.sku_facts(session, merchant_id, {ln.sku for d in valid for ln in d.lines})
    taken = orders.existing_keys(session, merchant_id, {(d.channel, d.external_id) for d in valid})
    nodes = intake.network(session, merchant_id)
    parts = {c["sku"] for sku in skus.values() for c in sku.components} | skus.keys()
    stock = inventory.available_in(session, merchant_id, nodes.keys(), parts)
    for earlier in unseen:  # written meanwhile, but not in this snapshot yet
        taken |= earlier.keys
        for key in stock.keys() & earlier.totals.keys():
            stock[key] -= earlier.totals[key]
    return BatchFacts(inputs, outcomes, skus, taken, nodes, stock)


def plan(principal: Principal, facts: BatchFacts) -> BatchPlan:
    """Source a batch whose facts were read (:func:`read_batch`); needs no database."""
    inputs, outcomes, skus = facts.inputs, list(facts.outcomes), facts.skus
    taken = set(facts.taken)
    for i, data in enumerate(inputs):
        if outcomes[i] is not None:
            continue
        try:
            orders.require_skus(data, skus)
        except MidwayError as exc:
            outcomes[i] = exc
            continue
        key = (data.channel, data.external_id)
        if key in taken:
            outcomes[i] = orders.duplicate(data)
        taken.add(key)  # a second copy of the same order in the batch is a duplicate too

    todo = [i for i, o in enumerate(outcomes) if o is None]
    keys = {(inputs[i].channel, inputs[i].external_id) for i in todo}
    try:
        planned, totals = _plan_together(principal, [(i, inputs[i]) for i in todo], facts)
    except (MidwayError, DomainError):
        # One order broke a rule the checks above do not cover: place them one by one.
        return BatchPlan(inputs, outcomes, [], {}, keys, together=False)
    return BatchPlan(inputs, outcomes, planned, totals, keys, together=True)


def write_batch(session: Session, principal: Principal, plan: BatchPlan) -> list[Outcome]:
    """Reserve and write a planned batch in the caller's transaction; one outcome per input."""
    outcomes = list(plan.outcomes)
    todo = [i for i, o in enumerate(outcomes) if o is None]
    together = plan.together
    if todo and together:
        try:
            with session.begin_nested():
                _write_together(session, principal, plan.planned, plan.totals)
            for item in plan.planned:
                outcomes[item.index] = item.placed
        except (inventory.InsufficientStock, IntegrityError):
            together = False
    if todo and not together:
        # Someone else moved the same stock or placed the same order meanwhile (or planning
        # together failed): the single-order path re-reads, retries and refuses one by one.
        for i in todo:
            outcomes[i] = _place_alone(session, principal, plan.inputs[i])
    done: list[Outcome] = []
    for outcome in outcomes:
        assert outcome is not None  # every input got an outcome above
        done.append(outcome)
    return done


def _place_alone(session: Session, principal: Principal, data: orders.OrderInput) -> Outcome:
    try:
        with session.begin_nested():
            return intake.place(session, principal, data)
    except (MidwayError, DomainError) as exc:
        return exc


def _plan_together(
    principal: Principal, inputs: list[tuple[int, orders.OrderInput]], facts: BatchFacts
) -> tuple[list[_Planned], dict[tuple[str, str], int]]:
    merchant_id = principal.party_id
    skus, nodes = facts.skus, facts.nodes
    stock = dict(facts.stock)  # less what each order takes, as it is sourced
    options = intake.facility_options(nodes)
    due_at = _due_cache()
    codes = {fid: node.facility.code for fid, node in nodes.items()}
    totals: dict[tuple[str, str], int] = defaultdict(int)
    planned: list[_Planned] = []
    for index, data in inputs:
        order, lines = orders.new_order(principal, data)
        demands = intake.demands_of(lines, skus, {ln.id: ln.quantity for ln in lines})
        allowed = intake.eligible(nodes, order, demands, skus, set())
        decision = sourcing.source(
            sourcing.SourcingRequest(
                destination_country=order.ship_to["country"],
                lines=demands,
                facilities=options,
                available=stock,
                eligible=allowed,
            )
        )
        wanted = intake.reservation_of(demands, decision)
        for key, units in wanted.items():
            stock[key] = stock.get(key, 0) - units
            totals[key] += units
        reserved = intake.settle(order, lines, decision)
        handover = intake.hand_over(
            principal, order, lines, skus, nodes, demands, decision, due_at=due_at
        )
        ledger = inventory.reservation_rows(merchant_id, wanted, order.id, principal.party_id)
        placed = intake.Placed.of(order, lines, reserved, handover, codes)
        planned.append(_Planned(index, placed, handover, ledger))

    return planned, dict(totals)


def _write_together(
    session: Session,
    principal: Principal,
    planned: list[_Planned],
    totals: dict[tuple[str, str], int],
) -> None:
    merchant_id = principal.party_id
    inventory.reserve_all(session, merchant_id, totals)
    order_rows: list[dict[str, Any]] = []
    line_rows: list[dict[str, Any]] = []
    events: list[NewEvent] = []
    for p in planned:
        order_row, lines_of = orders.order_rows(p.placed.order, p.placed.lines)
        order_rows.append(order_row)
        line_rows += lines_of
        events.append(intake.order_created(principal, p.placed.order))
        events += p.handover.events
    # A duplicate channel order fails the lot with IntegrityError; the caller places the
    # batch's orders one by one to find it.
    insert_tables(
        session,
        [
            (Order, order_rows),
            (OrderLine, line_rows),
            (StockMovement, [row for p in planned for row in p.ledger]),
            *intake.handover_tables([p.handover for p in planned]),
            (Event, event_rows(events)),
        ],
    )


def _due_cache() -> intake.DueAt:
    """Each facility's ship-by deadline, computed once for the batch: its orders are all
    handed over in the same transaction."""
    known: dict[str, datetime] = {}

    def due_at(facility: intake.Site) -> datetime:
        if facility.id not in known:
            known[facility.id] = intake.facilities_due(facility)
        return known[facility.id]

    return due_at
