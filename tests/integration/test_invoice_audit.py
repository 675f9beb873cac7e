"""Invoice audit: the provider's CSV for October against the month of ``test_billing_month``,
with one row for each kind of discrepancy; totals reconcile to the cent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from midway.billing.models import Invoice, InvoiceAudit
from midway.db import Database
from tests.integration.test_billing_month import LATE_IN_OCTOBER, month_with_actors


@pytest.fixture
def month(db: Database, make_actor: Any) -> Any:
    return month_with_actors(db, make_actor)


D = Decimal
HEADER = "line_id,charge_code,description,quantity,unit_price,amount,reference"


def provider_csv(orders: dict[str, str]) -> str:
    """The provider's invoice: what Midway expects, plus one row per kind of discrepancy."""
    rows = [
        "L1,receiving,Receiving per unit,100,0.25,25.00,",
        "L2,storage,Storage m3-days,11.84,0.80,9.47,",
        "L3,storage_aged_21,Aged stock,9.925,0.40,3.97,",
        "L4,fulfillment_order,Orders,5,2.50,12.50,",  # the events show 4 orders
        "L5,fulfillment_extra_unit,Extra units,6,0.55,3.30,",  # the card says 0.50
        "L6,kitting,Kitting,2,0.90,1.90,",  # 2 x 0.90 is 1.80
        "L7,labeling,Labels,5,0.20,1.00,",
        "L7,labeling,Labels,5,0.20,1.00,",  # the same line twice
        f"L8,branded_inserts,Inserts,1,0.35,0.35,{orders['O2']}",  # the merchant's work
        "L9,returns_return,Returns,1,3.00,3.00,",
        "L10,returns_unit,Returned units,2,0.60,1.20,",
        "L11,special_handling:fragile,Fragile,3,0.40,1.20,",
        "L12,carrier_charges,Carrier,5,,27.75,",
        "L13,carrier_markup,Markup,27.75,0.10,2.78,",
        "L14,minimum_shortfall,Minimum,1,40.36,40.36,",
        "L15,labeling,Label,1,0.20,0.20,shp_unknown",  # nothing of the kind happened
        "L16,pallet_storage,Pallets,2,5.00,10.00,",  # not on the rate card
        # and no row for the SLA credit of -5.00 the scorecard owes (3 late, 1 allowed: 2 x 2.50)
    ]
    return "\n".join([HEADER, *rows]) + "\n"


EXPECTED_FINDINGS = [
    # (kind, charge code, CSV lines, difference)
    ("duplicate", "labeling", [9], "1.00"),
    ("merchant_process", "branded_inserts", [10], "0.35"),
    ("no_matching_event", "labeling", [17], "0.20"),
    ("not_on_rate_card", "pallet_storage", [18], "10.00"),
    ("quantity_difference", "fulfillment_order", [5], "2.50"),
    ("rate_difference", "fulfillment_extra_unit", [6], "0.30"),
    ("arithmetic", "kitting", [7], "0.10"),
    ("credit_not_applied", "sla_credit.on_time_ship", [], "5.00"),
]


def _findings(audit: dict[str, Any]) -> list[tuple[str, str, list[int], str]]:
    found = [(f["kind"], f["charge_code"], f["rows"], f["difference"]) for f in audit["findings"]]
    return sorted(found, key=lambda f: [k for k, *_ in EXPECTED_FINDINGS].index(f[0]))


