"""The warehouse floor in the demo: ticking off tasks, packing and shipping parcels (all at
once, in two parts, or short), and writing off what broke."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from midway.core.fulfillment import Action
from midway.db import utcnow
from midway.demo import parcels
from midway.demo.catalog import stocked_parts
from midway.demo.timing import business_days_later
from midway.demo.world import Site
from midway.events.service import emit
from midway.fulfillment import service as fulfillment
from midway.fulfillment.models import FulfillmentOrderLine
from midway.inventory import service as inventory
from midway.principal import Principal
from midway.tasks import service as tasks
from midway.tasks.models import Task

if TYPE_CHECKING:
    from midway.demo.simulation import FoPlan, Simulation

# Tasks someone ticks off by hand; the rest of an order's tasks close with its last parcel.
HANDS_ON = ("kitting", "branded_inserts")
RECENT_SHIPMENTS = 400


class Floor:
    """What the people at a site do with accepted work."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.rng: random.Random = sim.rng
        self.merchant = sim.merchant
        self.by_sku = sim.by_sku
        self.shipped_skus: list[str] = []

    def open_tasks(
        self, session: Session, fo_id: str, party: Principal, processes: tuple[str, ...] = HANDS_ON
    ) -> list[str]:
        """Ids of the open tasks ``party`` owns on a fulfillment order, among ``processes``."""
        return list(
            session.scalars(
                select(Task.id)
                .where(
                    Task.fulfillment_order_id == fo_id,
                    Task.owner_party_id == party.party_id,
                    Task.status == "open",
                    Task.process.in_(processes),
                )
                .order_by(Task.id)
            )
        )

    def complete_tasks(
        self, session: Session, fo_id: str, party: Principal, processes: tuple[str, ...] = HANDS_ON
    ) -> None:
        """``party`` ticks off its open tasks of ``processes`` on a fulfillment order."""
        for task_id in self.open_tasks(session, fo_id, party, processes):
            _, event = tasks.complete(session, party, task_id)
            emit(session, [event])

    def merchant_tasks(self, fo_id: str, session: Session) -> None:
        """The merchant does its part of a provider's order (branded inserts)."""
        fo = fulfillment.get(session, self.merchant, fo_id)
        if fo.status in ("in_progress", "on_hold"):
            self.complete_tasks(session, fo_id, self.merchant)

    def remaining(self, session: Session, fo_id: str) -> dict[str, int]:
        """Units of each SKU of a fulfillment order neither shipped nor given back."""
        left: dict[str, int] = {}
        for sku, quantity, shipped, released in session.execute(
            select(
                FulfillmentOrderLine.sku,
                FulfillmentOrderLine.quantity,
                FulfillmentOrderLine.shipped_quantity,
                FulfillmentOrderLine.released_quantity,
            )
            .where(FulfillmentOrderLine.fulfillment_order_id == fo_id)
            .order_by(FulfillmentOrderLine.id)
        ):
            if quantity - shipped - released > 0:
                left[sku] = left.get(sku, 0) + quantity - shipped - released
        return left

    def ship(self, fo_id: str, token: int, session: Session) -> None:
        """The site packs and ships (all of it, part of it, or closes it short)."""
        plan = self.sim.fos[fo_id]
        if token != plan.token:
            return
        runner = plan.site.runner
        fo = fulfillment.get(session, runner, fo_id)
        now = utcnow()
        if plan.site.provider_run:
            if fo.status != "in_progress":
                return
            if fo.request_status == "cancellation_requested":
                self.sim.schedule(
                    now + timedelta(minutes=self.rng.uniform(40, 90)), self.ship, fo_id, token
                )
                return
        elif fo.status not in ("open", "in_progress"):
            return
        left = self.remaining(session, fo_id)
        if any(self.by_sku[sku].is_kit for sku in left):
            self.complete_tasks(session, fo_id, runner, ("kitting",))
        total = sum(left.values())
        if plan.stage == 0 and plan.fate == "partial" and total >= 2:
            first = self._first_parcel(left)
            self._parcel(session, plan, first)
            plan.stage = 1
            self.sim.schedule(
                business_days_later(plan.site, now, self.rng.randint(1, 2), self.rng),
                self.ship,
                fo_id,
                token,
            )
        elif plan.stage == 0 and plan.fate == "incomplete":
            short = self.rng.choice(sorted(left))
            left[short] -= 1
            if any(left.values()):
                self._parcel(session, plan, {s: q for s, q in left.items() if q})
            fulfillment.act(
                session,
                runner,
                fo_id,
                Action.CLOSE,
                message=f"1 x {short} damaged at picking; no other unit on hand.",
            )
            self.write_off(session, plan.site, short, 1, "adjustment", "damaged at picking", fo_id)
            plan.stage = 1
            self.sim.schedule(
                now + timedelta(minutes=self.rng.uniform(30, 180)), self.sim.resource, plan.order_id
            )
        elif left:
            self._parcel(session, plan, left)

    def _first_parcel(self, left: dict[str, int]) -> dict[str, int]:
        skus = sorted(left)
        if len(skus) >= 2:
            chosen = self.rng.sample(skus, self.rng.randint(1, len(skus) - 1))
            return {s: left[s] for s in chosen}
        return {skus[0]: left[skus[0]] // 2}

    def _parcel(self, session: Session, plan: FoPlan, units: dict[str, int]) -> None:
        country = self.sim.notes[plan.order_id].country
        carrier, tracking = parcels.label(plan.site.code, country, self.rng)
        fulfillment.ship(
            session,
            plan.site.runner,
            plan.fo_id,
            carrier=carrier,
            tracking_number=tracking,
            lines=[
                fulfillment.ShipmentLineInput(sku=s, quantity=q) for s, q in sorted(units.items())
            ],
        )
        for sku, quantity in units.items():
            self.shipped_skus.extend([sku] * quantity)
        del self.shipped_skus[:-RECENT_SHIPMENTS]

    def write_off(
        self,
        session: Session,
        site: Site,
        sku: str,
        most: int,
        kind: str,
        reason: str,
        reference: str,
    ) -> None:
        """Take up to ``most`` unreserved units of ``sku`` (its first part for a kit) off the
        books at ``site``."""
        part = stocked_parts(self.by_sku[sku])[0][0]
        key = (site.facility_id, part)
        have = inventory.available(session, self.merchant.party_id, [key]).get(key, 0)
        if min(have, most) > 0:
            inventory.post(
                session,
                site.runner,
                facility_code=site.code,
                sku=part,
                quantity=-min(have, most),
                kind=kind,
                reason=reason,
                reference=reference,
                merchant_id=self.merchant.party_id,
            )
