"""Rate cards: graduated tiers, minor-unit rounding, monthly minimum, and bad cards."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from midway.core.rating import (
    ISO_4217,
    MINIMUM_SHORTFALL,
    Charge,
    InvoiceLine,
    RateCard,
    RatingError,
    Tier,
    invoice_total,
    minor_units,
    price,
    rate,
    round_money,
)

D = Decimal

PICK = Charge(
    code="pick",
    description="Pick per unit",
    unit="unit",
    tiers=(
        Tier(0, 1000, D("0.30")),
        Tier(1000, 5000, D("0.25")),
        Tier(5000, None, D("0.20")),
    ),
)
STORAGE = Charge("pallet_day", "Pallet storage per day", "pallet-day", (Tier(0, None, D("0.45")),))
LABEL = Charge("label", "Shipping label", "label", (Tier(0, None, D("0.055")),))


@pytest.fixture
def card() -> RateCard:
    return RateCard(
        currency="EUR",
        charges={"pick": PICK, "pallet_day": STORAGE, "label": LABEL},
        monthly_minimum=D("500.00"),
    )


# --- graduated pricing ---


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        (0, D(0)),
        (1, D("0.30")),
        (1000, D("300.00")),  # the 1 000th unit is still in the first tier
        (1001, D("300.25")),  # the 1 001st is the first in the second tier
        (5000, D("1300.00")),  # 300 + 4000 * 0.25
        (6200, D("1540.00")),  # 300 + 1000 + 1200 * 0.20
        (D("1000.5"), D("300.125")),  # fractional quantities, unrounded
    ],
)
def test_price_graduated_tiers(quantity: int | Decimal, expected: Decimal) -> None:
    assert price(PICK, quantity) == expected


def test_price_single_tier() -> None:
    assert price(STORAGE, D("310.5")) == D("139.725")


@pytest.mark.parametrize("bad", [-1, D("-0.5"), 1.5, True, D("Infinity"), "3"])
def test_price_rejects_bad_quantity(bad: Any) -> None:
    with pytest.raises(RatingError, match="quantity must be") as info:
        price(PICK, bad)
    assert info.value.field == "quantity"


# --- rating a month ---


def test_rate_a_busy_month(card: RateCard) -> None:
    lines = rate(
        card,
        {"label": 1234, "pick": 6200, "pallet_day": D("310.5")},
        refs={"label": ("SHP-1", "SHP-2")},
    )
    assert lines == (
        InvoiceLine("pick", "Pick per unit", 6200, None, D("1540.00"), ()),
        # 310.5 * 0.45 = 139.725: half-up gives 139.73 (half-even would give 139.72).
        InvoiceLine("pallet_day", "Pallet storage per day", D("310.5"), D("0.45"), D("139.73"), ()),
        # 1234 * 0.055 = 67.870
        InvoiceLine("label", "Shipping label", 1234, D("0.055"), D("67.87"), ("SHP-1", "SHP-2")),
    )
    assert invoice_total(lines) == D("1747.60")
    assert all(line.code != MINIMUM_SHORTFALL for line in lines)


def test_rate_a_quiet_month_adds_the_minimum_shortfall(card: RateCard) -> None:
    lines = rate(card, {"pick": 800, "pallet_day": 10})
    # 800 * 0.30 = 240.00; 10 * 0.45 = 4.50; 500.00 - 244.50 = 255.50
    assert [line.amount for line in lines] == [D("240.00"), D("4.50"), D("255.50")]
    shortfall = lines[-1]
    assert shortfall == InvoiceLine(
        MINIMUM_SHORTFALL, "Monthly minimum shortfall", 1, D("255.50"), D("255.50"), ()
    )
    assert invoice_total(lines) == D("500.00")


def test_rate_an_empty_month_bills_the_minimum(card: RateCard) -> None:
    lines = rate(card, {})
    assert len(lines) == 1
    assert lines[0].code == MINIMUM_SHORTFALL
    assert lines[0].amount == D("500.00")


def test_total_exactly_at_the_minimum_has_no_shortfall() -> None:
    card = RateCard("EUR", {"pallet_day": STORAGE}, monthly_minimum=D("45.00"))
    lines = rate(card, {"pallet_day": 100})
    assert [line.code for line in lines] == ["pallet_day"]


def test_zero_quantity_still_gets_a_line(card: RateCard) -> None:
    lines = rate(card, {"label": 0, "pick": 2000})
    assert [(line.code, line.amount) for line in lines] == [
        ("pick", D("550.00")),  # 300 + 1000 * 0.25
        ("label", D("0.00")),
    ]


def test_rate_in_yen_rounds_to_whole_yen() -> None:
    pick = Charge("pick", "Pick", "unit", (Tier(0, 100, D("12.5")), Tier(100, None, D(10))))
    card = RateCard("JPY", {"pick": pick}, monthly_minimum=D(5000))
    # 3 * 12.5 = 37.5 -> 38 half-up; the minimum tops up 5000 - 38 = 4962.
    lines = rate(card, {"pick": 3})
    assert [(line.code, line.amount) for line in lines] == [
        ("pick", D(38)),
        (MINIMUM_SHORTFALL, D(4962)),
    ]
    # 100 * 12.5 + 1 * 10 = 1260
    assert rate(card, {"pick": 101})[0].amount == D(1260)


def test_rate_in_kuwaiti_dinar_keeps_three_places() -> None:
    card = RateCard(
        "KWD", {"label": Charge("label", "Label", "label", (Tier(0, None, D("0.0125")),))}
    )
    # 3 * 0.0125 = 0.0375 -> 0.038
    assert rate(card, {"label": 3})[0].amount == D("0.038")


def test_rate_rejects_unknown_codes(card: RateCard) -> None:
    with pytest.raises(RatingError, match="usage has codes not on the rate card: kitting") as info:
        rate(card, {"pick": 1, "kitting": 5})
    assert info.value.field == "usage"
    with pytest.raises(RatingError, match="refs has codes not on the rate card: returns") as info:
        rate(card, {"pick": 1}, refs={"returns": ("R-1",)})
    assert info.value.field == "refs"


def test_rate_rejects_negative_usage(card: RateCard) -> None:
    with pytest.raises(RatingError, match=r"usage\['pick'\] must be a finite, non-negative"):
        rate(card, {"pick": -3})


def test_rate_rejects_float_usage(card: RateCard) -> None:
    with pytest.raises(RatingError, match=r"usage\['pallet_day'\] must be an int or a Decimal"):
        rate(card, {"pallet_day": 2.5})  # type: ignore[dict-item]


# --- money helpers ---


@pytest.mark.parametrize(
    ("currency", "places"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3)]
)
def test_minor_units(currency: str, places: int) -> None:
    assert minor_units(currency) == places


def test_round_money_is_half_up() -> None:
    assert round_money(D("0.125"), "EUR") == D("0.13")
    assert round_money(D("0.135"), "EUR") == D("0.14")
    assert round_money(D("2.5"), "JPY") == D(3)
    assert str(round_money(D(7), "USD")) == "7.00"


def test_iso_4217_holds_active_codes_only() -> None:
    assert {"EUR", "USD", "GBP", "JPY", "CHF", "XCG", "ZWG"} <= ISO_4217
    assert not {"DEM", "HRK", "ANG", "XAU", "XXX"} & ISO_4217
    assert all(len(code) == 3 and code.isupper() for code in ISO_4217)


# --- bad cards ---


@pytest.mark.parametrize(
    ("currency", "message"),
    [
        ("EURO", "unknown currency 'EURO'"),
        ("eur", "unknown currency 'eur'; write it as 'EUR'"),
        ("DEM", "unknown currency 'DEM'"),
    ],
)
def test_unknown_currency_is_rejected(currency: str, message: str) -> None:
    with pytest.raises(RatingError, match=message) as info:
        RateCard(currency, {})
    assert info.value.field == "currency"


def test_negative_price_is_rejected() -> None:
    with pytest.raises(RatingError, match="unit_price must not be negative") as info:
        Tier(0, None, D("-0.01"))
    assert info.value.field == "unit_price"


def test_float_price_is_rejected() -> None:
    with pytest.raises(RatingError, match="unit_price must be a Decimal"):
        Tier(0, None, 0.3)  # type: ignore[arg-type]


def test_int_price_becomes_decimal() -> None:
    assert isinstance(Tier(0, None, 2).unit_price, Decimal)  # type: ignore[arg-type]


def test_empty_tier_range_is_rejected() -> None:
    with pytest.raises(RatingError, match="must be greater than from_quantity") as info:
        Tier(100, 100, D(1))
    assert info.value.field == "to_quantity"


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ((), "needs at least one tier"),
        ((Tier(0, 100, D(1)), Tier(50, None, D(1))), "tiers overlap"),
        ((Tier(0, 100, D(1)), Tier(150, None, D(1))), "gap between tiers"),
        ((Tier(10, None, D(1)),), "first tier must start at 0"),
        ((Tier(0, None, D(1)), Tier(100, None, D(1))), "only the last tier may be open-ended"),
        ((Tier(0, 100, D(1)), Tier(100, 200, D(1))), "last tier must be open-ended"),
    ],
)
def test_bad_tiers_are_rejected(tiers: tuple[Tier, ...], message: str) -> None:
    with pytest.raises(RatingError, match=message) as info:
        Charge("pick", "Pick", "unit", tiers)
    assert info.value.field == "tiers"


def test_charge_key_must_match_code() -> None:
    with pytest.raises(RatingError, match="does not match") as info:
        RateCard("EUR", {"picking": PICK})
    assert info.value.field == "charges"


def test_minimum_shortfall_code_is_reserved() -> None:
    reserved = Charge(MINIMUM_SHORTFALL, "Sneaky", "month", (Tier(0, None, D(1)),))
    with pytest.raises(RatingError, match="reserved"):
        RateCard("EUR", {MINIMUM_SHORTFALL: reserved})


@pytest.mark.parametrize(
    ("currency", "minimum", "message"),
    [
        ("EUR", D("-1"), "must not be negative"),
        ("EUR", D("10.005"), "more decimal places than EUR allows"),
        ("JPY", D("10.5"), "more decimal places than JPY allows"),
    ],
)
def test_bad_monthly_minimum_is_rejected(currency: str, minimum: Decimal, message: str) -> None:
    with pytest.raises(RatingError, match=message) as info:
        RateCard(currency, {}, monthly_minimum=minimum)
    assert info.value.field == "monthly_minimum"


def test_card_charges_are_read_only(card: RateCard) -> None:
    with pytest.raises(TypeError):
        card.charges["extra"] = PICK  # type: ignore[index]