def test_a_provider_invoice_with_every_kind_of_discrepancy(month: Any) -> None:
    scenario, merchant, _ = month
    r = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoice-audits/csv",
        data={"period": "2026-10"},
        files={"file": ("keystone-2026-10.csv", provider_csv(scenario.orders), "text/csv")},
    )
    assert r.status_code == 201, r.text
    audit = r.json()
    # billed: 144.98 (the rows); expected: 125.53 (the invoice of test_billing_month)
    assert (audit["billed_total"], audit["expected_total"]) == ("144.98", "125.53")
    assert audit["difference"] == audit["explained_total"] == "19.45"
    assert _findings(audit) == EXPECTED_FINDINGS
    assert audit["row_count"] == 17 and audit["source_name"] == "keystone-2026-10.csv"
    inserts = next(f for f in audit["findings"] if f["kind"] == "merchant_process")
    assert "premium-inserts" in inserts["explanation"]
    assert inserts["refs"] == {"reference": [scenario.orders["O2"]]}
    orders = next(f for f in audit["findings"] if f["kind"] == "quantity_difference")
    assert "5 order billed, the events show 4" in orders["explanation"]
    assert len(orders["refs"]["fulfillment_orders"]) == 4
    # the credit the provider left out points at the late orders behind it (test_billing_month)
    owed = next(f for f in audit["findings"] if f["kind"] == "credit_not_applied")
    assert sorted(owed["refs"]["sla"]) == sorted(scenario.orders[o] for o in LATE_IN_OCTOBER)
    # the expected invoice is kept with the audit, and the audit can be read back
    again = merchant.get(f"/v1/agreements/{scenario.agreement_id}/invoice-audits/{audit['id']}")
    assert again.status_code == 200 and again.json()["findings"] == audit["findings"]
    expected = merchant.get(
        f"/v1/agreements/{scenario.agreement_id}/invoices/{audit['expected_invoice_id']}"
    ).json()
    assert (expected["status"], expected["total"]) == ("expected", "125.53")


def test_a_matching_invoice_has_nothing_to_explain(month: Any) -> None:
    scenario, merchant, _ = month
    invoice = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoices", json={"period": "2026-10"}
    ).json()
    rows = [
        {
            "line_id": f"R{ln['position']}",
            "charge_code": ln["code"],
            "quantity": ln["quantity"],
            "unit_price": ln["unit_price"],
            "amount": ln["amount"],
        }
        for ln in invoice["lines"]
    ]
    r = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoice-audits",
        json={"period": "2026-10", "rows": rows},
    )
    assert r.status_code == 201, r.text
    audit = r.json()
    assert audit["findings"] == [] and audit["difference"] == "0.00"


def test_the_cli_audits_a_csv_file(month: Any, db: Database, tmp_path: Path) -> None:
    from midway.billing.cli import app

    scenario, _, _ = month
    file = tmp_path / "invoice.csv"
    file.write_text(provider_csv(scenario.orders), encoding="utf-8")
    args = ["audit", str(file), "--agreement", scenario.agreement_id, "--period", "2026-10"]
    result = CliRunner().invoke(app, [*args, "--json", "--database-url", db.url])
    assert result.exit_code == 1, result.output  # findings: exit 1
    audit = json.loads(result.output)
    assert _findings(audit) == EXPECTED_FINDINGS
    table = CliRunner().invoke(app, [*args, "--database-url", db.url])
    assert "difference 19.45 USD (explained 19.45)" in table.output


def _audits(db: Database) -> tuple[int, int]:
    with db.transaction(write=False) as session:
        return (
            session.scalar(select(func.count()).select_from(InvoiceAudit)) or 0,
            session.scalar(select(func.count()).select_from(Invoice)) or 0,
        )


def test_malformed_csv_rows_import_nothing(month: Any, db: Database) -> None:
    scenario, merchant, _ = month
    text = "\n".join(
        [
            HEADER,
            "L1,receiving,Receiving,100,0.25,25.00,",
            'L2,storage,Storage,11.84,0.80,"9,47",',
            "L3,,Orders,-4,2.50,10.00,",
        ]
    )
    r = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoice-audits/csv",
        data={"period": "2026-10"},
        files={"file": ("bad.csv", text, "text/csv")},
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "invalid_invoice_row"
    assert problem["field"] == "line 3.amount"
    assert problem["detail"].startswith("line 3: amount '9,47' is not a number")
    assert [e["field"] for e in problem["errors"]] == [
        "line 3.amount",
        "line 4.charge_code",
        "line 4.quantity",
    ]
    assert _audits(db) == (0, 0)


