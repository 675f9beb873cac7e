"""Customer demand: how many orders arrive each day, when, from which channel, to where, and
what is in them."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from midway.demo.catalog import CENT, PILOT_TAG, Product
from midway.demo.customers import EU_DESTINATIONS, ship_to
from midway.orders.service import LineInput, OrderInput

US_SHOPPERS = ZoneInfo("America/Chicago")
EU_SHOPPERS = ZoneInfo("Europe/Berlin")
# Relative order intake by local hour (night is quiet, lunch and evening are busy).
HOURLY = (
    0.6,
    0.3,
    0.2,
    0.15,
    0.15,
    0.3,
    0.8,
    1.6,
    2.4,
    2.8,
    3.0,
    3.4,
    3.8,
    3.6,
    3.2,
    3.0,
    3.0,
    3.3,
    3.9,
    4.6,
    4.9,
    4.2,
    2.8,
    1.4,
)
WEEKDAY_FACTOR = (1.08, 1.0, 0.97, 0.98, 0.95, 0.82, 0.92)
LINE_COUNTS = ((1, 0.55), (2, 0.27), (3, 0.12), (4, 0.06))
QUANTITIES = ((1, 0.80), (2, 0.14), (3, 0.04), (4, 0.02))


@dataclass(frozen=True)
class OrderSpec:
    """An order a customer is about to place, and when."""

    at: datetime
    data: OrderInput

    @property
    def country(self) -> str:
        """The destination country."""
        return str(self.data.ship_to["country"])

    @property
    def value(self) -> Decimal:
        """What the customer pays for the goods."""
        return sum(
            (Decimal(ln.quantity) * (ln.unit_price or Decimal(0)) for ln in self.data.lines),
            Decimal(0),
        )


def _weighted(pairs: tuple[tuple[int, float], ...], rng: random.Random) -> int:
    values = [v for v, _ in pairs]
    return rng.choices(values, weights=[w for _, w in pairs])[0]


class OrderMaker:
    """Makes believable orders from the catalog with its own seeded random numbers."""

    def __init__(self, products: list[Product], rng: random.Random) -> None:
        self.rng = rng
        self.products = products
        self.pilot = [p for p in products if PILOT_TAG in p.tags]
        self._all_weights = list(itertools.accumulate(p.popularity for p in products))
        self._pilot_weights = list(itertools.accumulate(p.popularity for p in self.pilot))
        self._web_numbers = itertools.count(104_211)

    @staticmethod
    def trend(index: int, days: int) -> float:
        """Orders on an average day, the ``index``-th of ``days``: the shop is growing."""
        return 42 + 22 * index / max(days - 1, 1)

    def volume(self, day: date, index: int, days: int) -> int:
        """Orders arriving on ``day``, the ``index``-th of ``days``: 40-120 a day."""
        noisy = self.trend(index, days) * WEEKDAY_FACTOR[day.weekday()]
        return max(40, min(120, round(noisy * self.rng.uniform(0.85, 1.15))))

    def day_orders(self, day: date, index: int, days: int) -> list[OrderSpec]:
        """Every order of one UTC calendar day, in time order."""
        start = datetime.combine(day, time(0), tzinfo=UTC)
        specs = [self.make(start) for _ in range(self.volume(day, index, days))]
        return sorted(specs, key=lambda s: s.at)

    def _when(self, start: datetime, zone: ZoneInfo) -> datetime:
        """A moment within the UTC day from ``start`` that follows local shopping hours."""
        hour = self.rng.choices(range(24), weights=HOURLY)[0]
        local_day = start.astimezone(zone).date() + timedelta(days=1)
        local = datetime.combine(
            local_day, time(hour, self.rng.randrange(60), self.rng.randrange(60)), tzinfo=zone
        )
        moment = local.astimezone(UTC)
        while moment >= start + timedelta(days=1):
            moment -= timedelta(days=1)
        while moment < start:
            moment += timedelta(days=1)
        return moment

    def make(self, start: datetime) -> OrderSpec:
        """One order placed during the UTC day that begins at ``start``."""
        rng = self.rng
        europe = rng.random() < 0.2
        country = "US"
        if europe:
            country = rng.choices(
                [c for c, _ in EU_DESTINATIONS], weights=[w for _, w in EU_DESTINATIONS]
            )[0]
        channel = "web" if rng.random() < 0.6 else "amazon"
        currency = "EUR" if europe else "USD"
        at = self._when(start, EU_SHOPPERS if europe else US_SHOPPERS)
        discount = Decimal("0.85") if channel == "web" and rng.random() < 0.12 else Decimal(1)
        lines: list[LineInput] = []
        seen: set[str] = set()
        wanted = _weighted(LINE_COUNTS, rng)
        for _ in range(wanted * 4):
            if len(lines) == wanted:
                break
            product = self._pick(europe)
            if product.sku in seen:
                continue
            seen.add(product.sku)
            quantity = _weighted(QUANTITIES, rng)
            if "pantry" in product.tags and rng.random() < 0.3:
                quantity += 1
            price = (product.price_in(currency) * discount).quantize(CENT)
            lines.append(LineInput(sku=product.sku, quantity=quantity, unit_price=price))
        return OrderSpec(
            at=at,
            data=OrderInput(
                channel=channel,
                external_id=self._external_id(channel, europe),
                ship_to=ship_to(rng, country),
                lines=lines,
                currency=currency,
                placed_at=at,
            ),
        )

    def _pick(self, europe: bool) -> Product:
        if europe and self.rng.random() < 0.75:
            return self.rng.choices(self.pilot, cum_weights=self._pilot_weights)[0]
        return self.rng.choices(self.products, cum_weights=self._all_weights)[0]

    def _external_id(self, channel: str, europe: bool) -> str:
        if channel == "web":
            return f"NW-{next(self._web_numbers)}"
        rng = self.rng
        prefix = rng.choice(("302", "304", "028")) if europe else rng.choice(("111", "112", "113"))
        return f"{prefix}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"
