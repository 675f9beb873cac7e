"""SLA money worked by hand end to end: credits as a share of the provider's fees (from the real
billing meter), earn-back over several months, and outbound damage in the perfect order index.

The fee and damage cases reuse the billed month of ``test_billing_month`` (Chicago, October
2026; its invoice is worked line by line there): service lines 59.64, carrier pass-through
27.75 + markup 2.78, minimum shortfall 40.36; the order-driven charges (cost per order) are
47.53. Scorecard months are counted as the invoice counts them, in the facility's local time:
O5's parcel (22:30 CDT on 31 October, 03:30 UTC on 1 November) is an October item, so
October's orders in the scorecard are O4, O1, O2, O3 and O5. (The KPI report, asked for a UTC
date range, counts O4, O1, O2 and O3.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from midway.agreements import service as agreements
from midway.billing import service as billing
from midway.db import Database, clock_at
from midway.events.service import NewEvent, emit
from midway.incidents import service as incidents
from midway.kpis.models import OrderFact
from midway.kpis.service import kpi_report
from midway.principal import Principal
from midway.sla import scorecard as cards
from midway.sla.service import tick
from tests.integration.test_billing_month import RATE_CARD, Month, local, month_with_actors

D = Decimal

ACCURACY_WITH_FEES = {
    "metric": "order_accuracy",
    "code": "acc",
    "target": "99.5",
    "credits": {
        "per_failure": "10.00",
        "fee_tiers": [{"below": "99.5", "percent": "2"}, {"below": "90", "percent": "5"}],
        "cap_percent_of_fees": "20",
    },
}


def agree(month: Month, sla_terms: list[dict[str, Any]]) -> None:
    """Version 2 of the month's agreement: the same rate card, with ``sla_terms``, accepted on
    21 August (so it prices and measures October)."""
    terms = agreements.Terms(
        facility_codes=["KS-CHI"],
        template="classic_semi_managed",
        rate_card=RATE_CARD,
        sla_terms=sla_terms,
    )
    when = datetime(2026, 8, 21, 15, tzinfo=UTC)
    month.at(
        when, lambda s: agreements.propose_version(s, month.merchant, month.agreement_id, terms)
    )
    month.at(when, lambda s: agreements.decide(s, month.provider, month.agreement_id, accept=True))


def confirmed_incident(month: Month, order: str, kind: str, when: datetime) -> Any:
    """The merchant reports ``kind`` on an order; its owner confirms it the next hour."""
    incident = month.at(
        when,
        lambda s: incidents.open_incident(
            s,
            month.merchant,
            kind=kind,
            summary=f"{kind} on {order}",
            fulfillment_order_id=month.orders[order],
        ),
    )
    owner = month.provider if incident.owner == "provider" else month.merchant
    later = when.replace(hour=when.hour + 1)
    month.at(
        later,
        lambda s: incidents.resolve_incident(
            s, owner, incident.id, resolution="confirmed", confirmed=True
        ),
    )
    return incident


def run_engine(db: Database) -> None:
    with db.transaction() as session:
        tick(session, datetime(2026, 11, 10, tzinfo=UTC))


@pytest.fixture
def billed_month(db: Database, make_actor: Any) -> Month:
    month, _, _ = month_with_actors(db, make_actor)
    return month


# --- credits as a share of the fees ----------------------------------------------------------


def test_fee_credits_are_a_share_of_the_providers_fees(db: Database, billed_month: Month) -> None:
    month = billed_month
    agree(month, [ACCURACY_WITH_FEES])
    for order in ("O1", "O2", "O3"):
        confirmed_incident(month, order, "mis_pick", local(10, 25, 10))
    run_engine(db)

    with db.transaction(write=False) as session:
        fees = billing.period_fees(session, month.agreement_id, "2026-10")
        charges = billing.charges_total(
            session, month.agreement_id, local(10, 1, 0), local(11, 1, 0)
        )
        card = {t["code"]: t for t in cards.build(session, month.agreement_id, "2026-10")["terms"]}
    # The base is the provider's fees: the October invoice's service lines, not the
    # order-driven charges that cost per order divides, not the carrier's money.
    assert fees == D("59.64")
    assert charges == D("47.53")
    acc = card["acc"]
    # O4 and O5 accurate; O1, O2, O3 confirmed mis-picks: 2 of 5 = 40 %.
    assert (acc["result"]["numerator"], acc["result"]["denominator"]) == (2, 5)
    assert sorted(acc["failed_refs"]) == sorted(month.orders[o] for o in ("O1", "O2", "O3"))
    # 3 x 10.00 = 30.00; below the 90 % band: 5 % of 59.64 = 2.982 (shown 2.98);
    # 32.982 capped at 20 % of 59.64 = 11.928 -> 11.93, the cap removing 21.054 -> 21.05.
    # (On the order charges 47.53 the cap would be 9.51; on every line before the minimum,
    # 90.17, it would be 18.03.)
    assert [(p["code"], p["amount"]) for p in acc["credit_parts"]] == [
        ("per_failure", "30.00"),
        ("fee_tier", "2.98"),
    ]
    assert (acc["credit"], acc["capped_by"]) == ("11.93", "21.05")

    invoice = month.at(
        local(11, 5, 9),
        lambda s: billing.create_invoice(s, month.merchant, month.agreement_id, "2026-10"),
    )
    with db.transaction(write=False) as session:
        stored, lines = billing.get_invoice(session, month.merchant, month.agreement_id, invoice.id)
        credit = {ln.code: ln for ln in lines}["sla_credit.acc"]
        assert credit.amount == D("-11.93")
        assert sorted(credit.refs["sla"]) == sorted(acc["failed_refs"])
        # 59.64 + 27.75 + 2.78 + 40.36 = 130.53 before credits; 130.53 - 11.93 = 118.60
        assert (stored.subtotal, stored.credits_total, stored.total) == (
            D("130.53"),
            D("-11.93"),
            D("118.60"),
        )


# --- the month boundary in Chicago ----------------------------------------------------------

ACCURACY_WITH_REWARD = {
    "metric": "order_accuracy",
    "code": "acc",
    "target": "99.5",
    "credits": {"per_failure": "10.00"},
    "reward": {"at_or_above": "100", "amount": "7.00"},
}


def test_a_parcel_late_on_31_october_in_chicago_is_an_october_item_on_both(
    db: Database, billed_month: Month
) -> None:
    month = billed_month
    agree(month, [ACCURACY_WITH_REWARD])
    # O5's parcel left at 22:30 CDT on Saturday 31 October = 03:30 UTC on 1 November. The
    # merchant reports a mis-pick on it on 2 November.
    confirmed_incident(month, "O5", "mis_pick", local(11, 2, 10))
    run_engine(db)

    with db.transaction(write=False) as session:
        cards_by_month = {
            period: cards.build(session, month.agreement_id, period)
            for period in ("2026-10", "2026-11")
        }
    october = next(t for t in cards_by_month["2026-10"]["terms"] if t["code"] == "acc")
    november = next(t for t in cards_by_month["2026-11"]["terms"] if t["code"] == "acc")
    # October in Chicago: O4, O1, O2, O3 accurate, O5 mis-picked: 4 of 5 = 80 %, below 99.5 %:
    # 1 failure x 10.00 = 10.00, no reward. (Read in UTC it would be 4 of 4 and a reward.)
    assert (october["result"]["numerator"], october["result"]["denominator"]) == (4, 5)
    assert (october["credit"], october["reward"]) == ("10.00", "0.00")
    assert october["failed_refs"] == [month.orders["O5"]]
    # November in Chicago: only O6 (15:00 CDT on 1 November), accurate: 1 of 1 = 100 %, the
    # reward of 7.00. (Read in UTC it would be O5 and O6, 1 of 2, a credit of 10.00.)
    assert (november["result"]["numerator"], november["result"]["denominator"]) == (1, 1)
    assert (november["credit"], november["reward"]) == ("0.00", "7.00")
    # The scorecard says which month it means: 1 Oct 05:00 UTC to 1 Nov 05:00 UTC in Chicago.
    oct_card = cards_by_month["2026-10"]
    assert (oct_card["from"], oct_card["to"]) == (
        "2026-10-01T05:00:00+00:00",
        "2026-11-01T05:00:00+00:00",
    )
    assert [f["timezone"] for f in oct_card["facilities"]] == ["America/Chicago"]

    # The invoices agree: O5's fee and its credit are both on October's; the reward on
    # November's.
    def invoice_lines(period: str, when: datetime) -> dict[str, Any]:
        invoice = month.at(
            when,
            lambda s: billing.create_invoice(s, month.merchant, month.agreement_id, period),
        )
        with db.transaction(write=False) as session:
            _, lines = billing.get_invoice(session, month.merchant, month.agreement_id, invoice.id)
        return {ln.code: ln for ln in lines}

    oct_lines = invoice_lines("2026-10", local(11, 5, 9))
    assert month.orders["O5"] in oct_lines["fulfillment_order"].refs["fulfillment_orders"]
    assert oct_lines["sla_credit.acc"].amount == D("-10.00")
    assert oct_lines["sla_credit.acc"].refs == {"sla": [month.orders["O5"]]}
    assert "sla_reward.acc" not in oct_lines
    nov_lines = invoice_lines("2026-11", local(12, 5, 9))
    assert month.orders["O5"] not in nov_lines["fulfillment_order"].refs["fulfillment_orders"]
    assert "sla_credit.acc" not in nov_lines
    assert nov_lines["sla_reward.acc"].amount == D("7.00")


# --- outbound damage and the perfect order index ---------------------------------------------


def test_outbound_damage_is_owned_by_packing_and_counts_against_damage_free(
    db: Database, billed_month: Month
) -> None:
    month = billed_month
    incident = confirmed_incident(month, "O1", "damaged_outbound", local(10, 8, 10))
    # classic_semi_managed gives packing to the provider: so is the damage it caused.
    assert (incident.owner, incident.cost_bearer) == ("provider", "provider")
    run_engine(db)

    with db.transaction(write=False) as session:
        damaged = {
            f.fulfillment_order_id: f.damaged
            for f in session.query(OrderFact).filter_by(agreement_id=month.agreement_id)
        }
        report = kpi_report(
            session,
            month.merchant,
            start=date(2026, 10, 1),
            end=date(2026, 10, 31),
            agreement_id=month.agreement_id,
        )
    assert damaged[month.orders["O1"]] is True
    assert [o for o, flag in damaged.items() if flag] == [month.orders["O1"]]
    kpis = report["periods"][0]["kpis"]
    shown = {
        k: (kpis[k]["numerator"], kpis[k]["denominator"])
        for k in ("on_time_ship", "fill_rate", "damage_free", "order_accuracy", "perfect_order")
    }
    # Cut-off 14:00 CDT, ship by the same business day's cut-off when released before it:
    #   O4 released Tue 29 Sep 09:00, handed Fri 2 Oct 15:00: late; split: not complete
    #   O1 released Mon 5 Oct 09:00, handed 16:00: late; complete; damaged
    #   O2 released Sat 10 Oct: due the next business day's cut-off (12 or 13 Oct), handed
    #      Mon 12 Oct 11:00: on time; split: not complete
    #   O3 released Tue 20 Oct 09:00, handed 15:00: late; complete
    assert shown == {
        "on_time_ship": (1, 4),
        "fill_rate": (2, 4),
        "damage_free": (3, 4),
        "order_accuracy": (4, 4),
        "perfect_order": (0, 4),
    }
    # 0.25 x 0.50 x 0.75 x 1 = 0.09375 -> 9.38 %
    assert kpis["perfect_order_index"]["percent"] == "9.38"


def test_a_damage_report_that_is_not_confirmed_does_not_count(
    db: Database, billed_month: Month
) -> None:
    month = billed_month
    incident = month.at(
        local(10, 8, 10),
        lambda s: incidents.open_incident(
            s,
            month.merchant,
            kind="damaged_outbound",
            summary="box crushed",
            fulfillment_order_id=month.orders["O3"],
        ),
    )
    month.at(
        local(10, 8, 11),
        lambda s: incidents.resolve_incident(
            s, month.provider, incident.id, resolution="left the dock intact", confirmed=False
        ),
    )
    run_engine(db)
    with db.transaction(write=False) as session:
        fact = session.query(OrderFact).filter_by(fulfillment_order_id=month.orders["O3"]).one()
    assert fact.damaged is False


# --- earn-back over several months -----------------------------------------------------------

EARN_BACK = [
    {
        "metric": "order_accuracy",
        "code": "acc",
        "target": "99.5",
        "credits": {"per_failure": "5.00", "earn_back_periods": 2},
    }
]
SMALL_CARD = {"currency": "USD", "fulfillment": {"per_order": "2.00"}}


class Months:
    """Orders of an agreement month by month, written as the events the services emit."""

    def __init__(self, db: Database, network: Any) -> None:
        self.db = db
        self.network = network
        self.count = 0

    def push(self, kind: str, subject_id: str, data: dict[str, Any]) -> None:
        net = self.network
        at = datetime.fromisoformat(data.pop("at"))
        with clock_at(at), self.db.transaction() as session:
            emit(
                session,
                [
                    NewEvent(
                        type=kind,
                        merchant_id=net.merchant.id,
                        provider_id=net.provider.id,
                        subject_type=kind.split(".")[0],
                        subject_id=subject_id,
                        data={"agreement_id": net.agreement_id, **data},
                    )
                ],
            )

    def orders(self, month: int, count: int, mis_picked: int = 0) -> None:
        """``count`` orders shipped complete and on time on the 15th of ``month`` (2026); the
        first ``mis_picked`` of them with a confirmed mis-pick."""
        for n in range(count):
            self.count += 1
            fo = f"fo_{self.count}"
            day = f"2026-{month:02d}-15"
            self.push(
                "fulfillment_order.created",
                fo,
                {
                    "fulfillment_order_id": fo,
                    "order_id": f"ord_{self.count}",
                    "facility_id": self.network.facility_id,
                    "agreement_version": 2,
                    "channel": "web",
                    "units": 1,
                    "released_at": f"{day}T09:00:00-05:00",
                    "ship_by": f"{day}T14:00:00-05:00",
                    "at": f"{day}T14:00:00+00:00",
                },
            )
            self.push(
                "fulfillment_order.shipment_created",
                fo,
                {
                    "fulfillment_order_id": fo,
                    "shipment_id": f"shp_{self.count}",
                    "fully_shipped": True,
                    "shipped_at": f"{day}T10:00:00-05:00",
                    "lines": [{"sku": "TEE-BLK-M", "quantity": 1}],
                    "at": f"{day}T15:00:00+00:00",
                },
            )
            if n < mis_picked:
                self.push(
                    "incident.opened",
                    f"inc_{self.count}",
                    {
                        "incident_id": f"inc_{self.count}",
                        "kind": "mis_pick",
                        "owner": "provider",
                        "facility_id": self.network.facility_id,
                        "opened_at": f"2026-{month:02d}-17T10:00:00-05:00",
                        "fulfillment_order_id": fo,
                        "confirmed": True,
                        "at": f"2026-{month:02d}-17T15:00:00+00:00",
                    },
                )

    def settle(self) -> None:
        with self.db.transaction() as session:
            tick(session, datetime(2026, 12, 1, tzinfo=UTC))

    def term(self, period: str) -> dict[str, Any]:
        with self.db.transaction(write=False) as session:
            card = cards.build(session, self.network.agreement_id, period)
        return next(t for t in card["terms"] if t["code"] == "acc")

    def invoice_lines(self, period: str) -> dict[str, Any]:
        net = self.network
        r = net.merchant.post(
            f"/v1/agreements/{net.agreement_id}/invoices", json={"period": period}
        )
        assert r.status_code == 201, r.text
        return {ln["code"]: ln for ln in r.json()["lines"]}


@pytest.fixture
def months(db: Database, network: Any) -> Months:
    from sqlalchemy import select

    from midway.facilities.models import Facility

    # Version 2, accepted on 1 June 2026: it measures and prices July onwards.
    terms = agreements.Terms(facility_codes=["KS-CHI"], sla_terms=EARN_BACK, rate_card=SMALL_CARD)
    merchant = Principal(network.merchant.id, "merchant", "admin")
    provider = Principal(network.provider.id, "provider", "admin")
    with clock_at(datetime(2026, 6, 1, 12, tzinfo=UTC)), db.transaction() as session:
        agreements.propose_version(session, merchant, network.agreement_id, terms)
    with clock_at(datetime(2026, 6, 1, 13, tzinfo=UTC)), db.transaction() as session:
        agreements.decide(session, provider, network.agreement_id, accept=True)
    with db.transaction(write=False) as session:
        network.facility_id = session.scalar(select(Facility.id).where(Facility.code == "KS-CHI"))
    return Months(db, network)


def test_a_credit_is_earned_back_after_two_passing_months(months: Months) -> None:
    months.orders(7, 4, mis_picked=1)  # July: 3 of 4 = 75 %: 1 failure x 5.00
    months.orders(8, 2)  # August: 2 of 2
    months.orders(9, 2)  # September: 2 of 2
    months.settle()

    july = months.term("2026-07")
    assert (july["result"]["percent"], july["credit"], july["earn_back"]) == (
        "75.00",
        "5.00",
        "0.00",
    )
    # August: one month passed since July; June (the month two back) owed nothing.
    august = months.term("2026-08")
    assert (august["passed"], august["credit"], august["earn_back"]) == (True, "0.00", "0.00")
    # September: August and September both passed: July's 5.00 comes back.
    september = months.term("2026-09")
    assert (september["earn_back"], september["earn_back_of"]) == ("5.00", "2026-07")
    assert september["earn_back_refs"] == july["failed_refs"] == ["fo_1"]
    # October counted nothing: it proves nothing and earns nothing back (August owed none).
    assert months.term("2026-10")["earn_back"] == "0.00"

    # On the invoices: the credit in July, paid back in September.
    assert months.invoice_lines("2026-07")["sla_credit.acc"]["amount"] == "-5.00"
    assert "sla_earn_back.acc" not in months.invoice_lines("2026-08")
    back = months.invoice_lines("2026-09")["sla_earn_back.acc"]
    assert back["amount"] == "5.00"
    assert back["refs"] == {"sla": ["fo_1"]}
    assert "2026-07" in back["description"]


def test_a_later_failure_voids_the_earn_back(months: Months) -> None:
    months.orders(7, 4, mis_picked=1)  # July fails: 5.00
    months.orders(8, 2, mis_picked=1)  # August fails too: 1 of 2 = 50 %: 5.00
    months.orders(9, 2)  # September passes
    months.orders(10, 1)  # October passes
    months.settle()

    # September: August failed, so July's credit stays owed.
    september = months.term("2026-09")
    assert (september["earn_back"], september["earn_back_of"]) == ("0.00", None)
    assert "sla_earn_back.acc" not in months.invoice_lines("2026-09")
    # October: September and October passed: August's credit (not July's) comes back.
    october = months.term("2026-10")
    assert (october["earn_back"], october["earn_back_of"]) == ("5.00", "2026-08")
    assert october["earn_back_refs"] == ["fo_5"]  # August: fo_5 (mis-picked) and fo_6


def test_a_month_with_nothing_counted_does_not_earn_back(months: Months) -> None:
    months.orders(7, 4, mis_picked=1)  # July fails: 5.00
    months.orders(9, 2)  # August: nothing shipped; September passes
    months.settle()
    assert months.term("2026-08")["passed"] is None
    assert months.term("2026-09")["earn_back"] == "0.00"


def test_the_cli_writes_the_trend_chart(months: Months, db: Database, tmp_path: Any) -> None:
    import xml.etree.ElementTree as ET

    from typer.testing import CliRunner

    from midway.sla.cli import app

    months.orders(7, 4, mis_picked=1)  # 75 %
    months.orders(8, 2)  # 100 %
    months.orders(9, 2)  # 100 %
    months.settle()
    chart = tmp_path / "scorecard.svg"
    result = CliRunner().invoke(
        app,
        [
            "scorecard",
            "--agreement",
            months.network.agreement_id,
            "--period",
            "2026-09",
            "--chart",
            str(chart),
            "--database-url",
            db.url,
        ],
    )
    assert result.exit_code == 0, result.output
    svg = "{http://www.w3.org/2000/svg}"
    panel = next(
        g for g in ET.parse(chart).getroot().iter(f"{svg}g") if g.attrib["data-code"] == "acc"
    )
    # June counted nothing; July missed the 99.5 % target; August and September met it.
    assert [
        (c.attrib["data-month"], c.attrib["data-percent"], c.attrib["class"])
        for c in panel.iter(f"{svg}circle")
    ] == [
        ("2026-07", "75.00", "missed"),
        ("2026-08", "100.00", "met"),
        ("2026-09", "100.00", "met"),
    ]
    bad = CliRunner().invoke(
        app,
        [
            "scorecard",
            "--agreement",
            months.network.agreement_id,
            "--period",
            "2026-09",
            "--chart",
            str(tmp_path / "missing" / "x.svg"),
            "--database-url",
            db.url,
        ],
    )
    assert bad.exit_code != 0
    assert "field: chart" in bad.output