def test_malformed_json_rows_and_missing_columns(month: Any, db: Database) -> None:
    scenario, merchant, _ = month
    url = f"/v1/agreements/{scenario.agreement_id}/invoice-audits"
    r = merchant.post(
        url,
        json={
            "period": "2026-10",
            "rows": [
                {"line_id": "a", "charge_code": "receiving", "quantity": "1", "amount": "0.25"},
                {"line_id": "b", "charge_code": "storage", "quantity": "1", "amount": "0.125"},
            ],
        },
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "rows[1].amount"
    assert "more decimal places than USD allows" in r.json()["detail"]
    r = merchant.post(
        f"{url}/csv",
        data={"period": "2026-10"},
        files={"file": ("x.csv", "id,code,amount\n1,receiving,1.00\n", "text/csv")},
    )
    assert r.status_code == 422
    assert r.json()["detail"].startswith("line 1: missing column(s) line_id, charge_code, quantity")
    r = merchant.post(
        f"{url}/csv",
        data={"period": "2026-10"},
        files={"file": ("x.csv", b"\xff\xfe\x00bad", "text/csv")},
    )
    assert (r.status_code, r.json()["field"]) == (422, "file")
    assert _audits(db) == (0, 0)


def test_only_the_merchant_audits(month: Any, make_actor: Any) -> None:
    scenario, _, provider = month
    r = provider.post(
        f"/v1/agreements/{scenario.agreement_id}/invoice-audits/csv",
        data={"period": "2026-10"},
        files={"file": ("x.csv", provider_csv(scenario.orders), "text/csv")},
    )
    assert (r.status_code, r.json()["code"]) == (403, "wrong_party_kind")
    stranger = make_actor("merchant", "Someone Else")
    r = stranger.post(
        f"/v1/agreements/{scenario.agreement_id}/invoice-audits",
        json={
            "period": "2026-10",
            "rows": [{"line_id": "a", "charge_code": "x", "quantity": "1", "amount": "1"}],
        },
    )
    assert r.status_code == 404


def test_a_task_reference_decides_who_owned_the_work(month: Any, db: Database) -> None:
    from midway.tasks.models import Task

    scenario, merchant, _ = month
    with db.transaction(write=False) as session:
        inserts = session.query(Task).filter_by(process="branded_inserts").first()
        label = session.query(Task).filter_by(process="labeling", owner="provider").first()
        assert inserts is not None and label is not None
        inserts_id, label_id = inserts.id, label.id
    rows = [
        {"line_id": "1", "charge_code": "labeling", "quantity": "1", "unit_price": "0.20",
         "amount": "0.20", "reference": label_id},
        {"line_id": "2", "charge_code": "branded_inserts", "quantity": "1",
         "unit_price": "0.35", "amount": "0.35", "reference": inserts_id},
    ]  # fmt: skip
    r = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoice-audits",
        json={"period": "2026-10", "rows": rows},
    )
    assert r.status_code == 201, r.text
    audit = r.json()
    by_kind = {f["kind"]: f for f in audit["findings"]}
    assert by_kind["merchant_process"]["rows"] == [2]
    assert (
        f"task {inserts_id} (branded_inserts) is owned by the merchant"
        in (by_kind["merchant_process"]["explanation"])
    )
    # the labeling row matched a real task: only its quantity differs (1 billed, 5 done)
    labeling = [f for f in audit["findings"] if f["charge_code"] == "labeling"]
    assert [(f["kind"], f["difference"]) for f in labeling] == [("quantity_difference", "-0.80")]
    assert audit["difference"] == audit["explained_total"]


def test_a_parcel_reference_stands_for_its_order(month: Any) -> None:
    scenario, merchant, _ = month
    parcel = scenario.shipments["O1"][0]
    rows = [
        {"line_id": "1", "charge_code": "fulfillment_order", "quantity": "1",
         "unit_price": "2.50", "amount": "2.50", "reference": parcel},
        {"line_id": "2", "charge_code": "fulfillment_order", "quantity": "1",
         "unit_price": "2.50", "amount": "2.50", "reference": scenario.shipments["O6"][0]},
    ]  # fmt: skip
    r = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoice-audits",
        json={"period": "2026-10", "rows": rows},
    )
    assert r.status_code == 201, r.text
    findings = [
        (f["kind"], f["rows"])
        for f in r.json()["findings"]
        if f["charge_code"] == "fulfillment_order"
    ]
    # O1's parcel names O1, billed in October; O6 shipped in November: no such event here
    assert findings == [("no_matching_event", [2]), ("quantity_difference", [1])]
