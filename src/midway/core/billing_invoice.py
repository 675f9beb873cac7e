"""A draft invoice from metered usage: rated lines, carrier pass-through, the monthly minimum
and SLA credits, every line rounded to the currency's minor unit.

Order of the lines and of the arithmetic:

1. one line per charge of the card that has usage, in the card's order, priced through its
   graduated tiers over the period's whole quantity;
2. carrier charges passed through at cost (one line) and the card's markup on them (one line);
3. the monthly minimum: when the service lines of step 1 add up to less, a shortfall line
   brings them up to it (carrier charges are the carrier's money and do not count);
4. SLA credits (negative lines), after the minimum, so a credit is never swallowed by it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from midway.core.rating import (
    CARRIER_CHARGES,
    CARRIER_MARKUP,
    MINIMUM_SHORTFALL,
    SLA_CREDIT_PREFIX,
    SLA_PREFIX,
    RateCard,
    RatingError,
    price,
    round_money,
)

Refs = Mapping[str, Sequence[str | int]]


@dataclass(frozen=True)
class Usage:
    """Metered quantity of one charge code in a period, with the source ids behind it
    (``{"shipments": [...], "tasks": [...], "ledger_rows": [...], "events": [...]}``)."""

    code: str
    quantity: Decimal
    refs: Refs = field(default_factory=dict)
    detail: tuple[Mapping[str, object], ...] = ()


@dataclass(frozen=True)
class Credit:
    """An SLA credit (``amount`` negative) or reward (positive) for the period."""

    code: str
    description: str
    amount: Decimal
    refs: Refs = field(default_factory=dict)


@dataclass(frozen=True)
class DraftLine:
    """One line of a draft invoice. ``kind`` is charge, pass_through, minimum or credit."""

    code: str
    kind: str
    description: str
    unit: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    refs: Refs = field(default_factory=dict)
    detail: tuple[Mapping[str, object], ...] = ()


@dataclass(frozen=True)
class Draft:
    """The lines and totals of a draft invoice."""

    currency: str
    lines: tuple[DraftLine, ...]

    @property
    def subtotal(self) -> Decimal:
        """Everything before credits."""
        total = sum((ln.amount for ln in self.lines if ln.kind != "credit"), Decimal(0))
        return round_money(total, self.currency)

    @property
    def credits_total(self) -> Decimal:
        """The sum of the credit lines (negative for credits)."""
        total = sum((ln.amount for ln in self.lines if ln.kind == "credit"), Decimal(0))
        return round_money(total, self.currency)

    @property
    def total(self) -> Decimal:
        """What the merchant owes."""
        return self.subtotal + self.credits_total


def draft(
    card: RateCard,
    usage: Mapping[str, Usage],
    *,
    carrier_cost: Decimal = Decimal(0),
    carrier_shipments: int = 0,
    carrier_refs: Refs | None = None,
    credits: Sequence[Credit] = (),
) -> Draft:
    """Rate ``usage`` under ``card`` and add pass-through, minimum and credits (see above)."""
    unknown = sorted(set(usage) - set(card.charges))
    if unknown:
        raise RatingError(f"usage has codes not on the rate card: {', '.join(unknown)}", "usage")
    lines: list[DraftLine] = []
    for code, charge in card.charges.items():
        metered = usage.get(code)
        if metered is None or metered.quantity <= 0:
            continue
        single = None if charge.tiered else charge.tiers[0].unit_price
        lines.append(
            DraftLine(
                code=code,
                kind="charge",
                description=charge.description,
                unit=charge.unit,
                quantity=metered.quantity,
                unit_price=single,
                amount=round_money(price(charge, metered.quantity), card.currency),
                refs=metered.refs,
                detail=metered.detail,
            )
        )
    services = sum((ln.amount for ln in lines), Decimal(0))
    if card.carrier_markup_percent is not None and carrier_shipments:
        lines += _carrier(card, carrier_cost, carrier_shipments, carrier_refs or {})
    shortfall = card.monthly_minimum - services
    if shortfall > 0:
        lines.append(
            DraftLine(
                code=MINIMUM_SHORTFALL,
                kind="minimum",
                description=f"Monthly minimum {card.monthly_minimum} {card.currency}: shortfall",
                unit="month",
                quantity=Decimal(1),
                unit_price=shortfall,
                amount=shortfall,
            )
        )
    for credit in credits:
        lines.append(
            DraftLine(
                code=(
                    credit.code
                    if credit.code.startswith(SLA_PREFIX)
                    else f"{SLA_CREDIT_PREFIX}{credit.code}"
                ),
                kind="credit",
                description=credit.description,
                unit="credit",
                quantity=Decimal(1),
                unit_price=None,
                amount=round_money(credit.amount, card.currency),
                refs=credit.refs,
            )
        )
    return Draft(card.currency, tuple(lines))


def _carrier(card: RateCard, cost: Decimal, shipments: int, refs: Refs) -> list[DraftLine]:
    assert card.carrier_markup_percent is not None
    at_cost = round_money(cost, card.currency)
    share = card.carrier_markup_percent / 100
    return [
        DraftLine(
            code=CARRIER_CHARGES,
            kind="pass_through",
            description="Carrier charges passed through at cost",
            unit="shipment",
            quantity=Decimal(shipments),
            unit_price=None,
            amount=at_cost,
            refs=refs,
        ),
        DraftLine(
            code=CARRIER_MARKUP,
            kind="pass_through",
            description=f"Markup of {card.carrier_markup_percent} % on carrier charges",
            unit="currency",
            quantity=at_cost,
            unit_price=share,
            amount=round_money(at_cost * share, card.currency),
            refs=refs,
        ),
    ]
