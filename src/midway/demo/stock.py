"""Stock planning for the demo: how fast each SKU sells at each site, how much to receive at
the start, and when to reorder so that backorders mostly resolve."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, datetime

from midway.demo.catalog import PILOT_TAG, Product, stocked_parts
from midway.demo.demand import OrderMaker, OrderSpec
from midway.demo.world import EU_SITE, PILOT_COUNTRIES_V2, STUDIO, US_SITE

Key = tuple[str, str]  # (site code, sku)
SAMPLE_ORDERS = 4000
COVER_DAYS = {US_SITE: 24.0, EU_SITE: 24.0, STUDIO: 16.0}
SAFETY_DAYS = 6.0
ORDER_UP_DAYS = 20.0


def likely_site(spec: OrderSpec, by_sku: dict[str, Product], stocked: dict[str, set[str]]) -> str:
    """Where sourcing will most likely send a whole order (a rough model of the real one)."""
    products = [by_sku[ln.sku] for ln in spec.data.lines]
    units = sum(ln.quantity for ln in spec.data.lines)
    if spec.country in PILOT_COUNTRIES_V2 and all(PILOT_TAG in p.tags for p in products):
        return EU_SITE
    parts = {s for p in products for s, _ in stocked_parts(p)}
    if parts <= stocked[STUDIO] and units <= 3:
        return STUDIO
    return US_SITE


def estimate_rates(
    products: list[Product], stocked: dict[str, set[str]], seed: int
) -> dict[Key, float]:
    """Expected units of each stocked SKU at each site per order placed, from a sample of
    orders made with the same generator as the history (with its own random numbers)."""
    maker = OrderMaker(products, random.Random(seed))
    by_sku = {p.sku: p for p in products}
    units: dict[Key, float] = defaultdict(float)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for _ in range(SAMPLE_ORDERS):
        spec = maker.make(start)
        site = likely_site(spec, by_sku, stocked)
        for line in spec.data.lines:
            for part, per_unit in stocked_parts(by_sku[line.sku]):
                units[(site, part)] += line.quantity * per_unit
    rates = {key: value / SAMPLE_ORDERS for key, value in units.items()}
    # Mixed orders fall back on the US warehouse; keep a floor so nothing there is unplanned.
    for sku in sorted(stocked[US_SITE]):
        rates[(US_SITE, sku)] = max(rates.get((US_SITE, sku), 0.0), 0.0005)
    for site in (EU_SITE, STUDIO):
        for sku in sorted(stocked[site]):
            rates.setdefault((site, sku), 0.0003)
    return rates


def _packs(units: float, pack: int) -> int:
    return max(pack, math.ceil(units / pack) * pack)


class Replenisher:
    """Decides receipts: the opening stock, and purchase orders when stock runs low."""

    def __init__(
        self, rates: dict[Key, float], by_sku: dict[str, Product], rng: random.Random
    ) -> None:
        self.rates = rates  # units per order placed
        self.by_sku = by_sku
        self.rng = rng
        self.on_order: dict[Key, int] = defaultdict(int)

    def opening(self, site: str, skus: set[str], orders_per_day: float) -> dict[str, int]:
        """The first receipt of every SKU a site stocks."""
        cover = COVER_DAYS[site] * orders_per_day
        return {
            sku: _packs(
                self.rates[(site, sku)] * cover * self.rng.uniform(0.8, 1.3),
                self.by_sku[sku].case_pack,
            )
            for sku in sorted(skus)
        }

    def reorder(
        self, site: str, lead_days: float, available: dict[str, int], orders_per_day: float
    ) -> dict[str, int]:
        """What to buy for ``site`` today given what is available now and how many orders a
        day come in; remembers it as on order."""
        lines = {}
        for sku, have in sorted(available.items()):
            rate = self.rates.get((site, sku), 0.0) * orders_per_day
            position = have + self.on_order[(site, sku)]
            if position >= rate * (lead_days + SAFETY_DAYS):
                continue
            quantity = _packs(
                rate * (lead_days + ORDER_UP_DAYS) - position, self.by_sku[sku].case_pack
            )
            lines[sku] = quantity
            self.on_order[(site, sku)] += quantity
        return lines

    def arrived(self, site: str, lines: dict[str, int]) -> None:
        """A purchase order was received (fully or not): it is no longer on order."""
        for sku, ordered in lines.items():
            self.on_order[(site, sku)] = max(0, self.on_order[(site, sku)] - ordered)
