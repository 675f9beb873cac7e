"""Storage quantities from the stock ledger: volume-days per charge code, first in, first out.

Each ledger row that adds stock (a receipt, a restocked return, a positive count) is an
*arrival* dated the local day it happened; rows that remove stock take the oldest units
first. So what is on hand at the end of a day is always the newest units to arrive: with N
units on hand, walk the arrivals from the newest back until N units are covered. A unit's
age is the number of days since it arrived, the day of arrival being day 1. Days up to the
card's ``free_days`` cost nothing; after that a unit counts towards the base storage charge
(or the peak season's charge on a peak day) and, in addition, towards the aged-stock
surcharge whose age range holds it.

Only the recent past is needed: the on-hand quantity when the period starts (the sum of the
ledger before it) and the rows since :func:`lookback_days` before the start. Units on hand
that no known arrival covers are older than the lookback, so older than every bounded tier:
they count as base storage and in the open-ended aged tier, with no arrival row to name.
Within a day the order of the rows does not matter, so a row written late for an earlier
day counts on its own day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from midway.core.rating import STORAGE, StorageTerms

# One cubic foot is exactly 0.3048³ m³ (the international foot).
CUBIC_METRES_PER_CUBIC_FOOT = Decimal("0.028316846592")
_QUANTITY_STEP = Decimal("0.000001")


class StockChange(NamedTuple):
    """A ledger row as storage sees it: the local day, the on-hand change and the row id."""

    day: date
    delta: int
    ref: int


@dataclass
class StorageUsage:
    """Unit-days per charge code, and the ledger rows behind each code."""

    unit_days: dict[str, int] = field(default_factory=dict)
    refs: dict[str, set[int]] = field(default_factory=dict)

    def add(self, code: str, units: int, ref: int | None) -> None:
        """Count ``units`` for one day towards ``code``."""
        self.unit_days[code] = self.unit_days.get(code, 0) + units
        refs = self.refs.setdefault(code, set())
        if ref is not None:
            refs.add(ref)

    def cubic_metre_days(self, unit_volume: Decimal) -> dict[str, Decimal]:
        """m³-days per code for a SKU of ``unit_volume`` m³."""
        return {code: unit_volume * days for code, days in self.unit_days.items()}


def lookback_days(terms: StorageTerms) -> int:
    """How many days before the period the arrivals still matter (the longest age bound)."""
    bounds = [terms.free_days]
    for tier in terms.aged_tiers:
        bounds.append(tier.from_day - 1 if tier.to_day is None else tier.to_day)
    return max(bounds)


def unit_volume_m3(length_mm: int, width_mm: int, height_mm: int) -> Decimal:
    """Volume of one unit in cubic metres (exact: mm³ / 10⁹)."""
    return Decimal(length_mm * width_mm * height_mm).scaleb(-9)


def in_volume_unit(cubic_metre_days: Decimal, unit: str) -> Decimal:
    """m³-days expressed in ``unit`` (m3 or ft3), to six decimal places, half up."""
    value = cubic_metre_days if unit == "m3" else cubic_metre_days / CUBIC_METRES_PER_CUBIC_FOOT
    return value.quantize(_QUANTITY_STEP, rounding=ROUND_HALF_UP)


def storage_usage(
    opening: int,
    changes: Sequence[StockChange],
    terms: StorageTerms,
    first: date,
    last: date,
) -> StorageUsage:
    """Unit-days per code for one SKU at one facility over the days ``first`` ..= ``last``.

    ``opening`` is the quantity on hand when ``first`` begins; ``changes`` are the on-hand
    changes from :func:`lookback_days` before ``first`` up to the end of ``last``, in any
    order (those before ``first`` only tell the ages of the opening stock).
    """
    net: dict[date, int] = {}
    removals: list[int] = []
    for change in changes:
        if change.day >= first:
            net[change.day] = net.get(change.day, 0) + change.delta
            if change.delta < 0:
                removals.append(change.ref)
    arrivals = [c for c in changes if c.delta > 0]
    return daily_usage(opening, arrivals, net, removals, terms, first, last)


def daily_usage(
    opening: int,
    arrivals: Sequence[StockChange],
    net: Mapping[date, int],
    removals: Iterable[int],
    terms: StorageTerms,
    first: date,
    last: date,
) -> StorageUsage:
    """:func:`storage_usage` from its parts: the arrivals (from the lookback on), the net
    on-hand change of each day of the period, and the ids of the period's removals."""
    arrivals = sorted(arrivals, key=lambda c: (c.day, c.ref))
    usage = StorageUsage()
    on_hand = opening
    known = 0  # arrivals up to the current day
    day = first
    while day <= last:
        on_hand += net.get(day, 0)
        while known < len(arrivals) and arrivals[known].day <= day:
            known += 1
        _measure(usage, arrivals[:known], on_hand, day, terms)
        day += timedelta(days=1)
    # The removals of the period shaped what was on hand, so they are behind every line.
    if usage.refs:
        removed = set(removals)
        for refs in usage.refs.values():
            refs.update(removed)
    return usage


def _measure(
    usage: StorageUsage,
    arrivals: Sequence[StockChange],
    on_hand: int,
    day: date,
    terms: StorageTerms,
) -> None:
    season = terms.season(day)
    base = season.charge.code if season else STORAGE
    left = on_hand
    for arrival in reversed(arrivals):
        if left <= 0:
            return
        units = min(arrival.delta, left)
        left -= units
        _count(usage, base, terms, (day - arrival.day).days + 1, units, arrival.ref)
    if left > 0:  # older than every known arrival, hence than the lookback
        _count(usage, base, terms, None, left, None)


def _count(
    usage: StorageUsage,
    base: str,
    terms: StorageTerms,
    age: int | None,
    units: int,
    ref: int | None,
) -> None:
    if age is not None and age <= terms.free_days:
        return
    usage.add(base, units, ref)
    for tier in terms.aged_tiers:
        if tier.holds(age) if age is not None else tier.to_day is None:
            usage.add(tier.charge.code, units, ref)
