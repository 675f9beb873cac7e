"""Storage from the ledger, first in, first out: free days, aged tiers, peak seasons, units."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from midway.core.billing_storage import (
    StockChange,
    in_volume_unit,
    lookback_days,
    storage_usage,
    unit_volume_m3,
)
from midway.core.rating import RateCard, StorageTerms, parse_rate_card

D = Decimal
OCT = 10


def _card(**storage: object) -> RateCard:
    body = {"per": "m3_day", "price": "0.80", "free_days": 3, **storage}
    return parse_rate_card({"currency": "USD", "storage": body})


# One SKU of 500 x 400 x 500 mm = 0.1 m3 per unit.
VOLUME = unit_volume_m3(500, 400, 500)
CHANGES = [
    StockChange(date(2026, 9, 28), 10, 1),  # lot A
    StockChange(date(2026, 10, 2), 5, 2),  # lot B
    StockChange(date(2026, 10, 4), -12, 3),  # takes all of A and 2 of B
    StockChange(date(2026, 10, 8), 4, 4),  # lot C, free for the rest of the period
]


def test_unit_volume_is_exact() -> None:
    assert D("0.1") == VOLUME
    assert unit_volume_m3(100, 100, 50) == D("0.0005")


def test_free_days_and_an_aged_tier_day_by_day() -> None:
    card = _card(aged_tiers=[{"from_day": 6, "to_day": None, "price": "0.10"}])
    assert card.storage is not None
    usage = storage_usage(10, CHANGES, card.storage, date(2026, OCT, 1), date(2026, OCT, 10))
    # Billable units at the end of each day (age counts the day of arrival as day 1):
    #   1 Oct: A age 4 -> 10     2 Oct: A 10, B age 1 free     3 Oct: A 10 (age 6: aged)
    #   4 Oct: A gone, B 3 age 3 free                          5-6 Oct: B 3
    #   7-10 Oct: B 3, age 6-9 (aged); C age 1-3 free
    # base: 10 + 10 + 10 + 3 * 6 = 48 unit-days = 4.8 m3-days
    # aged: 10 (3 Oct) + 3 * 4 (7-10 Oct) = 22 unit-days = 2.2 m3-days
    assert usage.unit_days == {"storage": 48, "storage_aged_6": 22}
    assert usage.cubic_metre_days(VOLUME) == {"storage": D("4.8"), "storage_aged_6": D("2.2")}
    # behind both: lots A and B and the removal in the period; lot C was never billed
    assert usage.refs == {"storage": {1, 2, 3}, "storage_aged_6": {1, 2, 3}}


def test_peak_days_go_to_the_peak_charge() -> None:
    card = _card(peak_seasons=[{"from": "2026-10-05", "to": "2026-10-06", "multiplier": "2"}])
    assert card.storage is not None
    usage = storage_usage(10, CHANGES, card.storage, date(2026, OCT, 1), date(2026, OCT, 10))
    # 5 and 6 Oct: 3 units each = 6 unit-days at peak; the other 42 unit-days at base
    assert usage.unit_days == {"storage": 42, "storage_peak_20261005": 6}
    peak = card.charges["storage_peak_20261005"]
    assert peak.tiers[0].unit_price == D("1.60")


def test_no_free_days_bills_from_the_day_of_arrival() -> None:
    card = _card(free_days=0)
    assert card.storage is not None
    usage = storage_usage(
        0,
        [StockChange(date(2026, 10, 31), 7, 9)],
        card.storage,
        date(2026, OCT, 1),
        date(2026, OCT, 31),
    )
    assert usage.unit_days == {"storage": 7}


def test_nothing_on_hand_bills_nothing() -> None:
    card = _card()
    assert card.storage is not None
    usage = storage_usage(0, [], card.storage, date(2026, OCT, 1), date(2026, OCT, 31))
    assert usage.unit_days == {}


def test_removals_beyond_the_lots_are_ignored() -> None:
    card = _card(free_days=0)
    assert card.storage is not None
    changes = [StockChange(date(2026, 10, 1), 2, 1), StockChange(date(2026, 10, 1), -5, 2)]
    usage = storage_usage(0, changes, card.storage, date(2026, OCT, 1), date(2026, OCT, 2))
    assert usage.unit_days == {}


def test_cubic_feet_conversion() -> None:
    # 1 ft = 0.3048 m exactly, so 1 m3 = 1 / 0.028316846592 ft3 = 35.3146667...
    assert in_volume_unit(D(1), "ft3") == D("35.314667")
    assert in_volume_unit(D("0.028316846592"), "ft3") == D("1.000000")
    assert in_volume_unit(D("4.8"), "m3") == D("4.800000")


def test_stock_older_than_the_lookback_has_no_arrival_to_name() -> None:
    card = _card(
        aged_tiers=[
            {"from_day": 6, "to_day": 9, "price": "0.10"},
            {"from_day": 10, "to_day": None, "price": "0.20"},
        ]
    )
    assert card.storage is not None
    assert lookback_days(card.storage) == 9
    # 5 units on hand from long ago, 2 shipped on 2 Oct: 5 + 3 unit-days over 2 days
    usage = storage_usage(
        5,
        [StockChange(date(2026, 10, 2), -2, 8)],
        card.storage,
        date(2026, OCT, 1),
        date(2026, OCT, 2),
    )
    assert usage.unit_days == {"storage": 8, "storage_aged_10": 8}
    assert usage.refs == {"storage": {8}, "storage_aged_10": {8}}


def _lots_by_brute_force(
    history: list[StockChange], terms: StorageTerms, first: date, last: date
) -> dict[str, int]:
    """Replay every lot from the beginning, row by row (the definition, slowly)."""
    lots: list[tuple[date, int]] = []  # (arrived, units), oldest first
    result: dict[str, int] = {}
    day = min(c.day for c in history) if history else first
    while day <= last:
        for change in (c for c in history if c.day == day):
            if change.delta > 0:
                lots.append((change.day, change.delta))
                continue
            need = -change.delta
            while need and lots:
                arrived, units = lots[0]
                take = min(need, units)
                need -= take
                lots[0] = (arrived, units - take)
                if not lots[0][1]:
                    lots.pop(0)
        if day >= first:
            season = terms.season(day)
            base = season.charge.code if season else "storage"
            for arrived, units in lots:
                age = (day - arrived).days + 1
                if age <= terms.free_days:
                    continue
                result[base] = result.get(base, 0) + units
                for tier in terms.aged_tiers:
                    if tier.holds(age):
                        result[tier.charge.code] = result.get(tier.charge.code, 0) + units
        day += timedelta(days=1)
    return result


@pytest.mark.parametrize("seed", range(25))
def test_the_closed_form_matches_replaying_every_lot(seed: int) -> None:
    rng = random.Random(seed)
    card = _card(
        free_days=rng.randint(0, 10),
        aged_tiers=[
            {"from_day": 12, "to_day": 20, "price": "0.10"},
            {"from_day": 21, "to_day": None, "price": "0.20"},
        ],
        peak_seasons=[{"from": "2026-10-20", "to": "2026-10-25", "multiplier": "2"}],
    )
    terms = card.storage
    assert terms is not None
    history: list[StockChange] = []
    on_hand = 0
    day = date(2026, 7, 1)
    ref = 0
    while day <= date(2026, 10, 31):
        for _ in range(rng.randint(0, 3)):
            ref += 1
            if rng.random() < 0.3:
                units = rng.randint(1, 40)
                on_hand += units
            else:
                units = -rng.randint(0, on_hand)
                on_hand += units
            if units:
                history.append(StockChange(day, units, ref))
        day += timedelta(days=1)
    first, last = date(2026, 10, 1), date(2026, 10, 31)
    start = first - timedelta(days=lookback_days(terms))
    opening = sum(c.delta for c in history if c.day < first)
    recent = [c for c in history if c.day >= start]
    rng.shuffle(recent)  # the order of the rows does not matter
    usage = storage_usage(opening, recent, terms, first, last)
    expected = {k: v for k, v in _lots_by_brute_force(history, terms, first, last).items() if v}
    assert {k: v for k, v in usage.unit_days.items() if v} == expected
