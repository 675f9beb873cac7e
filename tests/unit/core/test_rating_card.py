"""Rate cards from an agreement's JSON: the full shape, and bad cards naming charge and field."""

from __future__ import annotations

import copy
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from midway.core.errors import DomainError
from midway.core.rating import RatingError, parse_rate_card, price

D = Decimal

FULL_CARD: dict[str, Any] = {
    "currency": "USD",
    "receiving": {
        "per": "carton",
        "price": "3.00",
        "units_per_pack": 24,
        "sku_units_per_pack": {"MUG-GLD": 12},
    },
    "storage": {
        "per": "m3_day",
        "price": "0.80",
        "free_days": 30,
        "aged_tiers": [
            {"from_day": 91, "to_day": 180, "price": "0.20"},
            {"from_day": 181, "to_day": None, "price": "0.60"},
        ],
        "peak_seasons": [{"from": "2026-11-15", "to": "2026-12-31", "multiplier": "1.5"}],
    },
    "fulfillment": {
        "per_order": {
            "tiers": [
                {"from": 0, "to": 5000, "price": "2.75"},
                {"from": 5000, "to": None, "price": "2.50"},
            ]
        },
        "included_units": 2,
        "per_extra_unit": "0.45",
    },
    "branded_inserts": {"per": "order", "price": "0.35"},
    "kitting": {"per": "unit", "price": "0.90"},
    "labeling": {"per": "order", "price": "0.20"},
    "returns": {"per_return": "3.50", "per_unit": "0.75"},
    "special_handling": {
        "fragile": {"per": "unit", "price": "0.50"},
        "hazmat": {"per": "order", "price": "4.00"},
    },
    "carrier_markup_percent": "8",
    "monthly_minimum": "250.00",
}


def test_the_full_card_parses_into_charges_and_metering_terms() -> None:
    card = parse_rate_card(FULL_CARD)
    assert card.currency == "USD"
    assert list(card.charges) == [
        "receiving",
        "storage",
        "storage_aged_91",
        "storage_aged_181",
        "storage_peak_20261115",
        "fulfillment_order",
        "fulfillment_extra_unit",
        "branded_inserts",
        "kitting",
        "labeling",
        "returns_return",
        "returns_unit",
        "special_handling:fragile",
        "special_handling:hazmat",
    ]
    assert card.charges["receiving"].unit == "carton"
    assert card.receiving_pack is not None
    assert card.receiving_pack.units_per_pack("MUG-GLD") == 12
    assert card.receiving_pack.units_per_pack("TEE") == 24
    assert card.included_units == 2
    assert card.carrier_markup_percent == D(8)
    assert card.monthly_minimum == D("250.00")
    storage = card.storage
    assert storage is not None
    assert (storage.volume_unit, storage.free_days) == ("m3", 30)
    assert [(t.from_day, t.to_day) for t in storage.aged_tiers] == [(91, 180), (181, None)]
    (peak,) = storage.peaks
    assert (peak.start, peak.end, peak.multiplier) == (
        date(2026, 11, 15),
        date(2026, 12, 31),
        D("1.5"),
    )
    # the peak charge is the storage price times the multiplier: 0.80 * 1.5
    assert peak.charge.tiers[0].unit_price == D("1.200")
    assert storage.season(date(2026, 11, 14)) is None
    assert storage.season(date(2026, 12, 31)) is peak
    # per-order tiers: 5 000 orders at 2.75 then 2.50
    assert price(card.charges["fulfillment_order"], 5002) == D("13755.00")
    assert card.charges["kitting"].unit == "unit"
    assert card.charges["special_handling:hazmat"].unit == "order"


def test_a_minimal_card_has_only_what_it_names() -> None:
    card = parse_rate_card({"currency": "EUR", "fulfillment": {"per_order": "1.90"}})
    assert list(card.charges) == ["fulfillment_order"]
    assert card.storage is None and card.receiving_pack is None
    assert card.carrier_markup_percent is None
    assert card.monthly_minimum == 0


def test_whole_number_prices_are_accepted() -> None:
    card = parse_rate_card({"currency": "JPY", "labeling": {"per": "order", "price": 20}})
    assert card.charges["labeling"].tiers[0].unit_price == D(20)


