"""The amounts Midway stores: finite decimals with at most 14 digits before the point and 6
after (a PostgreSQL ``NUMERIC(20, 6)``; SQLite stores the same values as text)."""

from __future__ import annotations

from decimal import Decimal

WHOLE_DIGITS = 14
PLACES = 6


def fits(value: Decimal) -> bool:
    """Whether ``value`` can be stored exactly as an amount."""
    if not value.is_finite():
        return False
    _sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)  # finite
    places = max(-exponent, 0)
    whole = len(digits) + exponent
    return places <= PLACES and (value.is_zero() or whole <= WHOLE_DIGITS)


def describe(value: Decimal) -> str:
    """Why ``value`` does not fit (see :func:`fits`)."""
    return (
        f"{value} is out of range: amounts have at most {WHOLE_DIGITS} digits before the "
        f"decimal point and {PLACES} after"
    )
