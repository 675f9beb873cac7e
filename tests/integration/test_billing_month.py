"""A month of activity through the real services, invoiced, every line worked out by hand.

The facility is in Chicago (CDT, UTC-5, in October 2026), so October runs from
1 Oct 05:00 UTC to 1 Nov 05:00 UTC; a parcel shipped at 22:30 local on 31 October belongs to
October. The scenario is built with the services under ``clock_at``; invoices are drawn
through the API and the CLI.

The agreement carries one SLA term with money, on-time shipping (see ``SLA_TERMS``), and the
SLA worker runs once the month is over, so the invoice's SLA credit comes from the real
scorecard of the orders' ship-by deadlines and hand-over times.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from midway.agreements import service as agreements
from midway.billing import models as billing_models  # noqa: F401  (registers the tables)
from midway.catalog import service as catalog
from midway.core.fulfillment import Action
from midway.db import Database, clock_at
from midway.events.service import NewEvent, emit
from midway.facilities import service as facilities
from midway.fulfillment import intake
from midway.fulfillment import service as fulfillment
from midway.fulfillment.models import FulfillmentOrder
from midway.inventory import service as inventory
from midway.orders.service import LineInput, OrderInput
from midway.principal import Principal
from midway.sla.service import tick
from midway.tasks.models import Task

D = Decimal
CHICAGO = ZoneInfo("America/Chicago")

RATE_CARD: dict[str, Any] = {
    "currency": "USD",
    "receiving": {"per": "unit", "price": "0.25"},
    "storage": {
        "per": "m3_day",
        "price": "0.80",
        "free_days": 5,
        "aged_tiers": [{"from_day": 21, "to_day": None, "price": "0.40"}],
    },
    "fulfillment": {"per_order": "2.50", "included_units": 1, "per_extra_unit": "0.50"},
    "branded_inserts": {"per": "order", "price": "0.35"},
    "kitting": {"per": "unit", "price": "0.90"},
    "labeling": {"per": "order", "price": "0.20"},
    "returns": {"per_return": "3.00", "per_unit": "0.60"},
    "special_handling": {"fragile": {"per": "unit", "price": "0.40"}},
    "carrier_markup_percent": "10",
    "monthly_minimum": "100.00",
}

# On-time shipping: 2.50 for each late order beyond the first of the month. Cut-off 14:00 CDT
# (the facility's default calendar); an order released on a business day before the cut-off
# ships by that day's cut-off, otherwise by the next business day's. October's orders, each
# counted in the month it was handed to the carrier complete:
#   O4 released Tue 29 Sep 09:00, due 29 Sep 14:00, complete Fri 2 Oct 15:00: late
#   O1 released Mon 5 Oct 09:00, due 14:00, handed 16:00: late
#   O2 released Sat 10 Oct 09:00, due the next business day's cut-off, Mon 12 Oct 14:00 (the
#      facility has no holidays), complete Mon 12 Oct 11:00: on time
#   O3 released Tue 20 Oct 09:00, due 14:00, handed 15:00: late
#   O5 released Sat 31 Oct 20:00, due Mon 2 Nov 14:00, handed Sat 31 Oct 22:30: on time
# 2 of 5 on time = 40.00 %, below 95 %; 3 late, 1 allowed: 2 x 2.50 = 5.00 owed to the merchant.
# November: O6 released Sun 1 Nov 09:00, due Mon 2 Nov 14:00, handed Sun 15:00: 1 of 1, nothing
# owed. September: nothing handed complete (O4's first parcel was partial), nothing owed.
SLA_TERMS: list[dict[str, Any]] = [
    {
        "metric": "on_time_ship",
        "target": "95",
        "credits": {"per_failure": "2.50", "allowance": 1},
    }
]
LATE_IN_OCTOBER = ("O4", "O1", "O3")

# sku: (tags, length, width, height in mm)
SKUS = {
    "TEE": (["apparel"], 300, 200, 50),  # 0.003 m3
    "MUG": (["premium", "fragile"], 100, 100, 100),  # 0.001 m3
    "SET": (["kit"], 200, 200, 100),  # 0.004 m3
}


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Chicago wall-clock time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=CHICAGO)


@dataclass
class Month:
    """Who is who in the scenario, and the ids the invoice must point at."""

    db: Database
    merchant: Principal
    provider: Principal
    agreement_id: str
    orders: dict[str, str] = field(default_factory=dict)  # name -> fulfillment order id
    shipments: dict[str, list[str]] = field(default_factory=dict)
    return_event: str = ""

    def at(self, when: datetime, step: Any) -> Any:
        with clock_at(when), self.db.transaction() as session:
            return step(session)

    def receive(self, when: datetime, sku: str, quantity: int) -> None:
        self.at(
            when,
            lambda s: inventory.post(
                s,
                self.provider,
                facility_code="KS-CHI",
                sku=sku,
                quantity=quantity,
                kind="receipt",
                reason="ASN",
                reference=f"ASN-{sku}-{when:%m%d}",
                merchant_id=self.merchant.party_id,
            ),
        )

    def place(self, name: str, when: datetime, lines: list[tuple[str, int]]) -> None:
        data = OrderInput(
            channel="web",
            external_id=name,
            ship_to={
                "name": "Ada",
                "address1": "1 Main",
                "city": "Austin",
                "postal_code": "78701",
                "country": "US",
            },
            lines=[LineInput(sku, qty) for sku, qty in lines],
        )

        def step(session: Any) -> str:
            order_id = intake.place_order(session, self.merchant, data)
            fo_id = session.query(FulfillmentOrder.id).filter_by(order_id=order_id).scalar()
            fulfillment.act(session, self.provider, fo_id, Action.ACCEPT)
            return str(fo_id)

        self.orders[name] = self.at(when, step)

    def ship(
        self,
        name: str,
        when: datetime,
        lines: list[tuple[str, int]],
        charge: str,
        currency: str = "USD",
    ) -> None:
        def step(session: Any) -> str:
            shipment = fulfillment.ship(
                session,
                self.provider,
                self.orders[name],
                carrier="UPS",
                tracking_number=f"1Z{name}{when:%d%H%M}",
                lines=[fulfillment.ShipmentLineInput(s, q) for s, q in lines],
                carrier_charge=D(charge),
                currency=currency,
            )
            return shipment.id

        self.shipments.setdefault(name, []).append(self.at(when, step))


def build_month(db: Database, merchant_id: str, provider_id: str) -> Month:
    """The scenario every billing test starts from (see the module docstring)."""
    merchant = Principal(merchant_id, "merchant", "admin")
    provider = Principal(provider_id, "provider", "admin")
    month = Month(db, merchant, provider, "")
    start = datetime(2026, 8, 20, 15, tzinfo=UTC)
    month.at(
        start,
        lambda s: facilities.create_facility(
            s,
            provider,
            facilities.FacilityInput(
                code="KS-CHI", name="Chicago DC", country="US", timezone="America/Chicago"
            ),
        ),
    )
    terms = agreements.Terms(
        facility_codes=["KS-CHI"],
        template="classic_semi_managed",
        rate_card=RATE_CARD,
        sla_terms=SLA_TERMS,
    )
    agreement, _ = month.at(
        start, lambda s: agreements.propose(s, merchant, provider_id=provider_id, terms=terms)
    )
    month.agreement_id = agreement.id
    month.at(start, lambda s: agreements.decide(s, provider, agreement.id, accept=True))
    month.at(
        start,
        lambda s: catalog.upsert_many(
            s,
            merchant,
            [
                catalog.SkuInput(sku, sku.title(), 300, length, width, height, tags)
                for sku, (tags, length, width, height) in SKUS.items()
            ],
        ),
    )
    month.receive(local(9, 1, 10), "TEE", 100)
    month.receive(local(10, 3, 10), "MUG", 50)
    month.receive(local(10, 3, 10), "SET", 20)
    month.receive(local(10, 28, 9), "TEE", 30)

    month.place("O4", local(9, 29, 9), [("TEE", 2)])
    month.ship("O4", local(9, 30, 15), [("TEE", 1)], "5.00")  # September
    month.ship("O4", local(10, 2, 15), [("TEE", 1)], "5.00")
    month.place("O1", local(10, 5, 9), [("TEE", 1)])
    month.ship("O1", local(10, 5, 16), [("TEE", 1)], "5.00")
    month.place("O2", local(10, 10, 9), [("TEE", 3), ("MUG", 1)])
    month.ship("O2", local(10, 10, 16), [("TEE", 3)], "6.00")
    month.ship("O2", local(10, 12, 11), [("MUG", 1)], "4.50")
    month.place("O3", local(10, 20, 9), [("SET", 2)])
    month.ship("O3", local(10, 20, 15), [("SET", 2)], "7.25")
    month.place("O5", local(10, 31, 20), [("MUG", 2)])
    month.ship("O5", local(10, 31, 22, 30), [("MUG", 2)], "6.00", currency="EUR")
    month.place("O6", local(11, 1, 9), [("TEE", 1)])
    month.ship("O6", local(11, 1, 15), [("TEE", 1)], "5.00")  # November

    def returned(session: Any) -> str:
        # The event the returns feature writes when the facility receives a return.
        received = local(10, 15, 11).astimezone(UTC)
        (event_id,) = emit(
            session,
            [
                NewEvent(
                    type="return.received",
                    merchant_id=merchant_id,
                    provider_id=provider_id,
                    subject_type="return",
                    subject_id="ret_1",
                    data={
                        "return_id": "ret_1",
                        "facility_id": month_facility(session),
                        "agreement_id": agreement.id,
                        "received_at": received.isoformat(),
                        "units": 2,
                    },
                )
            ],
        )
        return event_id

    def month_facility(session: Any) -> str:
        return str(facilities.own_facility(session, provider, "KS-CHI").id)

    month.return_event = month.at(local(10, 15, 11), returned)
    # The SLA worker catches up once the month is over: order facts and clocks from the events.
    with db.transaction() as session:
        tick(session, datetime(2026, 11, 10, tzinfo=UTC))
    return month


# --- what the invoice must say, worked by hand -----------------------------------------------
#
# receiving, per unit: October receipts MUG 50 + SET 20 + TEE 30 = 100 x 0.25 = 25.00
# storage (free 5 days; the day of arrival is day 1), unit-days at the end of each local day:
#   TEE lot of 1 Sep: 99 (1 Oct), 98 (2-4), 97 (5-9), 94 (10-31) = 99+294+485+2068 = 2946
#       (the 30 units of 28 Oct are 1-4 days old: free); 2946 x 0.003 m3 = 8.838
#   MUG lot of 3 Oct, billable from 8 Oct: 50 x 4 + 49 x 19 + 47 (31 Oct) = 1178 -> 1.178
#   SET lot of 3 Oct: 20 x 12 (8-19) + 18 x 12 (20-31) = 456 -> 1.824
#   base 8.838 + 1.178 + 1.824 = 11.840 m3-days x 0.80 = 9.472 -> 9.47
# aged (day 21 on): TEE every day 2946 -> 8.838; MUG 23-31 Oct 49 x 8 + 47 = 439 -> 0.439;
#   SET 23-31 Oct 18 x 9 = 162 -> 0.648; 9.925 m3-days x 0.40 = 3.97
# fulfillment per order, first shipment in October: O1, O2, O3, O5 = 4 x 2.50 = 10.00
# extra units beyond 1: O2 3, O3 1, O5 1, O4 1 (2 units, 1 shipped in September) = 6 x 0.50
# kitting per unit: O3's 2 SET = 1.80; labeling: 5 tasks done in October = 1.00
# branded inserts: MUG is premium, so the merchant owns them: nothing billed
# returns: 1 return x 3.00 + 2 units x 0.60 = 4.20; fragile: MUG 1 + 2 = 3 x 0.40 = 1.20
# services: 25.00 + 9.47 + 3.97 + 10.00 + 3.00 + 1.80 + 1.00 + 3.00 + 1.20 + 1.20 = 59.64
# carrier (USD only; O5's parcel is in EUR): 5.00 + 5.00 + 6.00 + 4.50 + 7.25 = 27.75,
#   markup 10 % = 2.775 -> 2.78; minimum 100.00 - 59.64 = 40.36
# SLA credit (the real scorecard, see SLA_TERMS): on-time shipping -5.00
EXPECTED_LINES = [
    ("receiving", "100", "0.25", "25.00"),
    ("storage", "11.840000", "0.80", "9.47"),
    ("storage_aged_21", "9.925000", "0.40", "3.97"),
    ("fulfillment_order", "4", "2.50", "10.00"),
    ("fulfillment_extra_unit", "6", "0.50", "3.00"),
    ("kitting", "2", "0.90", "1.80"),
    ("labeling", "5", "0.20", "1.00"),
    ("returns_return", "1", "3.00", "3.00"),
    ("returns_unit", "2", "0.60", "1.20"),
    ("special_handling:fragile", "3", "0.40", "1.20"),
    ("carrier_charges", "5", None, "27.75"),
    ("carrier_markup", "27.75", "0.10", "2.78"),
    ("minimum_shortfall", "1", "40.36", "40.36"),
    ("sla_credit.on_time_ship", "1", None, "-5.00"),
]


def month_with_actors(db: Database, make_actor: Any) -> tuple[Month, Any, Any]:
    """The scenario, with API actors for its merchant and provider."""
    merchant = make_actor("merchant", "Northwind Goods")
    provider = make_actor("provider", "Keystone Logistics")
    return build_month(db, merchant.id, provider.id), merchant, provider


@pytest.fixture
def month(db: Database, make_actor: Any) -> tuple[Month, Any, Any]:
    return month_with_actors(db, make_actor)


def _lines(invoice: dict[str, Any]) -> list[tuple[str, Decimal, Decimal | None, str]]:
    """(code, quantity, unit price, amount as printed) of each line; numbers compare by value."""
    return [
        (
            ln["code"],
            D(ln["quantity"]),
            None if ln["unit_price"] is None else D(ln["unit_price"]),
            ln["amount"],
        )
        for ln in invoice["lines"]
    ]


def _expected() -> list[tuple[str, Decimal, Decimal | None, str]]:
    return [(c, D(q), None if p is None else D(p), a) for c, q, p, a in EXPECTED_LINES]


def test_a_month_invoiced_line_by_line(month: tuple[Month, Any, Any]) -> None:
    scenario, merchant, _ = month
    r = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoices", json={"period": "2026-10"}
    )
    assert r.status_code == 201, r.text
    invoice = r.json()
    assert _lines(invoice) == _expected()
    assert (invoice["subtotal"], invoice["credits_total"], invoice["total"]) == (
        "130.53",  # 59.64 + 27.75 + 2.78 + 40.36
        "-5.00",
        "125.53",
    )
    assert invoice["currency"] == "USD" and invoice["sla_credits"] == "applied"
    assert invoice["agreement_version"] == 1
    notes = " | ".join(invoice["notes"])
    assert "KS-CHI America/Chicago" in notes
    assert f"shipment {scenario.shipments['O5'][0]}: carrier charge 6.00 EUR not passed" in notes

    by_code = {ln["code"]: ln for ln in invoice["lines"]}
    fos = scenario.orders
    assert sorted(by_code["fulfillment_order"]["refs"]["fulfillment_orders"]) == sorted(
        [fos["O1"], fos["O2"], fos["O3"], fos["O5"]]
    )
    assert sorted(by_code["carrier_charges"]["refs"]["shipments"]) == sorted(
        scenario.shipments["O4"][1:]
        + scenario.shipments["O1"]
        + scenario.shipments["O2"]
        + scenario.shipments["O3"]
    )
    assert by_code["returns_return"]["refs"] == {
        "events": [scenario.return_event],
        "returns": ["ret_1"],
    }
    assert len(by_code["labeling"]["refs"]["tasks"]) == 5
    assert by_code["storage"]["detail"][0]["sku"] in SKUS
    # The credit names every late order behind it (the allowed one too) and how it was priced.
    credit = by_code["sla_credit.on_time_ship"]
    assert sorted(credit["refs"]["sla"]) == sorted(fos[o] for o in LATE_IN_OCTOBER)
    assert "result 40.00 %" in credit["description"]
    assert "2 failing item(s) beyond an allowance of 1 x 2.50" in credit["description"]


def test_every_line_is_recomputed_from_its_sources(month: tuple[Month, Any, Any]) -> None:
    scenario, merchant, provider = month
    invoice = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoices", json={"period": "2026-10"}
    ).json()
    base = f"/v1/agreements/{scenario.agreement_id}/invoices/{invoice['id']}"
    by_code = {ln["code"]: ln for ln in invoice["lines"]}

    def sources(code: str, kind: str) -> list[dict[str, Any]]:
        line = by_code[code]
        r = provider.get(f"{base}/lines/{line['id']}/sources", params={"kind": kind, "limit": 1000})
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == len(page["items"])
        items: list[dict[str, Any]] = page["items"]
        return items

    # receiving: the ledger receipts behind the line add up to its quantity
    receipts = sources("receiving", "ledger_rows")
    assert {r["kind"] for r in receipts} == {"receipt"}
    assert sum(r["on_hand_delta"] for r in receipts) == 100
    # extra units: the units of the line's shipments, less the included unit per order
    shipped = sources("fulfillment_extra_unit", "shipments")
    assert sum(s["units"] for s in shipped) == 1 + 4 + 2 + 2  # O4's October parcel, O2, O3, O5
    # carrier charges: the sum of the shipments' charges
    parcels = sources("carrier_charges", "shipments")
    assert sum(D(p["carrier_charge"]) for p in parcels) == D("27.75")
    # labeling: provider-owned labeling tasks done in October
    tasks = sources("labeling", "tasks")
    assert {(t["process"], t["owner"], t["status"]) for t in tasks} == {
        ("labeling", "provider", "done")
    }
    # returns: the return.received event with its units
    (event,) = sources("returns_unit", "events")
    assert (event["type"], event["data"]["units"]) == ("return.received", 2)
    # storage: the ledger rows are receipts and removals of the billed SKUs
    rows = sources("storage", "ledger_rows")
    assert {r["kind"] for r in rows} == {"receipt", "shipment"}
    assert {r["sku"] for r in rows} == set(SKUS)


def test_merchant_owned_tasks_are_never_billed(month: tuple[Month, Any, Any], db: Database) -> None:
    scenario, merchant, _ = month
    with db.transaction(write=False) as session:
        owned = session.query(Task).filter_by(process="branded_inserts").all()
    assert {t.owner for t in owned} == {"merchant"} and len(owned) == 2  # O2 and O5
    invoice = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoices", json={"period": "2026-10"}
    ).json()
    assert "branded_inserts" not in {ln["code"] for ln in invoice["lines"]}


def test_without_the_sla_module_the_invoice_says_so(
    month: tuple[Month, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario, merchant, _ = month
    # The agreement's terms owe 5.00 for October, but without the SLA module nothing says so.
    monkeypatch.setitem(__import__("sys").modules, "midway.sla.service", None)
    invoice = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoices", json={"period": "2026-10"}
    ).json()
    assert invoice["sla_credits"] == "not_available"
    assert "SLA credits: not available" in invoice["notes"]
    assert invoice["credits_total"] == "0.00" and invoice["total"] == "130.53"


def test_november_and_september(month: tuple[Month, Any, Any]) -> None:
    scenario, merchant, _ = month
    nov = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoices", json={"period": "2026-11"}
    ).json()
    codes = {ln["code"]: ln for ln in nov["lines"]}
    # O6 is November's only order: one order fee, no extra unit (1 unit, 1 included)
    assert codes["fulfillment_order"]["quantity"] == "1.00"
    assert "fulfillment_extra_unit" not in codes
    assert codes["carrier_charges"]["amount"] == "5.00"
    # O6 left on time: nothing owed in November
    assert (nov["sla_credits"], nov["credits_total"]) == ("none", "0.00")
    assert "SLA credits: none for this period" in nov["notes"]
    sep = merchant.post(
        f"/v1/agreements/{scenario.agreement_id}/invoices", json={"period": "2026-09"}
    ).json()
    codes = {ln["code"]: ln for ln in sep["lines"]}
    # O4's first parcel: the order fee; 1 unit shipped, 1 included: no extra unit yet
    assert codes["fulfillment_order"]["quantity"] == "1.00"
    assert codes["receiving"]["quantity"] == "100.00"
    # nothing was handed to the carrier complete in September: nothing counted, nothing owed
    assert (sep["sla_credits"], sep["credits_total"]) == ("none", "0.00")


def test_charges_total_for_cost_per_order(month: tuple[Month, Any, Any], db: Database) -> None:
    from midway.billing.service import charges_total, fees_total

    scenario, _, _ = month
    start = local(10, 1, 0).astimezone(UTC)
    end = local(11, 1, 0).astimezone(UTC)
    with db.transaction(write=False) as session:
        orders = charges_total(session, scenario.agreement_id, start, end)
        fees = fees_total(session, scenario.agreement_id, start, end)
        nothing = charges_total(session, "agr_missing", start, end)
    # orders 10.00 + extra 3.00 + kitting 1.80 + labeling 1.00 + fragile 1.20 + carrier 27.75
    # + markup 2.78 = 47.53
    assert orders == D("47.53")
    # the provider's fees: the service charges only (59.64), not the carrier pass-through
    # (27.75 + 2.78) nor the minimum's shortfall (40.36), nor the -5.00 credit
    assert fees == D("59.64")
    assert nothing is None


def test_the_cli_prints_the_same_invoice(month: tuple[Month, Any, Any], db: Database) -> None:
    from midway.billing.cli import app

    scenario, _, _ = month
    result = CliRunner().invoke(
        app,
        [
            "invoice",
            "--agreement",
            scenario.agreement_id,
            "--period",
            "2026-10",
            "--json",
            "--database-url",
            db.url,
        ],
    )
    assert result.exit_code == 0, result.output
    invoice = json.loads(result.output)
    assert _lines(invoice) == _expected()
    assert invoice["total"] == "125.53"
    labels = next(ln for ln in invoice["lines"] if ln["code"] == "labeling")
    assert labels["refs_complete"] and len(labels["refs"]["tasks"]) == 5

    table = CliRunner().invoke(
        app,
        [
            "invoice",
            "--agreement",
            scenario.agreement_id,
            "--period",
            "2026-10",
            "--database-url",
            db.url,
        ],
    )
    assert table.exit_code == 0, table.output
    assert "total 125.53 USD" in table.output

    bad = CliRunner().invoke(
        app,
        [
            "invoice",
            "--agreement",
            scenario.agreement_id,
            "--period",
            "October",
            "--database-url",
            db.url,
        ],
    )
    assert bad.exit_code == 2
    assert "period must be a month written YYYY-MM" in bad.output