def _with(path: str, value: Any) -> dict[str, Any]:
    """The full card with the value at ``a.b.c`` (list indexes as numbers) replaced."""
    card = copy.deepcopy(FULL_CARD)
    target: Any = card
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is _DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return card


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        ("currency", "EURO", "currency", "unknown currency 'EURO'"),
        ("currency", "usd", "currency", "write it as 'USD'"),
        ("currency", _DELETE, "currency", "currency is required"),
        (
            "labeling.price",
            "-0.20",
            "labeling.price",
            "Labeling per order: labeling.price must not be negative",
        ),
        ("labeling.price", 0.2, "labeling.price", "write labeling.price as a string"),
        ("labeling.price", "abc", "labeling.price", "is not a number"),
        ("labeling.per", "pallet", "labeling.per", "must be one of order, unit"),
        (
            "fulfillment.per_order.tiers.1.from",
            4000,
            "fulfillment.per_order.tiers[1].from",
            "Fulfillment per order: tiers overlap: 0-5000 and tier 1 starting at 4000",
        ),
        (
            "fulfillment.per_order.tiers.1.from",
            6000,
            "fulfillment.per_order.tiers[1].from",
            "gap between tiers",
        ),
        (
            "fulfillment.per_order.tiers.1.to",
            9000,
            "fulfillment.per_order.tiers[1].to",
            "last tier must be open-ended",
        ),
        (
            "fulfillment.per_order.tiers.0.price",
            "-2.75",
            "fulfillment.per_order.tiers[0].price",
            "must not be negative",
        ),
        (
            "fulfillment.per_extra_unit",
            _DELETE,
            "fulfillment.per_extra_unit",
            "included_units is set but there is no per_extra_unit",
        ),
        (
            "storage.aged_tiers.1.from_day",
            150,
            "storage.aged_tiers[1].from_day",
            "storage aged tiers overlap: days 91-180 and a tier from day 150",
        ),
        ("storage.aged_tiers.0.price", "-1", "storage.aged_tiers[0].price", "must not be negative"),
        ("storage.per", "pallet_month", "storage.per", "must be one of m3_day, ft3_day"),
        ("storage.unit", "m3", "storage.unit", "unknown field storage.unit"),
        (
            "storage.peak_seasons",
            [
                {"from": "2026-11-15", "to": "2026-12-31", "multiplier": "1.5"},
                {"from": "2026-12-20", "to": "2027-01-05", "multiplier": "2"},
            ],
            "storage.peak_seasons[1]",
            "storage peak seasons overlap",
        ),
        (
            "storage.peak_seasons.0.from",
            "15/11/2026",
            "storage.peak_seasons[0].from",
            "must be a date YYYY-MM-DD",
        ),
        (
            "storage.peak_seasons.0.multiplier",
            "0",
            "storage.peak_seasons[0].multiplier",
            "multiplier must be greater than 0",
        ),
        (
            "receiving.units_per_pack",
            _DELETE,
            "receiving.units_per_pack",
            "say how many units make one carton",
        ),
        (
            "receiving.sku_units_per_pack",
            {"MUG-GLD": 0},
            "receiving.sku_units_per_pack.MUG-GLD",
            "must be a whole number >= 1",
        ),
        (
            "special_handling.fragile.price",
            "-0.50",
            "special_handling.fragile.price",
            "Special handling (fragile) per unit: special_handling.fragile.price must not be "
            "negative",
        ),
        ("returns", {}, "returns", "give per_return, per_unit or both"),
        ("monthly_minimum", "250.001", "monthly_minimum", "more decimal places than USD allows"),
        ("carrier_markup_percent", "-5", "carrier_markup_percent", "must not be negative"),
        ("pallets", {"price": "1"}, "pallets", "unknown field pallets"),
    ],
)
def test_bad_cards_name_the_charge_and_the_field(
    path: str, value: Any, field: str, message: str
) -> None:
    with pytest.raises(RatingError, match=re.escape(message)) as info:
        parse_rate_card(_with(path, value))
    assert info.value.field == field


def test_rating_errors_are_domain_errors_with_a_stable_code() -> None:
    with pytest.raises(DomainError) as info:
        parse_rate_card({"currency": "USD", "kitting": {"per": "unit", "price": "-1"}})
    assert info.value.code == "invalid_rate_card"
    assert info.value.field == "kitting.price"


def test_a_card_must_be_an_object() -> None:
    with pytest.raises(RatingError, match="must be a JSON object"):
        parse_rate_card(["USD"])  # type: ignore[arg-type]
