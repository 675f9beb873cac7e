"""Invoice audit: the provider's invoice rows against the invoice Midway expects, explained.

Every billed row and every expected line ends up in exactly one finding or in a matched
group, and the findings' differences add up to billed total − expected total to the cent:

1. a row repeating an earlier row (same ``line_id``, or same charge, reference, quantity and
   amount) is a ``duplicate``: its whole amount is a difference;
2. a row for a process the agreement's matrix gives to the merchant (or to no one) is a
   ``merchant_process`` charge: its whole amount is a difference;
3. a row whose charge code is not on the rate card is ``not_on_rate_card``; a row whose
   reference names nothing behind the expected line of its code is ``no_matching_event``;
4. the remaining rows are grouped by charge code and compared with the expected line:
   ``arithmetic`` (row amounts that are not quantity × the row's own unit price),
   ``rate_difference`` (the row prices against the card's price for the billed quantity) and
   ``quantity_difference`` (the card's price for the billed quantity against the expected
   amount, i.e. more or fewer units than the events show). The three telescope, so they add
   up to the group's billed − expected exactly. Lines without a card price (carrier
   pass-through, the minimum) compare amounts (``amount_difference``); SLA credits that the
   provider did not apply, or applied differently, are ``credit_not_applied``.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from midway.core import money
from midway.core.rating import (
    CARRIER_CHARGES,
    CARRIER_MARKUP,
    MINIMUM_SHORTFALL,
    SLA_PREFIX,
    Charge,
    minor_units,
    price,
    round_money,
)

COLUMNS = ("line_id", "charge_code", "description", "quantity", "unit_price", "amount", "reference")
REQUIRED = ("line_id", "charge_code", "quantity", "amount")
_COMPUTED = frozenset({CARRIER_CHARGES, CARRIER_MARKUP, MINIMUM_SHORTFALL})


@dataclass(frozen=True)
class BilledRow:
    """One row of the provider's invoice; ``row`` is its number as the user sees it."""

    row: int
    line_id: str
    charge_code: str
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    reference: str


@dataclass(frozen=True)
class RowError:
    """A malformed row: where (``line 4.quantity`` or ``rows[2].quantity``) and what."""

    field: str
    message: str


@dataclass(frozen=True)
class ExpectedLine:
    """A line of the expected invoice as the audit needs it."""

    code: str
    quantity: Decimal
    amount: Decimal
    refs: Mapping[str, Sequence[str | int]] = field(default_factory=dict)

    def ref_ids(self) -> set[str]:
        """Every source id behind the line, as text."""
        return {str(v) for values in self.refs.values() for v in values}


@dataclass(frozen=True)
class Ownership:
    """Whether the matrix gives the row's process to the provider, and why."""

    provider: bool
    reason: str


@dataclass(frozen=True)
class Finding:
    """One explained difference; ``difference`` is billed − expected."""

    kind: str
    code: str | None
    rows: tuple[int, ...]
    billed: Decimal
    expected: Decimal
    difference: Decimal
    explanation: str
    refs: Mapping[str, Sequence[str | int]] = field(default_factory=dict)


# --- reading -------------------------------------------------------------------------------


