"""The daily rhythm around the orders: the day's intake, purchase orders and receipts, the
backorder sweep, damage and cycle counts, returns, and the EU pilot widening its scope."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from midway.agreements import service as agreements
from midway.db import utcnow
from midway.demo.demand import OrderMaker
from midway.demo.simulation import Simulation
from midway.demo.stock import Replenisher
from midway.demo.timing import business_days_later, next_business
from midway.demo.world import EU_SITE, PILOT_COUNTRIES_V2, RETURNS, STUDIO, US_SITE, eu_terms
from midway.inventory import service as inventory

STALE_BACKORDER = timedelta(days=8)
RETURN_REASONS = (
    "customer return: wrong size",
    "customer return: changed mind",
    "customer return: arrived damaged",
    "customer return: not as pictured",
)


class Keeper:
    """Schedules each simulated day and the stock work that keeps orders flowing."""

    def __init__(
        self,
        sim: Simulation,
        maker: OrderMaker,
        replenisher: Replenisher,
        stocked: dict[str, set[str]],
        *,
        days: int,
        on_day: Callable[[int], None] | None,
    ) -> None:
        self.sim = sim
        self.maker = maker
        self.replenisher = replenisher
        self.stocked = stocked
        self.days = days
        self.on_day = on_day
        self.rng = sim.rng
        self.merchant = sim.merchant
        self._po_numbers = itertools.count(4101)
        self._rma_numbers = itertools.count(20_017)
        self.widen_on = max(1, round(days * 0.45))
        self.today = 0

    def day(self, index: int, day: date, session: Session) -> None:
        """Start a UTC day: its orders, the stock routine of each site, the merchant's sweeps."""
        sim = self.sim
        self.today = index
        if self.on_day is not None:
            self.on_day(index)
        for spec in self.maker.day_orders(day, index, self.days):
            sim.schedule(spec.at, sim.place, spec)
        for code in (US_SITE, EU_SITE, STUDIO):
            site = sim.world.sites[code]
            morning = datetime.combine(day, time(7, 0), tzinfo=site.zone).astimezone(UTC)
            if day.weekday() < 5:
                sim.schedule(morning, self.plan_stock, code)
                if code != STUDIO and self.rng.random() < 0.4:
                    sim.schedule(
                        morning + timedelta(hours=self.rng.uniform(2, 9)), self.damage, code
                    )
            if day.weekday() == 4:
                sim.schedule(morning + timedelta(hours=self.rng.uniform(1, 3)), self.count, code)
        studio = sim.world.sites[STUDIO]
        afternoon = datetime.combine(day, time(13, 0), tzinfo=studio.zone).astimezone(UTC)
        if day.weekday() < 5:
            sim.schedule(afternoon, self.returns)
            sim.schedule(afternoon + timedelta(hours=2), self.stale_backorders)
        if index == self.widen_on:
            sim.schedule(datetime.combine(day, time(15, 0), tzinfo=UTC), self.widen_pilot)

    # -- purchase orders and receipts -----------------------------------------------------

    def plan_stock(self, code: str, session: Session) -> None:
        """Each working morning: reorder what will run out before the next delivery."""
        site = self.sim.world.sites[code]
        skus = sorted(self.stocked[code])
        have = inventory.available(
            session, self.merchant.party_id, [(site.facility_id, s) for s in skus]
        )
        low, high = site.lead_days
        available = {s: have.get((site.facility_id, s), 0) for s in skus}
        pace = self.maker.trend(self.today, self.days)
        # Lead times are business days; rates are per calendar day (plus a weekend's gap).
        lead_days = (low + high) / 2 * 7 / 5 + 2
        lines = self.replenisher.reorder(code, lead_days, available, pace)
        if not lines:
            return
        lead = self.rng.randint(low, high)
        if self.rng.random() < 0.06:
            lead += self.rng.randint(2, 4)  # the supplier is late
        arrival = business_days_later(site, utcnow(), lead, self.rng, time(9, 0), time(14, 0))
        po = f"PO-{next(self._po_numbers)}"
        self.sim.schedule(arrival, self.receive, code, po, lines)

    def receive(self, code: str, po: str, lines: dict[str, int], session: Session) -> None:
        """A purchase order arrives and is booked in (now and then short)."""
        site = self.sim.world.sites[code]
        for sku, quantity in sorted(lines.items()):
            booked = quantity
            if self.rng.random() < 0.05:
                booked = max(1, quantity * 3 // 4)
            reason = "purchase order received" + (" (short delivery)" if booked < quantity else "")
            inventory.post(
                session,
                site.runner,
                facility_code=code,
                sku=sku,
                quantity=booked,
                kind="receipt",
                reason=reason,
                reference=po,
                merchant_id=self.merchant.party_id,
            )
        self.replenisher.arrived(code, lines)
        self.sim.schedule(
            utcnow() + timedelta(minutes=self.rng.uniform(15, 45)), self.sweep, frozenset(lines)
        )

    def sweep(self, skus: frozenset[str], session: Session) -> None:
        """The merchant re-sources backordered orders waiting for the stock that arrived."""
        sim = self.sim
        waiting = sorted(sim.backorders.items(), key=lambda item: item[1])
        for order_id, _ in waiting:
            if sim.notes[order_id].parts & skus:
                sim.resource(order_id, session)

    def stale_backorders(self, session: Session) -> None:
        """Orders backordered for over a week are cancelled (the customer is refunded)."""
        now = utcnow()
        for order_id, since in sorted(self.sim.backorders.items(), key=lambda item: item[1]):
            if now - since > STALE_BACKORDER:
                self.sim.cancel(order_id, session)

    # -- the ledger's small corrections ---------------------------------------------------

    def _available(self, session: Session, code: str) -> dict[str, int]:
        site = self.sim.world.sites[code]
        have = inventory.available(
            session,
            self.merchant.party_id,
            [(site.facility_id, s) for s in sorted(self.stocked[code])],
        )
        return {sku: units for (_, sku), units in have.items()}

    def damage(self, code: str, session: Session) -> None:
        """A unit is found damaged in storage and written off."""
        site = self.sim.world.sites[code]
        candidates = sorted(s for s, units in self._available(session, code).items() if units >= 2)
        if candidates:
            sku = self.rng.choice(candidates)
            inventory.post(
                session,
                site.runner,
                facility_code=code,
                sku=sku,
                quantity=-1,
                kind="adjustment",
                reason="damaged in storage",
                reference=None,
                merchant_id=self.merchant.party_id,
            )

    def count(self, code: str, session: Session) -> None:
        """The Friday cycle count corrects a few bins by a unit or two."""
        site = self.sim.world.sites[code]
        available = self._available(session, code)
        skus = sorted(available)
        for sku in self.rng.sample(skus, min(5, len(skus))):
            delta = self.rng.choice((-2, -1, -1, 1, 1, 2))
            if delta < 0 and available[sku] < -delta:
                continue
            inventory.post(
                session,
                site.runner,
                facility_code=code,
                sku=sku,
                quantity=delta,
                kind="count",
                reason="weekly cycle count",
                reference=None,
                merchant_id=self.merchant.party_id,
            )

    def returns(self, session: Session) -> None:
        """A few parcels come back to the returns centre."""
        recent = self.sim.floor.shipped_skus
        for _ in range(self.rng.randint(0, 4) if recent else 0):
            inventory.post(
                session,
                self.merchant,
                facility_code=RETURNS,
                sku=self.rng.choice(recent),
                quantity=1,
                kind="return",
                reason=self.rng.choice(RETURN_REASONS),
                reference=f"RMA-{next(self._rma_numbers)}",
                merchant_id=None,
            )

    # -- the pilot grows ------------------------------------------------------------------

    def widen_pilot(self, session: Session) -> None:
        """Halfway through, the merchant proposes adding France, Belgium and Luxembourg."""
        agreements.propose_version(
            session, self.merchant, self.sim.world.eu_agreement, eu_terms(PILOT_COUNTRIES_V2)
        )
        eu_site = self.sim.world.sites[EU_SITE]
        when = next_business(eu_site, utcnow() + timedelta(hours=16)) + timedelta(minutes=50)
        self.sim.schedule(when, self.accept_widening)

    def accept_widening(self, session: Session) -> None:
        """The EU provider accepts version 2."""
        agreements.decide(session, self.sim.world.eu, self.sim.world.eu_agreement, accept=True)
