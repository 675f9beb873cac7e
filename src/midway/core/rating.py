"""Rate cards and the pure pricing of billable quantities.

A rate card lists charges (pick, pallet-day, label, ...) in one currency. A charge has one or
more graduated tiers: each unit is priced by the tier its position falls in, so the 1 001st
pick of a month costs the second tier's price while the first 1 000 keep the first tier's.
Invoice amounts are rounded half-up to the currency's minor unit, one line at a time.

A card parsed from an agreement (:func:`parse_rate_card`, JSON shape in docs/billing.md) also
carries what the billing meter needs beyond prices: carton or pallet sizes for receiving,
storage terms (volume unit, free days, aged-stock surcharges, peak seasons), the units a
fulfillment fee includes, and the carrier pass-through markup. Its charge codes are the
constants below; they are what invoices and invoice audits name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from types import MappingProxyType
from typing import Any

from midway.core.errors import DomainError

__all__ = [
    "BRANDED_INSERTS",
    "CARRIER_CHARGES",
    "CARRIER_MARKUP",
    "FULFILLMENT_EXTRA_UNIT",
    "FULFILLMENT_ORDER",
    "ISO_4217",
    "KITTING",
    "LABELING",
    "MINIMUM_SHORTFALL",
    "RECEIVING",
    "RETURNS_RETURN",
    "RETURNS_UNIT",
    "SLA_CREDIT_PREFIX",
    "SLA_PREFIX",
    "SPECIAL_HANDLING_PREFIX",
    "STORAGE",
    "AgedTier",
    "Charge",
    "InvoiceLine",
    "PackSize",
    "PeakSeason",
    "RateCard",
    "RatingError",
    "StorageTerms",
    "Tier",
    "invoice_total",
    "minor_units",
    "parse_rate_card",
    "price",
    "rate",
    "round_money",
]

# Charge codes of a card parsed from an agreement, as invoices and audits name them.
MINIMUM_SHORTFALL = "minimum_shortfall"
RECEIVING = "receiving"
STORAGE = "storage"
FULFILLMENT_ORDER = "fulfillment_order"
FULFILLMENT_EXTRA_UNIT = "fulfillment_extra_unit"
BRANDED_INSERTS = "branded_inserts"
KITTING = "kitting"
LABELING = "labeling"
RETURNS_RETURN = "returns_return"
RETURNS_UNIT = "returns_unit"
SPECIAL_HANDLING_PREFIX = "special_handling:"
CARRIER_CHARGES = "carrier_charges"
CARRIER_MARKUP = "carrier_markup"
# SLA lines (credits, rewards, earn-backs) have codes starting with "sla_"; a credit whose
# code does not is written "sla_credit.<code>".
SLA_PREFIX = "sla_"
SLA_CREDIT_PREFIX = "sla_credit."
# Lines the invoice computes itself; a card may not define charges with these codes.
_RESERVED = frozenset({MINIMUM_SHORTFALL, CARRIER_CHARGES, CARRIER_MARKUP})

# Active ISO 4217 currency and funds codes (2026). Left out on purpose: codes withdrawn after
# a changeover (ANG -> XCG, BGN -> EUR, HRK -> EUR, SLL -> SLE, ZWL -> ZWG, CUC) and the
# X-codes that are not money one can invoice in (precious metals, bond-market units, SDR and
# other units of account, the testing code and "no currency").
# fmt: off
ISO_4217: frozenset[str] = frozenset(
    {
        "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BHD",
        "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
        "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DJF",
        "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP",
        "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR",
        "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
        "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP",
        "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR",
        "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB",
        "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN",
        "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH",
        "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF",
        "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
    }
)
# fmt: on

# ISO 4217 minor units that differ from the usual two decimal places.
_MINOR_UNIT_EXCEPTIONS: Mapping[str, int] = MappingProxyType(
    {
        **dict.fromkeys(
            ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"),
            0,
        ),
        **dict.fromkeys(("VND", "VUV", "XAF", "XOF", "XPF"), 0),
        **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
        **dict.fromkeys(("CLF", "UYW"), 4),
    }
)


class RatingError(DomainError, ValueError):
    """Invalid rate card or usage; ``field`` names the offending argument (a path such as
    ``storage.aged_tiers[1].from_day`` for a card parsed from JSON)."""

    def __init__(
        self, message: str, field: str | None = None, *, code: str = "invalid_rate_card"
    ) -> None:
        super().__init__(message, code=code, field=field)


def minor_units(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit (2 for EUR, 0 for JPY, 3 for KWD)."""
    _check_currency(currency)
    return _MINOR_UNIT_EXCEPTIONS.get(currency, 2)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to ``currency``'s minor unit."""
    step = Decimal(1).scaleb(-minor_units(currency))
    return _decimal(amount, "amount").quantize(step, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Tier:
    """Units in positions ``from_quantity`` < n <= ``to_quantity`` cost ``unit_price`` each.

    ``to_quantity`` None means open-ended.
    """

    from_quantity: int
    to_quantity: int | None
    unit_price: Decimal

    def __post_init__(self) -> None:
        _whole(self.from_quantity, "from_quantity")
        if self.to_quantity is not None:
            _whole(self.to_quantity, "to_quantity")
            if self.to_quantity <= self.from_quantity:
                raise RatingError(
                    f"to_quantity ({self.to_quantity}) must be greater than "
                    f"from_quantity ({self.from_quantity})",
                    "to_quantity",
                )
        price_ = _decimal(self.unit_price, "unit_price")
        if price_ < 0:
            raise RatingError(f"unit_price must not be negative, got {price_}", "unit_price")
        object.__setattr__(self, "unit_price", price_)


@dataclass(frozen=True)
class Charge:
    """One billable event type on a rate card, priced by graduated tiers.

    Tiers must start at 0, follow each other without gap or overlap, and only the last one
    is open-ended (so every quantity has a price).
    """

    code: str
    description: str
    unit: str
    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        for name in ("code", "unit"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise RatingError(f"{name} must be a non-empty string, got {value!r}", name)
        if not isinstance(self.description, str):
            raise RatingError(
                f"description must be a string, got {self.description!r}", "description"
            )
        tiers = _as_tuple(self.tiers, "tiers")
        object.__setattr__(self, "tiers", tiers)
        if not tiers:
            raise RatingError(f"charge {self.code!r} needs at least one tier", "tiers")
        for tier in tiers:
            if not isinstance(tier, Tier):
                raise RatingError(f"tiers must be Tier values, got {tier!r}", "tiers")
        if tiers[0].from_quantity != 0:
            raise RatingError(
                f"charge {self.code!r}: the first tier must start at 0, "
                f"not {tiers[0].from_quantity}",
                "tiers",
            )
        for current, following in pairwise(tiers):
            if current.to_quantity is None:
                raise RatingError(
                    f"charge {self.code!r}: only the last tier may be open-ended; the tier "
                    f"from {current.from_quantity} has no upper bound",
                    "tiers",
                )
            if following.from_quantity < current.to_quantity:
                raise RatingError(
                    f"charge {self.code!r}: tiers overlap: {current.from_quantity}-"
                    f"{current.to_quantity} and one starting at {following.from_quantity}",
                    "tiers",
                )
            if following.from_quantity > current.to_quantity:
                raise RatingError(
                    f"charge {self.code!r}: gap between tiers: nothing prices "
                    f"{current.to_quantity}-{following.from_quantity}",
                    "tiers",
                )
        if tiers[-1].to_quantity is not None:
            raise RatingError(
                f"charge {self.code!r}: the last tier must be open-ended (to_quantity=None), "
                f"otherwise quantities above {tiers[-1].to_quantity} have no price",
                "tiers",
            )

    @property
    def tiered(self) -> bool:
        """True if the unit price depends on the quantity (more than one tier)."""
        return len(self.tiers) > 1


@dataclass(frozen=True)
class PackSize:
    """Units in one carton or pallet, for receiving billed per carton or pallet: ``default``
    for every SKU unless ``by_sku`` names it."""

    default: int
    by_sku: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for where, value in (("default", self.default), *self.by_sku.items()):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RatingError(f"units per pack of {where} must be a whole number >= 1")
        object.__setattr__(self, "by_sku", MappingProxyType(dict(self.by_sku)))

    def units_per_pack(self, sku: str) -> int:
        """How many units of ``sku`` make one pack."""
        return self.by_sku.get(sku, self.default)


@dataclass(frozen=True)
class AgedTier:
    """A surcharge per volume-day on stock whose age (the day of receipt is day 1) lies in
    ``from_day`` ..= ``to_day`` (None: no upper bound); priced by ``charge``."""

    from_day: int
    to_day: int | None
    charge: Charge

    def holds(self, age: int) -> bool:
        """True when stock ``age`` days old falls in this tier."""
        return age >= self.from_day and (self.to_day is None or age <= self.to_day)


@dataclass(frozen=True)
class PeakSeason:
    """Days ``start`` ..= ``end`` whose storage is priced by ``charge`` (the storage charge
    with every tier's price times ``multiplier``)."""

    start: date
    end: date
    multiplier: Decimal
    charge: Charge

    def holds(self, day: date) -> bool:
        """True when ``day`` is in the season."""
        return self.start <= day <= self.end


@dataclass(frozen=True)
class StorageTerms:
    """How storage is measured: per cubic metre or cubic foot (``volume_unit`` m3 or ft3) of
    on-hand stock at the end of each day, the first ``free_days`` days of every received lot
    free, aged-stock surcharges and peak seasons."""

    volume_unit: str
    free_days: int = 0
    aged_tiers: tuple[AgedTier, ...] = ()
    peaks: tuple[PeakSeason, ...] = ()

    def __post_init__(self) -> None:
        if self.volume_unit not in ("m3", "ft3"):
            raise RatingError(f"volume_unit must be m3 or ft3, not {self.volume_unit!r}")
        _whole(self.free_days, "free_days")

    def season(self, day: date) -> PeakSeason | None:
        """The peak season ``day`` falls in, if any."""
        return next((p for p in self.peaks if p.holds(day)), None)


@dataclass(frozen=True)
class RateCard:
    """The charges agreed between merchant and provider, in one currency.

    ``charges`` is keyed by charge code. ``monthly_minimum`` is billed as a shortfall line
    when a month's charges add up to less. The remaining fields are the metering terms of a
    card parsed from an agreement (see the module docstring); a plain card leaves them unset.
    """

    currency: str
    charges: Mapping[str, Charge]
    monthly_minimum: Decimal = Decimal(0)
    receiving_pack: PackSize | None = None
    storage: StorageTerms | None = None
    included_units: int = 0
    carrier_markup_percent: Decimal | None = None

    def __post_init__(self) -> None:
        _check_currency(self.currency)
        if not isinstance(self.charges, Mapping):
            raise RatingError("charges must be a mapping of code to Charge", "charges")
        for code, charge in self.charges.items():
            if not isinstance(charge, Charge):
                raise RatingError(f"charges[{code!r}] must be a Charge, got {charge!r}", "charges")
            if code != charge.code:
                raise RatingError(
                    f"charges key {code!r} does not match the charge's code {charge.code!r}",
                    "charges",
                )
            if code in _RESERVED or code.startswith(SLA_PREFIX):
                raise RatingError(
                    f"charge code {code!r} is reserved for a line the invoice computes itself",
                    "charges",
                )
        # A read-only copy: a card must not change under an invoice that was rated with it.
        object.__setattr__(self, "charges", MappingProxyType(dict(self.charges)))
        minimum = _decimal(self.monthly_minimum, "monthly_minimum")
        if minimum < 0:
            raise RatingError(
                f"monthly_minimum must not be negative, got {minimum}", "monthly_minimum"
            )
        if round_money(minimum, self.currency) != minimum:
            raise RatingError(
                f"monthly_minimum {minimum} has more decimal places than {self.currency} "
                f"allows ({minor_units(self.currency)})",
                "monthly_minimum",
            )
        object.__setattr__(self, "monthly_minimum", minimum)
        _whole(self.included_units, "included_units")
        if self.carrier_markup_percent is not None:
            markup = _decimal(self.carrier_markup_percent, "carrier_markup_percent")
            if markup < 0:
                raise RatingError(
                    f"carrier_markup_percent must not be negative, got {markup}",
                    "carrier_markup_percent",
                )
            object.__setattr__(self, "carrier_markup_percent", markup)


@dataclass(frozen=True)
class InvoiceLine:
    """One rated line. ``unit_price`` is None for tiered charges (no single price applies)."""

    code: str
    description: str
    quantity: Decimal | int
    unit_price: Decimal | None
    amount: Decimal
    refs: tuple[str, ...]


def price(charge: Charge, quantity: int | Decimal) -> Decimal:
    """The exact, unrounded price of ``quantity`` units under ``charge``'s graduated tiers."""
    units = _quantity(quantity, "quantity", "quantity")
    total = Decimal(0)
    for tier in charge.tiers:
        if units <= tier.from_quantity:
            break
        upper = units if tier.to_quantity is None else min(units, Decimal(tier.to_quantity))
        total += (upper - tier.from_quantity) * tier.unit_price
    return total


def rate(
    card: RateCard,
    usage: Mapping[str, Decimal | int],
    refs: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[InvoiceLine, ...]:
    """Invoice lines for one month's ``usage`` (quantity per charge code) under ``card``.

    Lines follow the card's charge order; each amount is rounded to the currency's minor
    unit. ``refs`` attaches references (order or shipment ids) to a code's line. When the
    lines add up to less than the card's monthly minimum, a ``minimum_shortfall`` line
    brings the invoice up to it.
    """
    refs = {} if refs is None else refs
    unknown = sorted(set(usage) - set(card.charges))
    if unknown:
        raise RatingError(f"usage has codes not on the rate card: {', '.join(unknown)}", "usage")
    unknown_refs = sorted(set(refs) - set(card.charges))
    if unknown_refs:
        raise RatingError(f"refs has codes not on the rate card: {', '.join(unknown_refs)}", "refs")
    lines: list[InvoiceLine] = []
    for code, charge in card.charges.items():
        if code not in usage:
            continue
        quantity = usage[code]
        _quantity(quantity, "usage", f"usage[{code!r}]")
        line_refs = _refs(refs.get(code, ()), code)
        lines.append(
            InvoiceLine(
                code=code,
                description=charge.description,
                quantity=quantity,
                unit_price=None if charge.tiered else charge.tiers[0].unit_price,
                amount=round_money(price(charge, quantity), card.currency),
                refs=line_refs,
            )
        )
    shortfall = card.monthly_minimum - invoice_total(lines)
    if shortfall > 0:
        lines.append(
            InvoiceLine(
                code=MINIMUM_SHORTFALL,
                description="Monthly minimum shortfall",
                quantity=1,
                unit_price=shortfall,
                amount=shortfall,
                refs=(),
            )
        )
    return tuple(lines)


def parse_rate_card(data: Mapping[str, Any]) -> RateCard:
    """A :class:`RateCard` from an agreement's JSON rate card (shape in docs/billing.md), or
    :class:`RatingError` naming the charge and the field path (``fulfillment.per_order``)."""
    from midway.core.billing_card import parse  # here: that module builds on this one

    return parse(data)


def invoice_total(lines: tuple[InvoiceLine, ...] | list[InvoiceLine]) -> Decimal:
    """Sum of the lines' (already rounded) amounts."""
    return sum((line.amount for line in lines), Decimal(0))


def _check_currency(currency: str) -> None:
    if not isinstance(currency, str) or currency not in ISO_4217:
        hint = ""
        if isinstance(currency, str) and currency.strip().upper() in ISO_4217:
            hint = f"; write it as {currency.strip().upper()!r}"
        raise RatingError(f"unknown currency {currency!r}{hint}", "currency")


def _decimal(value: Any, field: str) -> Decimal:
    # ints are exact and harmless; floats are refused because 0.1 is not 0.1 in binary.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise RatingError(f"{field} must be a Decimal, got {value!r}", field)
    number = Decimal(value)
    if not number.is_finite():
        raise RatingError(f"{field} must be finite, got {value}", field)
    return number


def _whole(value: Any, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RatingError(f"{field} must be an int, got {value!r}", field)
    if value < 0:
        raise RatingError(f"{field} must not be negative, got {value}", field)


def _quantity(value: Any, field: str, label: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise RatingError(f"{label} must be an int or a Decimal, got {value!r}", field)
    units = Decimal(value)
    if not units.is_finite() or units < 0:
        raise RatingError(f"{label} must be a finite, non-negative number, got {value}", field)
    return units


def _refs(value: Any, code: str) -> tuple[str, ...]:
    refs = _as_tuple(value, "refs")
    for ref in refs:
        if not isinstance(ref, str):
            raise RatingError(f"refs[{code!r}] must hold strings, got {ref!r}", "refs")
    return refs


def _as_tuple(value: Any, field: str) -> tuple[Any, ...]:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise RatingError(f"{field} must be a tuple, got {value!r}", field)
    return tuple(value)