def read_csv(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """Rows of a CSV invoice with their line numbers (the header is line 1)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [RowError("line 1", f"line 1: missing column(s) {', '.join(missing)}")]
    reader.fieldnames = header
    rows = []
    for record in reader:
        if None in record:
            return [], [
                RowError(
                    f"line {reader.line_num}", f"line {reader.line_num}: more values than columns"
                )
            ]
        if not any((v or "").strip() for v in record.values()):
            continue
        rows.append((reader.line_num, {k: (v or "") for k, v in record.items()}))
    return rows, []


def parse_rows(
    records: Iterable[tuple[int, Mapping[str, object]]], currency: str, *, csv_lines: bool
) -> tuple[list[BilledRow], list[RowError]]:
    """Validated rows, or every error naming its row and field (``line 4.quantity`` for CSV,
    ``rows[2].quantity`` for JSON)."""
    rows: list[BilledRow] = []
    errors: list[RowError] = []
    places = minor_units(currency)
    for number, record in records:
        reader = _RowReader(record, f"line {number}" if csv_lines else f"rows[{number - 1}]")
        line_id = reader.text("line_id", required=True)
        code = reader.text("charge_code", required=True)
        quantity = reader.number("quantity", required=True)
        unit_price = reader.number("unit_price", required=False)
        amount = reader.number("amount", required=True)
        if quantity is not None and quantity < 0:
            reader.problem("quantity", "must not be negative")
        if amount is not None and amount != amount.quantize(Decimal(1).scaleb(-places)):
            reader.problem(
                "amount", f"{amount} has more decimal places than {currency} allows ({places})"
            )
        if reader.problems or quantity is None or amount is None:
            errors += reader.problems
            continue
        rows.append(
            BilledRow(
                row=number,
                line_id=line_id,
                charge_code=code,
                description=reader.text("description", required=False),
                quantity=quantity,
                unit_price=unit_price,
                amount=amount,
                reference=reader.text("reference", required=False),
            )
        )
    if not rows and not errors:
        errors.append(RowError("rows", "the invoice has no rows"))
    return rows, errors


class _RowReader:
    """Reads the fields of one row, collecting every problem with its place."""

    def __init__(self, record: Mapping[str, object], where: str) -> None:
        self.record = record
        self.where = where
        self.problems: list[RowError] = []

    def problem(self, name: str, message: str) -> None:
        self.problems.append(RowError(f"{self.where}.{name}", f"{self.where}: {name} {message}"))

    def text(self, name: str, *, required: bool) -> str:
        value = self.record.get(name)
        text = "" if value is None else str(value).strip()
        if required and not text:
            self.problem(name, "is required")
        return text

    def number(self, name: str, *, required: bool) -> Decimal | None:
        raw = self.record.get(name)
        if isinstance(raw, float):
            self.problem(name, "must be written as a string, not a float")
            return None
        text = "" if raw is None else str(raw).strip()
        if not text:
            if required:
                self.problem(name, "is required")
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            self.problem(name, f"{text!r} is not a number")
            return None
        if not money.fits(value):
            self.problem(name, money.describe(value))
            return None
        return value


# --- reconciling ---------------------------------------------------------------------------


def reconcile(
    rows: Sequence[BilledRow],
    expected: Sequence[ExpectedLine],
    charges: Mapping[str, Charge],
    ownership: Mapping[int, Ownership],
    currency: str,
    aliases: Mapping[int, set[str]] | None = None,
) -> list[Finding]:
    """Explain every difference between ``rows`` and ``expected`` (see the module doc).

    ``aliases`` gives, per row number, the ids its reference stands for (a shipment also
    names its fulfillment order, an order its parcels and tasks); by default just itself."""
    aliases = aliases or {}
    findings: list[Finding] = []
    expected_by_code: dict[str, list[ExpectedLine]] = defaultdict(list)
    for line in expected:
        expected_by_code[line.code].append(line)
    known_refs = {
        code: set().union(*(ln.ref_ids() for ln in lines))
        for code, lines in expected_by_code.items()
    }
    groups: dict[str, list[BilledRow]] = defaultdict(list)
    seen_ids: dict[str, int] = {}
    seen_keys: dict[tuple[str, str, Decimal, Decimal], int] = {}
    for row in rows:
        key = (row.charge_code, row.reference, row.quantity, row.amount)
        first = seen_ids.get(row.line_id) or (seen_keys.get(key) if row.reference else None)
        seen_ids.setdefault(row.line_id, row.row)
        seen_keys.setdefault(key, row.row)
        if first is not None:
            what = f"line_id {row.line_id}" if first == seen_ids.get(row.line_id) else "content"
            findings.append(_whole(row, "duplicate", f"row {row.row} repeats row {first} ({what})"))
            continue
        owner = ownership.get(row.row)
        if owner is not None and not owner.provider:
            findings.append(
                _whole(
                    row,
                    "merchant_process",
                    f"row {row.row} bills {row.charge_code}, but the provider does not own "
                    f"that work: {owner.reason}",
                )
            )
            continue
        code = row.charge_code
        on_card = code in charges or code in _COMPUTED or code.startswith(SLA_PREFIX)
        if not on_card and code not in expected_by_code:
            findings.append(
                _whole(row, "not_on_rate_card", f"row {row.row}: {code} is not on the rate card")
            )
            continue
        names = aliases.get(row.row, {row.reference})
        if row.reference and not names & known_refs.get(code, set()):
            findings.append(
                _whole(
                    row,
                    "no_matching_event",
                    f"row {row.row}: nothing billable for {code} matches reference "
                    f"{row.reference!r} in the period",
                )
            )
            continue
        groups[code].append(row)
    for code in [*expected_by_code, *(c for c in groups if c not in expected_by_code)]:
        lines = expected_by_code.get(code, [])
        findings += _compare(code, groups.get(code, []), lines, charges.get(code), currency)
    return findings


def _whole(row: BilledRow, kind: str, explanation: str) -> Finding:
    return Finding(
        kind=kind,
        code=row.charge_code,
        rows=(row.row,),
        billed=row.amount,
        expected=Decimal(0),
        difference=row.amount,
        explanation=explanation,
        refs={"reference": [row.reference]} if row.reference else {},
    )


def _compare(
    code: str,
    rows: list[BilledRow],
    lines: list[ExpectedLine],
    charge: Charge | None,
    currency: str,
) -> list[Finding]:
    billed = sum((r.amount for r in rows), Decimal(0))
    expected = sum((ln.amount for ln in lines), Decimal(0))
    numbers = tuple(r.row for r in rows)
    refs: dict[str, list[str | int]] = defaultdict(list)
    for line in lines:
        for kind, values in line.refs.items():
            refs[kind].extend(values)

    def finding(kind: str, got: Decimal, want: Decimal, why: str) -> Finding:
        return Finding(kind, code, numbers, got, want, got - want, why, dict(refs))

    if charge is None or code.startswith(SLA_PREFIX):
        if billed == expected:
            return []
        if code.startswith(SLA_PREFIX):
            why = f"SLA credit {code}: the invoice applies {billed}, the scorecard owes {expected}"
            return [finding("credit_not_applied", billed, expected, why)]
        why = f"{code}: billed {billed}, expected {expected}"
        return [finding("amount_difference", billed, expected, why)]
    quantity = sum((r.quantity for r in rows), Decimal(0))
    want_quantity = sum((ln.quantity for ln in lines), Decimal(0))
    own_prices = sum(
        (
            r.amount if r.unit_price is None else round_money(r.quantity * r.unit_price, currency)
            for r in rows
        ),
        Decimal(0),
    )
    at_card = round_money(price(charge, quantity), currency)
    result = []
    if billed != own_prices:
        why = (
            f"{code}: row amounts add up to {billed}, but quantity × unit price gives {own_prices}"
        )
        result.append(finding("arithmetic", billed, own_prices, why))
    if own_prices != at_card:
        card_price = "the card's tiers" if charge.tiered else f"{charge.tiers[0].unit_price}"
        why = (
            f"{code}: {quantity} {charge.unit} billed at the invoice's prices come to "
            f"{own_prices}; at {card_price} they come to {at_card}"
        )
        result.append(finding("rate_difference", own_prices, at_card, why))
    if at_card != expected:
        if quantity and not want_quantity:
            tail = "no billable events in the period"
        else:
            tail = f"the events show {want_quantity}"
        why = f"{code}: {quantity} {charge.unit} billed, {tail} (expected amount {expected})"
        result.append(finding("quantity_difference", at_card, expected, why))
    return result
