"""The demo's history as a discrete-event simulation driving the real services.

Every step (an order placed, a provider accepting, a parcel shipped, a receipt) runs at its
own simulated instant inside :func:`midway.db.clock_at`, in its own transaction, so the record
reads as weeks of real work. Steps are processed in time order; each one checks the state it
finds (a cancelled order is not shipped) and schedules what follows. Steps later than ``end``
are never run, which leaves the last day's work open.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from midway.core.errors import DomainError
from midway.core.fulfillment import Action
from midway.db import Database, clock_at, utcnow
from midway.demo.catalog import stocked_parts
from midway.demo.demand import OrderSpec
from midway.demo.floor import Floor
from midway.demo.timing import next_business, review_time, ship_time
from midway.demo.world import EU_SITE, STUDIO, Site, World
from midway.errors import MidwayError
from midway.fulfillment import intake
from midway.fulfillment import service as fulfillment
from midway.fulfillment.models import FulfillmentOrder
from midway.inventory import service as inventory
from midway.orders.models import Order
from midway.principal import Principal

FINISHED = ("cancelled", "shipped", "closed")
BATCH_STEPS = 200
# Outcomes that every history shows at least once, handed out to the first orders that fit.
FIRST_FO_FATES = ["partial", "reject", "provider_hold", "incomplete", "partial"]
FIRST_ORDER_FATES = [
    "late_cancel",
    "early_cancel",
    "awaiting_payment",
    "high_risk_of_fraud",
    "late_cancel",
]


@dataclass
class FoPlan:
    """What will happen to one fulfillment order; ``token`` voids superseded ship steps."""

    fo_id: str
    order_id: str
    site: Site
    fate: str
    token: int = 0
    stage: int = 0


@dataclass
class OrderNote:
    """What the simulation remembers of an order."""

    country: str
    parts: frozenset[str]
    units: int
    premium: bool
    late_cancel: bool


class Simulation:
    """Runs scheduled steps in time order, one transaction each, at their simulated instant."""

    def __init__(
        self, db: Database, world: World, *, rng: random.Random, end: datetime, strict: bool
    ) -> None:
        self.db = db
        self.world = world
        self.rng = rng
        self.end = end
        self.strict = strict
        self.merchant = world.merchant
        self.by_sku = world.by_sku
        self.fos: dict[str, FoPlan] = {}
        self.notes: dict[str, OrderNote] = {}
        self.backorders: dict[str, datetime] = {}
        self.failures: list[str] = []
        self.floor = Floor(self)
        self.steps = 0
        self.now = datetime.min.replace(tzinfo=UTC)
        self._queue: list[tuple[datetime, int, Callable[[Session], None]]] = []
        self._pending: list[tuple[datetime, Callable[[Session], None]]] = []
        self._seq = itertools.count()
        self._first_fo_fates = list(FIRST_FO_FATES)
        self._first_order_fates = list(FIRST_ORDER_FATES)

    # -- the loop ------------------------------------------------------------------------

    def schedule(self, when: datetime, step: Callable[..., None], *args: Any) -> None:
        """Run ``step(*args, session)`` at ``when`` (never before the step scheduling it;
        dropped when past the end)."""
        when = max(when, self.now)
        if when <= self.end:
            self._pending.append((when, partial(step, *args)))

    def start(self, when: datetime, step: Callable[..., None], *args: Any) -> None:
        """Queue a first step from outside any running step."""
        self.schedule(when, step, *args)
        self._flush()

    def _flush(self) -> None:
        for when, step in self._pending:
            heapq.heappush(self._queue, (when, next(self._seq), step))
        self._pending = []

    def run(self) -> None:
        """Process queued steps in time order up to the end.

        Steps share a transaction in batches (one commit per batch keeps seeding fast); each
        step runs in its own savepoint with a fresh identity map, so it sees the database
        exactly as a transaction of its own would, and a refused step undoes only itself.
        """
        while self._queue and self._queue[0][0] <= self.end:
            with self.db.transaction() as session:
                for _ in range(BATCH_STEPS):
                    if not self._queue or self._queue[0][0] > self.end:
                        break
                    self._step(session)

    def _step(self, session: Session) -> None:
        when, _, step = heapq.heappop(self._queue)
        self.now = when
        self._pending = []
        try:
            with clock_at(when), session.begin_nested():
                step(session)
        except (MidwayError, DomainError) as exc:
            if self.strict:
                raise
            name = getattr(getattr(step, "func", step), "__name__", "step")
            self.failures.append(f"{when:%Y-%m-%d %H:%M} {name}: {exc}")
            self._pending = []
            return
        finally:
            session.expunge_all()
        self.steps += 1
        self._flush()

    # -- orders --------------------------------------------------------------------------

    def place(self, spec: OrderSpec, session: Session) -> None:
        """A customer places an order; the merchant's channel sends it to the hub."""
        now = utcnow()
        order_id = intake.place_order(session, self.merchant, spec.data)
        parts = frozenset(
            s for ln in spec.data.lines for s, _ in stocked_parts(self.by_sku[ln.sku])
        )
        fate = self._order_fate(spec)
        self.notes[order_id] = OrderNote(
            country=spec.country,
            parts=parts,
            units=sum(ln.quantity for ln in spec.data.lines),
            premium=any("premium" in self.by_sku[ln.sku].tags for ln in spec.data.lines),
            late_cancel=fate == "late_cancel",
        )
        new = self._adopt(
            session,
            order_id,
            held=fate in ("awaiting_payment", "high_risk_of_fraud"),
            plain=fate == "normal",
        )
        if fate == "early_cancel":
            self.schedule(now + timedelta(minutes=self.rng.uniform(3, 40)), self.cancel, order_id)
        elif fate in ("awaiting_payment", "high_risk_of_fraud") and new:
            self._plan_merchant_hold(order_id, new, fate)

    def _order_fate(self, spec: OrderSpec) -> str:
        r = self.rng.random()
        for fate in self._first_order_fates:
            if fate.startswith("high") and spec.data.channel != "web":
                continue
            if fate == "awaiting_payment" and spec.data.channel != "web":
                continue
            self._first_order_fates.remove(fate)
            return fate
        if r < 0.015:
            return "early_cancel"
        if r < 0.04:
            return "late_cancel"
        if spec.data.channel == "web":
            if r < 0.07:
                return "awaiting_payment"
            if spec.value > 180 and r < 0.16:
                return "high_risk_of_fraud"
        return "normal"

    def _adopt(
        self, session: Session, order_id: str, *, held: bool = False, plain: bool = True
    ) -> list[FoPlan]:
        """Plan the order's new fulfillment orders and schedule their first step (``held``:
        the merchant holds them first; ``plain``: nothing else is planned for the order)."""
        now = utcnow()
        rows = session.execute(
            select(FulfillmentOrder.id, FulfillmentOrder.facility_id).where(
                FulfillmentOrder.order_id == order_id
            )
        ).all()
        new = []
        for fo_id, facility_id in rows:
            if fo_id in self.fos:
                continue
            site = self.world.site_of(facility_id)
            fate = self._fo_fate(self.notes[order_id].units, site, plain)
            plan = FoPlan(fo_id, order_id, site, fate)
            self.fos[fo_id] = plan
            new.append(plan)
            if held:
                continue
            if site.provider_run:
                self.schedule(review_time(site, now, self.rng), self.review, fo_id)
            else:
                start = review_time(site, now, self.rng)
                self.schedule(ship_time(site, start, self.rng), self.floor.ship, fo_id, plan.token)
        status = session.scalar(select(Order.status).where(Order.id == order_id))
        if status == "backordered":
            self.backorders.setdefault(order_id, now)
        else:
            self.backorders.pop(order_id, None)
        return new

    def _fo_fate(self, units: int, site: Site, plain: bool) -> str:
        """What happens to a new fulfillment order (``units``: of its order, an upper bound)."""
        for fate in self._first_fo_fates if plain else ():
            if fate in ("partial", "incomplete") and units < 2:
                continue
            if fate != "partial" and not site.provider_run:
                continue
            self._first_fo_fates.remove(fate)
            return fate
        r = self.rng.random()
        if site.provider_run:
            rejects = 0.045 if site.code == EU_SITE else 0.012
            if r < rejects:
                return "reject"
            r -= rejects
            if r < 0.015:
                return "provider_hold"
            r -= 0.015
            if units >= 2 and r < 0.012:
                return "incomplete"
            r -= 0.012
        if units >= 2 and r < 0.09:
            return "partial"
        return "normal"

    def _plan_merchant_hold(self, order_id: str, plans: list[FoPlan], reason: str) -> None:
        now = utcnow()
        studio = self.world.sites[STUDIO]
        for plan in plans:
            self.schedule(
                now + timedelta(minutes=self.rng.uniform(1, 4)),
                self.merchant_hold,
                plan.fo_id,
                reason,
            )
        if reason == "awaiting_payment":
            released = self.rng.random() < 0.88
            later = now + timedelta(
                hours=self.rng.uniform(1.5, 30) if released else self.rng.uniform(48, 72)
            )
        else:
            released = self.rng.random() < 0.75
            later = next_business(studio, now + timedelta(hours=1)) + timedelta(
                hours=self.rng.uniform(0.3, 3)
            )
        if released:
            for plan in plans:
                self.schedule(later, self.merchant_release, plan.fo_id)
        else:
            self.schedule(later, self.cancel, order_id)

    def cancel(self, order_id: str, session: Session) -> None:
        """The merchant cancels an order (customer request, unpaid, fraud, never in stock)."""
        status = session.scalar(select(Order.status).where(Order.id == order_id))
        if status in FINISHED:
            return
        fulfillment.cancel_order(session, self.merchant, order_id)
        self.backorders.pop(order_id, None)
        asked = session.scalars(
            select(FulfillmentOrder.id).where(
                FulfillmentOrder.order_id == order_id,
                FulfillmentOrder.request_status == "cancellation_requested",
            )
        )
        for fo_id in asked:
            site = self.fos[fo_id].site
            self.schedule(review_time(site, utcnow(), self.rng), self.answer_cancellation, fo_id)

    def resource(self, order_id: str, session: Session) -> None:
        """The merchant re-sources an order's backordered units."""
        status = session.scalar(select(Order.status).where(Order.id == order_id))
        if status != "backordered":
            self.backorders.pop(order_id, None)
            return
        intake.resource_order(session, self.merchant, order_id)
        self._adopt(session, order_id)

    # -- the handshake -------------------------------------------------------------------

    def review(self, fo_id: str, session: Session) -> None:
        """The provider accepts or rejects a submitted fulfillment order."""
        plan = self.fos[fo_id]
        provider = plan.site.runner
        fo = fulfillment.get(session, provider, fo_id)
        if fo.status != "open" or fo.request_status != "submitted":
            return
        now = utcnow()
        if plan.fate == "reject":
            self._reject(session, plan, provider)
            return
        fulfillment.act(session, provider, fo_id, Action.ACCEPT)
        ship_at = ship_time(plan.site, now, self.rng)
        self.schedule(ship_at, self.floor.ship, fo_id, plan.token)
        window = ship_at - now
        if plan.fate == "provider_hold":
            self.schedule(now + window * self.rng.uniform(0.1, 0.5), self.provider_hold, fo_id)
        note = self.notes[plan.order_id]
        if note.premium and self.floor.open_tasks(session, fo_id, self.merchant):
            self.schedule(
                now + window * self.rng.uniform(0.2, 0.8), self.floor.merchant_tasks, fo_id
            )
        if note.late_cancel:
            note.late_cancel = False
            self.schedule(now + window * self.rng.uniform(0.05, 0.6), self.cancel, plan.order_id)

    def _reject(self, session: Session, plan: FoPlan, provider: Principal) -> None:
        now = utcnow()
        lines = self.floor.remaining(session, plan.fo_id)
        fragile = any("fragile" in self.by_sku[sku].tags for sku in lines)
        if plan.site.code == EU_SITE and fragile and self.rng.random() < 0.4:
            reason, message = (
                "ineligible_product",
                "Glassware is not yet approved for the pilot's parcel profile.",
            )
        elif plan.site.code == EU_SITE or self._studio_can_take(session, lines):
            reason, message = (
                "inventory_out_of_stock",
                "Pick face empty and no overstock found; cycle count requested.",
            )
        else:
            reason, message = (
                "incorrect_address",
                "Carrier validation failed: street not found for this postal code.",
            )
        fulfillment.act(
            session, provider, plan.fo_id, Action.REJECT, reason=reason, message=message
        )
        if reason == "inventory_out_of_stock":
            self.floor.write_off(
                session,
                plan.site,
                sorted(lines)[0],
                self.rng.randint(2, 6),
                "count",
                "cycle count after a failed pick",
                plan.fo_id,
            )
        if reason == "incorrect_address":
            self.schedule(now + timedelta(hours=self.rng.uniform(2, 8)), self.cancel, plan.order_id)
        else:
            self.schedule(
                now + timedelta(minutes=self.rng.uniform(10, 60)), self.resource, plan.order_id
            )

    def _studio_can_take(self, session: Session, lines: dict[str, int]) -> bool:
        studio = self.world.sites[STUDIO]
        need: dict[tuple[str, str], int] = {}
        for sku, quantity in lines.items():
            for part, per_unit in stocked_parts(self.by_sku[sku]):
                key = (studio.facility_id, part)
                need[key] = need.get(key, 0) + quantity * per_unit
        have = inventory.available(session, self.merchant.party_id, need)
        return all(have.get(key, 0) >= units for key, units in need.items())

    def merchant_hold(self, fo_id: str, reason: str, session: Session) -> None:
        """The merchant stops work on a fulfillment order (payment, fraud review)."""
        fo = fulfillment.get(session, self.merchant, fo_id)
        if fo.status not in ("open", "in_progress"):
            return
        note = (
            "Waiting for the bank transfer."
            if reason == "awaiting_payment"
            else "Billing and shipping addresses differ; verifying with the customer."
        )
        fulfillment.act(session, self.merchant, fo_id, Action.HOLD, reason=reason, message=note)

    def merchant_release(self, fo_id: str, session: Session) -> None:
        """The merchant releases its hold; the work goes on where it stopped."""
        plan = self.fos[fo_id]
        fo = fulfillment.get(session, self.merchant, fo_id)
        if fo.status != "on_hold":
            return
        fulfillment.act(
            session, self.merchant, fo_id, Action.RELEASE_HOLD, message="Cleared by the merchant."
        )
        now = utcnow()
        if fo.status == "open" and plan.site.provider_run:
            self.schedule(review_time(plan.site, now, self.rng), self.review, fo_id)
        elif fo.status in ("open", "in_progress"):
            plan.token += 1
            self.schedule(ship_time(plan.site, now, self.rng), self.floor.ship, fo_id, plan.token)

    def provider_hold(self, fo_id: str, session: Session) -> None:
        """The provider stops an accepted order: the address needs confirming."""
        plan = self.fos[fo_id]
        fo = fulfillment.get(session, plan.site.runner, fo_id)
        if fo.status != "in_progress":
            return
        fulfillment.act(
            session,
            plan.site.runner,
            fo_id,
            Action.HOLD,
            reason="incorrect_address",
            message="Label rejected: apartment number missing. Please confirm.",
        )
        plan.token += 1
        later = next_business(plan.site, utcnow() + timedelta(hours=self.rng.uniform(2, 26)))
        self.schedule(later, self.provider_release, fo_id)

    def provider_release(self, fo_id: str, session: Session) -> None:
        """The provider releases its hold once the address is confirmed."""
        plan = self.fos[fo_id]
        fo = fulfillment.get(session, plan.site.runner, fo_id)
        if fo.status != "on_hold":
            return
        fulfillment.act(
            session,
            plan.site.runner,
            fo_id,
            Action.RELEASE_HOLD,
            message="Address confirmed by the merchant.",
        )
        if fo.status == "in_progress":
            plan.token += 1
            self.schedule(
                ship_time(plan.site, utcnow(), self.rng), self.floor.ship, fo_id, plan.token
            )

    def answer_cancellation(self, fo_id: str, session: Session) -> None:
        """The provider answers the merchant's cancellation request."""
        plan = self.fos[fo_id]
        fo = fulfillment.get(session, plan.site.runner, fo_id)
        if fo.request_status != "cancellation_requested":
            return
        if self.rng.random() < 0.6:
            fulfillment.act(
                session,
                plan.site.runner,
                fo_id,
                Action.ACCEPT_CANCELLATION,
                message="Stopped before picking.",
            )
        else:
            fulfillment.act(
                session,
                plan.site.runner,
                fo_id,
                Action.REJECT_CANCELLATION,
                message="Already packed and labelled; it leaves with today's pick-up.",
            )
