"""Seed a believable demo: the cast, the catalog, opening stock, then weeks of order history
driven through the real services with a settable clock."""

from __future__ import annotations

import random
import time as timer
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from midway.agreements import service as agreements
from midway.catalog.models import Sku
from midway.db import Database, clock_at
from midway.demo.catalog import build_catalog
from midway.demo.demand import OrderMaker
from midway.demo.simulation import Simulation
from midway.demo.stock import Replenisher, estimate_rates
from midway.demo.upkeep import Keeper
from midway.demo.world import (
    EU_SITE,
    STUDIO,
    US_SITE,
    DemoKey,
    World,
    create_parties,
    create_sites,
    load_catalog,
    propose_agreements,
    stocked_at,
)
from midway.events.models import Event
from midway.fulfillment.models import FulfillmentOrder, Hold, Shipment
from midway.inventory import service as inventory
from midway.inventory.models import StockMovement
from midway.orders.models import Order
from midway.tasks.models import Task

DEFAULT_SEED = 20_240_601
SETUP_LEAD = timedelta(days=14)


@dataclass
class SeedResult:
    """What was seeded: the demo keys, counts of what the record holds, and how it went."""

    keys: list[DemoKey]
    merchant_id: str
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0


def _at(db: Database, when: datetime, step: Callable[[Session], object]) -> None:
    with clock_at(when), db.transaction() as session:
        step(session)


def _setup(
    db: Database, first_day: datetime, days: int, rng: random.Random, seed: int
) -> tuple[World, Replenisher, dict[str, set[str]]]:
    """Parties, facilities, agreements, catalog and opening stock, dated before the history."""
    start = first_day - SETUP_LEAD
    with clock_at(start.replace(hour=14)), db.transaction() as session:
        world = create_parties(session)
    _at(db, start.replace(hour=15), lambda s: create_sites(s, world))
    _at(db, start + timedelta(days=1, hours=16), lambda s: propose_agreements(s, world))
    _at(
        db,
        start + timedelta(days=2, hours=15),
        lambda s: agreements.decide(s, world.us, world.us_agreement, accept=True),
    )
    _at(
        db,
        start + timedelta(days=3, hours=9),
        lambda s: agreements.decide(s, world.eu, world.eu_agreement, accept=True),
    )
    products = build_catalog(random.Random(seed + 1))
    _at(db, start + timedelta(days=4, hours=17), lambda s: load_catalog(s, world, products))
    stocked = stocked_at(world)
    rates = estimate_rates(products, stocked, seed + 2)
    replenisher = Replenisher(rates, world.by_sku, rng)
    for offset, code in ((7, US_SITE), (8, EU_SITE), (9, STUDIO)):
        site = world.sites[code]
        lines = replenisher.opening(code, stocked[code], OrderMaker.trend(0, days))
        day = (start + timedelta(days=offset)).date()
        when = datetime.combine(day, time(10, 0), tzinfo=site.zone).astimezone(UTC)

        def receive(session: Session, code: str = code, lines: dict[str, int] = lines) -> None:
            """The site books in its opening stock."""
            runner = world.sites[code].runner
            for sku, quantity in lines.items():
                inventory.post(
                    session,
                    runner,
                    facility_code=code,
                    sku=sku,
                    quantity=quantity,
                    kind="receipt",
                    reason="opening stock",
                    reference=f"ASN-{code}-1",
                    merchant_id=world.merchant.party_id,
                )

        _at(db, when, receive)
    checked = sorted(stocked[US_SITE])[:: max(1, len(stocked[US_SITE]) // 4)][:4]

    def put_away_check(session: Session) -> None:
        """Three cartons arrived damaged; the count after put-away found one unit extra."""
        for sku, quantity, kind, reason in (
            *((sku, -1, "adjustment", "damaged on arrival") for sku in checked[:3]),
            (checked[3], 1, "count", "count after put-away"),
        ):
            inventory.post(
                session,
                world.us,
                facility_code=US_SITE,
                sku=sku,
                quantity=quantity,
                kind=kind,
                reason=reason,
                reference=f"ASN-{US_SITE}-1",
                merchant_id=world.merchant.party_id,
            )

    _at(db, start + timedelta(days=7, hours=21), put_away_check)
    return world, replenisher, stocked


def seed(
    db: Database,
    *,
    days: int = 42,
    now: datetime | None = None,
    random_seed: int = DEFAULT_SEED,
    on_day: Callable[[int], None] | None = None,
    strict: bool = False,
) -> SeedResult:
    """Seed a migrated, empty database with history ending at ``now``: the ``days`` whole UTC
    days before ``now``'s day, then that day until ``now`` (so that a short history seeded
    just after midnight still has its orders).

    The same ``random_seed`` and ``now`` give the same history. ``on_day(n)`` is called as day
    ``n`` (0-based; ``days`` is the last, partial one) starts. With ``strict`` a step the
    services refuse stops the seeding; otherwise it is skipped and listed in the result's
    failures.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    started = timer.perf_counter()
    end = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    first_day = datetime.combine(end.date() - timedelta(days=days), time(0), tzinfo=UTC)
    span = days + 1  # calendar days simulated: the whole ones, then today
    rng = random.Random(random_seed)
    world, replenisher, stocked = _setup(db, first_day, span, rng, random_seed)
    sim = Simulation(db, world, rng=rng, end=end, strict=strict)
    keeper = Keeper(
        sim, OrderMaker(world.products, rng), replenisher, stocked, days=span, on_day=on_day
    )
    for index in range(span):
        day = first_day + timedelta(days=index)
        sim.start(day, keeper.day, index, day.date())
    sim.run()
    with db.transaction(write=False) as session:
        counts = summarize(session, world.merchant.party_id)
    return SeedResult(
        keys=world.keys,
        merchant_id=world.merchant.party_id,
        counts=counts,
        failures=sim.failures,
        steps=sim.steps,
        seconds=timer.perf_counter() - started,
    )


def summarize(session: Session, merchant_id: str) -> dict[str, int]:
    """Counts of what the merchant's record holds, for the closing summary."""

    def count(model: type, *where: object) -> int:
        """Rows of ``model`` matching ``where``."""
        query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(session.scalar(query) or 0)

    counts = {
        "skus": count(Sku, Sku.merchant_id == merchant_id),
        "orders": count(Order, Order.merchant_id == merchant_id),
        "fulfillment_orders": count(FulfillmentOrder, FulfillmentOrder.merchant_id == merchant_id),
        "shipments": count(Shipment, Shipment.merchant_id == merchant_id),
        "holds": count(Hold, Hold.merchant_id == merchant_id),
        "tasks": count(Task, Task.merchant_id == merchant_id),
        "stock_movements": count(StockMovement, StockMovement.merchant_id == merchant_id),
        "events": count(Event, Event.merchant_id == merchant_id),
    }
    for column, prefix in (
        (Order.status, "orders"),
        (FulfillmentOrder.status, "fo"),
        (FulfillmentOrder.request_status, "fo_request"),
    ):
        model = column.class_
        for value, number in session.execute(
            select(column, func.count()).where(model.merchant_id == merchant_id).group_by(column)
        ):
            counts[f"{prefix}.{value}"] = int(number)
    return counts
