"""Amounts Midway stores are bounded (14 digits before the point, 6 after): every way in
refuses one out of range with the field at fault, instead of storing what cannot be read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from midway.core import money
from midway.core.billing_audit import parse_rows
from midway.core.rating import RatingError, parse_rate_card


@pytest.mark.parametrize(
    ("text", "fits"),
    [
        ("0", True),
        ("3.00", True),
        ("-5.5", True),
        ("0.000001", True),
        ("12345678901234.123456", True),
        ("1E+13", True),
        ("0.0000001", False),
        ("123456789012345", False),
        ("1E+14", False),
        ("1.2994859455688002E+188", False),
        ("NaN", False),
        ("Infinity", False),
    ],
)
def test_what_fits(text: str, fits: bool) -> None:
    assert money.fits(Decimal(text)) is fits


def test_a_rate_card_price_out_of_range_is_refused() -> None:
    card = {"currency": "USD", "kitting": {"per": "unit", "price": "1e30"}}
    with pytest.raises(RatingError, match="out of range") as info:
        parse_rate_card(card)
    assert info.value.field == "kitting.price"


def test_an_audited_amount_out_of_range_is_refused() -> None:
    record = {"line_id": "L1", "charge_code": "kitting", "quantity": "1", "amount": "1e30"}
    rows, errors = parse_rows([(2, record)], "USD", csv_lines=True)
    assert rows == []
    assert [(e.field, "out of range" in e.message) for e in errors] == [("line 2.amount", True)]
