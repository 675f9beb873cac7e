"""Draft invoices from usage, worked by hand; and the audit of a provider's invoice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from midway.core.billing_audit import (
    BilledRow,
    ExpectedLine,
    Ownership,
    parse_rows,
    read_csv,
    reconcile,
)
from midway.core.billing_invoice import Credit, Usage, draft
from midway.core.rating import RatingError, parse_rate_card

D = Decimal

CARD = parse_rate_card(
    {
        "currency": "USD",
        "receiving": {"per": "carton", "price": "3.00", "units_per_pack": 24},
        "storage": {"per": "m3_day", "price": "0.80"},
        "fulfillment": {"per_order": "2.75", "included_units": 2, "per_extra_unit": "0.45"},
        "labeling": {"per": "order", "price": "0.20"},
        "special_handling": {"fragile": {"per": "unit", "price": "0.50"}},
        "carrier_markup_percent": "8",
        "monthly_minimum": "250.00",
    }
)


def _usage(**quantities: str) -> dict[str, Usage]:
    return {
        code.replace("__", ":"): Usage(code.replace("__", ":"), D(q), {"shipments": [code]})
        for code, q in quantities.items()
    }


def test_a_quiet_month_by_hand() -> None:
    result = draft(
        CARD,
        _usage(
            receiving="10",
            storage="4.8",
            fulfillment_order="3",
            fulfillment_extra_unit="4",
            labeling="3",
            special_handling__fragile="2",
        ),
        carrier_cost=D("21.37"),
        carrier_shipments=3,
        carrier_refs={"shipments": ["s1", "s2", "s3"]},
        credits=[Credit("on_time_ship", "On-time ship below 99 %", D("-10.00"), {"sla": ["c1"]})],
    )
    assert [(ln.code, ln.kind, ln.quantity, ln.unit_price, ln.amount) for ln in result.lines] == [
        ("receiving", "charge", D(10), D("3.00"), D("30.00")),  # 10 cartons x 3.00
        ("storage", "charge", D("4.8"), D("0.80"), D("3.84")),  # 4.8 m3-days x 0.80
        ("fulfillment_order", "charge", D(3), D("2.75"), D("8.25")),
        ("fulfillment_extra_unit", "charge", D(4), D("0.45"), D("1.80")),
        ("labeling", "charge", D(3), D("0.20"), D("0.60")),
        ("special_handling:fragile", "charge", D(2), D("0.50"), D("1.00")),
        ("carrier_charges", "pass_through", D(3), None, D("21.37")),
        # 21.37 x 8 % = 1.7096 -> 1.71
        ("carrier_markup", "pass_through", D("21.37"), D("0.08"), D("1.71")),
        # services 45.49 < 250.00: the shortfall is 204.51 (carrier money does not count)
        ("minimum_shortfall", "minimum", D(1), D("204.51"), D("204.51")),
        ("sla_credit.on_time_ship", "credit", D(1), None, D("-10.00")),
    ]
    assert result.subtotal == D("273.08")  # 45.49 + 21.37 + 1.71 + 204.51
    assert result.credits_total == D("-10.00")
    assert result.total == D("263.08")
    assert result.lines[0].refs == {"shipments": ["receiving"]}
    assert result.lines[-1].refs == {"sla": ["c1"]}


def test_a_busy_month_has_no_shortfall_and_rounds_per_line() -> None:
    result = draft(CARD, _usage(fulfillment_order="100", storage="0.123456"))
    assert [(ln.code, ln.amount) for ln in result.lines] == [
        ("storage", D("0.10")),  # 0.123456 x 0.80 = 0.0987648 -> 0.10
        ("fulfillment_order", D("275.00")),
    ]
    assert result.total == D("275.10")


def test_sla_lines_keep_their_own_codes() -> None:
    result = draft(
        CARD,
        _usage(fulfillment_order="200"),
        credits=[
            Credit("sla_reward.on_time_ship", "Reward", D("25.00")),
            Credit("dock_to_stock", "Credit", D("-12.345")),
        ],
    )
    assert [(ln.code, ln.kind, ln.amount) for ln in result.lines[-2:]] == [
        ("sla_reward.on_time_ship", "credit", D("25.00")),
        ("sla_credit.dock_to_stock", "credit", D("-12.35")),  # rounded half-up to cents
    ]
    assert result.total == D("562.65")  # 200 x 2.75 + 25.00 - 12.35


def test_no_markup_means_no_carrier_lines() -> None:
    card = parse_rate_card({"currency": "USD", "fulfillment": {"per_order": "2"}})
    result = draft(card, _usage(fulfillment_order="1"), carrier_cost=D(9), carrier_shipments=1)
    assert [ln.code for ln in result.lines] == ["fulfillment_order"]


def test_usage_off_the_card_is_refused() -> None:
    with pytest.raises(RatingError, match="not on the rate card: kitting"):
        draft(CARD, _usage(kitting="1"))


# --- audit ------------------------------------------------------------------------------


def _row(
    n: int, line_id: str, code: str, qty: str, unit: str | None, amount: str, ref: str = ""
) -> BilledRow:
    return BilledRow(
        n, line_id, code, "", D(qty), None if unit is None else D(unit), D(amount), ref
    )


EXPECTED = [
    ExpectedLine(
        "fulfillment_order", D(3), D("8.25"), {"fulfillment_orders": ["fo1", "fo2", "fo3"]}
    ),
    ExpectedLine("labeling", D(3), D("0.60"), {"tasks": ["t1", "t2", "t3"]}),
    ExpectedLine("storage", D("4.8"), D("3.84"), {"ledger_rows": [1, 2]}),
    ExpectedLine("carrier_charges", D(3), D("21.37"), {"shipments": ["s1", "s2", "s3"]}),
    ExpectedLine("sla_credit.on_time_ship", D(1), D("-10.00"), {"sla": ["c1"]}),
]


def test_reconcile_explains_every_kind_of_difference_to_the_cent() -> None:
    rows = [
        _row(2, "L1", "fulfillment_order", "4", "2.75", "11.00"),  # one order too many
        _row(3, "L2", "labeling", "3", "0.25", "0.75"),  # 0.25 instead of 0.20
        _row(4, "L3", "storage", "4.8", "0.80", "3.94"),  # 4.8 x 0.80 is 3.84, not 3.94
        _row(5, "L4", "carrier_charges", "3", None, "21.37"),
        _row(6, "L4", "carrier_charges", "3", None, "21.37"),  # same line id again
        _row(7, "L5", "branded_inserts", "1", "0.35", "0.35", "fo2"),  # merchant's work
        _row(8, "L6", "kitting", "2", "0.90", "1.80"),  # not on the card
        _row(9, "L7", "labeling", "1", "0.20", "0.20", "t9"),  # no such task in the period
    ]
    ownership = {7: Ownership(False, "rule 'premium-inserts' gives it to the merchant")}
    findings = reconcile(rows, EXPECTED, CARD.charges, ownership, "USD")
    got = [(f.kind, f.code, f.rows, f.difference) for f in findings]
    assert got == [
        ("duplicate", "carrier_charges", (6,), D("21.37")),
        ("merchant_process", "branded_inserts", (7,), D("0.35")),
        ("not_on_rate_card", "kitting", (8,), D("1.80")),
        ("no_matching_event", "labeling", (9,), D("0.20")),
        ("quantity_difference", "fulfillment_order", (2,), D("2.75")),
        ("rate_difference", "labeling", (3,), D("0.15")),  # 3 x (0.25 - 0.20)
        ("arithmetic", "storage", (4,), D("0.10")),
        # the provider applied no SLA credit: 0 billed against -10.00 owed
        ("credit_not_applied", "sla_credit.on_time_ship", (), D("10.00")),
    ]
    billed = sum((r.amount for r in rows), D(0))
    expected = sum((e.amount for e in EXPECTED), D(0))
    assert sum((f.difference for f in findings), D(0)) == billed - expected == D("36.72")


def test_a_matching_invoice_has_no_findings() -> None:
    rows = [
        _row(2, "A", "fulfillment_order", "3", "2.75", "8.25", "fo1"),
        _row(3, "B", "labeling", "3", "0.20", "0.60"),
        _row(4, "C", "storage", "4.8", "0.80", "3.84"),
        _row(5, "D", "carrier_charges", "3", None, "21.37"),
        _row(6, "E", "sla_credit.on_time_ship", "1", None, "-10.00"),
    ]
    assert reconcile(rows, EXPECTED, CARD.charges, {}, "USD") == []


def test_an_unbilled_line_is_a_negative_quantity_difference() -> None:
    findings = reconcile(
        [_row(2, "A", "fulfillment_order", "3", "2.75", "8.25")],
        EXPECTED[:2],
        CARD.charges,
        {},
        "USD",
    )
    assert [(f.kind, f.code, f.difference) for f in findings] == [
        ("quantity_difference", "labeling", D("-0.60"))
    ]


def test_csv_rows_and_their_errors() -> None:
    text = (
        "line_id,charge_code,description,quantity,unit_price,amount,reference\n"
        "1,labeling,Labels,3,0.20,0.60,\n"
        "\n"
        "2,,Labels,x,0.20,0.601,\n"
    )
    records, errors = read_csv(text)
    assert errors == []
    rows, errors = parse_rows(records, "USD", csv_lines=True)
    assert [r.row for r in rows] == [2]
    assert [(e.field, e.message) for e in errors] == [
        ("line 4.charge_code", "line 4: charge_code is required"),
        ("line 4.quantity", "line 4: quantity 'x' is not a number"),
        ("line 4.amount", "line 4: amount 0.601 has more decimal places than USD allows (2)"),
    ]


def test_csv_without_the_required_columns() -> None:
    _, errors = read_csv("id,code,amount\n1,labeling,0.60\n")
    assert [e.message for e in errors] == [
        "line 1: missing column(s) line_id, charge_code, quantity"
    ]


def test_json_rows_name_their_index() -> None:
    rows, errors = parse_rows(
        [(1, {"line_id": "a", "charge_code": "labeling", "quantity": 1.5, "amount": "1"})],
        "USD",
        csv_lines=False,
    )
    assert rows == []
    assert [e.field for e in errors] == ["rows[0].quantity"]
