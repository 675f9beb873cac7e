"""Monthly scorecards and the credit lines handed to billing, with hand-computed money.

The fees behind the fee-tier credit are real: the agreement's rate card prices receiving at
0.50 a unit, and the provider receives stock through the inventory service in July (Chicago,
CDT = UTC-5). The July invoice counts 1,500 units received on 6 July and 500 received at
23:30 on 31 July (04:30 UTC on 1 August, still July in Chicago), not the 400 received at
00:30 on 1 August nor the 100 of 2 August: 2,000 x 0.50 = 1,000.00 of fees.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from midway.agreements import service as agreements
from midway.billing import service as billing
from midway.db import clock_at
from midway.events.service import NewEvent, emit
from midway.inventory import service as inventory
from midway.principal import Principal
from midway.sla import scorecard as cards
from midway.sla.service import CreditLine, period_credits, tick

CHICAGO = ZoneInfo("America/Chicago")
RECEIVING_CARD = {"currency": "USD", "receiving": {"per": "unit", "price": "0.50"}}
# (Chicago wall-clock time, units) of the receipts; the first two are July's.
RECEIPTS = [
    (datetime(2026, 7, 6, 10, tzinfo=CHICAGO), 1500),
    (datetime(2026, 7, 31, 23, 30, tzinfo=CHICAGO), 500),
    (datetime(2026, 8, 1, 0, 30, tzinfo=CHICAGO), 400),
    (datetime(2026, 8, 2, 20, tzinfo=CHICAGO), 100),  # Sunday; 01:00 UTC on Monday 3 August
]

TERMS = [
    {
        "metric": "on_time_ship",
        "code": "ots",
        "target": "99.0",
        "credits": {"per_failure": "5.00", "allowance": 1, "cap": "12.00"},
        "reward": {"at_or_above": "99.9", "amount": "50.00"},
    },
    {
        "metric": "order_accuracy",
        "target": "99.5",
        "credits": {
            "fee_tiers": [{"below": "99.5", "percent": "2"}, {"below": "90", "percent": "5"}]
        },
    },
    {"metric": "dock_to_stock", "clock": {"business_days": 2}, "credits": {"per_failure": "50"}},
    {"metric": "inventory_accuracy", "enabled": False},
]


@pytest.fixture(autouse=True)
def sla_routes(client):
    """Mount the SLA and KPI routes when the app does not have them yet."""
    from midway.kpis.api import router as kpis
    from midway.sla.api import router as sla

    paths = {getattr(route, "path", None) for route in client.app.routes}
    for router, probe in ((sla, "/v1/sla/clocks"), (kpis, "/v1/kpis")):
        if probe not in paths:
            client.app.include_router(router)


def agree_terms(
    db, network, rate_card: dict[str, Any] | None, sla_terms: list[dict[str, Any]] | None = None
) -> None:
    """Version 2 with ``sla_terms`` (TERMS unless given) and ``rate_card``, accepted on 1 June
    2026: it measures and prices July. Without a rate card there are no fees to share."""
    terms = agreements.Terms(
        facility_codes=["KS-CHI"],
        template="classic_semi_managed",
        sla_terms=TERMS if sla_terms is None else sla_terms,
        rate_card=rate_card,
    )
    merchant = Principal(network.merchant.id, "merchant", "admin")
    provider = Principal(network.provider.id, "provider", "admin")
    with clock_at(datetime(2026, 6, 1, 12, tzinfo=UTC)), db.transaction() as session:
        agreements.propose_version(session, merchant, network.agreement_id, terms)
    with clock_at(datetime(2026, 6, 1, 13, tzinfo=UTC)), db.transaction() as session:
        agreements.decide(session, provider, network.agreement_id, accept=True)


def receive(db, network) -> None:
    """The provider receives the RECEIPTS through the inventory service, each at its time."""
    provider = Principal(network.provider.id, "provider", "admin")
    for when, units in RECEIPTS:
        with clock_at(when), db.transaction() as session:
            inventory.post(
                session,
                provider,
                facility_code="KS-CHI",
                sku="TEE-BLK-M",
                quantity=units,
                kind="receipt",
                reason="ASN",
                reference=f"ASN-{when:%m%d%H%M}",
                merchant_id=network.merchant.id,
            )


def push(db, network, kind, subject_id, data):
    with db.transaction() as session:
        emit(
            session,
            [
                NewEvent(
                    type=kind,
                    merchant_id=network.merchant.id,
                    provider_id=network.provider.id,
                    subject_type=kind.split(".")[0],
                    subject_id=subject_id,
                    data={"agreement_id": network.agreement_id, **data},
                )
            ],
        )


def july(db, network) -> None:
    """Five orders released Tuesday 7 July 2026 at 09:00 CDT (due 14:00 CDT): one shipped at
    10:00, four at 15:00. A confirmed mis-pick on the first. One inbound arrived Monday the
    13th and received a week later (due Wednesday the 15th)."""
    for n in range(1, 6):
        fo = f"fo_{n}"
        push(
            db,
            network,
            "fulfillment_order.created",
            fo,
            {
                "fulfillment_order_id": fo,
                "order_id": f"ord_{n}",
                "facility_id": network.facility_id,
                "agreement_version": 2,
                "channel": "web",
                "units": 1,
                "released_at": "2026-07-07T09:00:00-05:00",
                "ship_by": "2026-07-07T14:00:00-05:00",
            },
        )
        push(
            db,
            network,
            "fulfillment_order.shipment_created",
            fo,
            {
                "fulfillment_order_id": fo,
                "shipment_id": f"shp_{n}",
                "fully_shipped": True,
                "shipped_at": "2026-07-07T10:00:00-05:00"
                if n == 1
                else "2026-07-07T15:00:00-05:00",
                "lines": [{"sku": "TEE-BLK-M", "quantity": 1}],
            },
        )
    push(
        db,
        network,
        "incident.opened",
        "inc_1",
        {
            "incident_id": "inc_1",
            "kind": "mis_pick",
            "owner": "provider",
            "facility_id": network.facility_id,
            "opened_at": "2026-07-09T10:00:00-05:00",
            "fulfillment_order_id": "fo_1",
            "confirmed": True,
        },
    )
    push(
        db,
        network,
        "inbound.arrived",
        "asn_1",
        {
            "inbound_id": "asn_1",
            "facility_id": network.facility_id,
            "arrived_at": "2026-07-13T09:00:00-05:00",
        },
    )
    push(
        db,
        network,
        "inbound.received",
        "asn_1",
        {
            "inbound_id": "asn_1",
            "facility_id": network.facility_id,
            "received_at": "2026-07-20T09:00:00-05:00",
            "lines": [],
        },
    )
    with db.transaction() as session:
        tick(session, datetime(2026, 8, 1, tzinfo=UTC))


def facility_of(db, network) -> str:
    from sqlalchemy import select

    from midway.facilities.models import Facility

    with db.transaction(write=False) as session:
        return str(session.scalar(select(Facility.id).where(Facility.code == "KS-CHI")))


def agreement(
    db,
    network,
    rate_card: dict[str, Any] | None,
    *,
    billed: bool,
    sla_terms: list[dict[str, Any]] | None = None,
) -> Any:
    agree_terms(db, network, rate_card, sla_terms)
    network.facility_id = facility_of(db, network)
    if billed:
        receive(db, network)
    july(db, network)
    return network


@pytest.fixture
def agreed(db, network):
    """TERMS with the receiving rate card, and July's receipts billed on it."""
    return agreement(db, network, RECEIVING_CARD, billed=True)


def test_scorecard_results_money_and_trend(db, agreed):
    r = agreed.merchant.get(f"/v1/agreements/{agreed.agreement_id}/scorecard?period=2026-07")
    assert r.status_code == 200, r.text
    card = {t["code"]: t for t in r.json()["terms"]}
    with db.transaction(write=False) as session:
        # The base of the fee tier: July's invoice fees (see the module docstring).
        assert billing.period_fees(session, agreed.agreement_id, "2026-07") == Decimal("1000.00")
    assert "inventory_accuracy" not in card  # switched off by the agreement
    ots = card["ots"]
    assert (ots["result"]["numerator"], ots["result"]["denominator"]) == (1, 5)
    assert ots["passed"] is False and ots["accountable"] == "provider"
    # 4 late, 1 allowed: 3 x 5.00 = 15.00, capped at 12.00.
    assert (ots["credit"], ots["capped_by"], ots["reward"]) == ("12.00", "3.00", "0.00")
    assert sorted(ots["failed_refs"]) == ["fo_2", "fo_3", "fo_4", "fo_5"]
    assert [t["period"] for t in ots["trend"]] == ["2026-06", "2026-05", "2026-04"]
    assert ots["trend"][0]["percent"] is None
    accuracy = card["order_accuracy"]
    # 4 of 5 accurate = 80 %: below the 90 % band, so 5 % of the fees of 1,000.00.
    assert (accuracy["result"]["percent"], accuracy["credit"]) == ("80.00", "50.00")
    assert [(p["code"], p["amount"]) for p in accuracy["credit_parts"]] == [("fee_tier", "50.00")]
    assert accuracy["unavailable"] == []
    assert accuracy["failed_refs"] == ["fo_1"]
    dock = card["dock_to_stock"]
    assert (dock["result"]["numerator"], dock["result"]["denominator"], dock["credit"]) == (
        0,
        1,
        "50.00",
    )
    assert card["return_processing"]["passed"] is None  # nothing counted: neither pass nor fail
    assert card["return_processing"]["target_source"] == "default"
    # The provider sees the same scorecard; a stranger does not see it at all.
    theirs = agreed.provider.get(f"/v1/agreements/{agreed.agreement_id}/scorecard?period=2026-07")
    assert theirs.json()["terms"] == r.json()["terms"]


def test_credit_lines_for_billing(db, agreed):
    with db.transaction(write=False) as session:
        lines = period_credits(session, agreed.agreement_id, "2026-07")
    assert all(isinstance(line, CreditLine) for line in lines)
    shown = [(line.code, line.amount, line.currency) for line in lines]
    assert shown == [
        ("sla_credit.ots", Decimal("-12.00"), "USD"),
        ("sla_credit.order_accuracy", Decimal("-50.00"), "USD"),
        ("sla_credit.dock_to_stock", Decimal("-50.00"), "USD"),
    ]
    assert sorted(lines[0].refs) == ["fo_2", "fo_3", "fo_4", "fo_5"]
    with db.transaction(write=False) as session:
        assert period_credits(session, agreed.agreement_id, "2026-06") == []


def test_without_a_rate_card_the_fee_tier_is_reported_unavailable(db, network):
    # No version of the agreement has a rate card: no invoice, so no fees to take 5 % of.
    bare = agreement(db, network, None, billed=True)
    with db.transaction(write=False) as session:
        assert billing.period_fees(session, bare.agreement_id, "2026-07") is None
        card = {t["code"]: t for t in cards.build(session, bare.agreement_id, "2026-07")["terms"]}
    accuracy = card["order_accuracy"]
    assert accuracy["result"]["percent"] == "80.00"
    assert (accuracy["credit"], accuracy["credit_parts"]) == ("0.00", [])
    assert accuracy["unavailable"] == ["fee tier below 90 %: fees of the period unknown"]
    # Terms that need no fees are priced as before.
    assert (card["ots"]["credit"], card["dock_to_stock"]["credit"]) == ("12.00", "50.00")
    assert card["ots"]["unavailable"] == []
    with db.transaction(write=False) as session:
        codes = [line.code for line in period_credits(session, bare.agreement_id, "2026-07")]
    assert codes == ["sla_credit.ots", "sla_credit.dock_to_stock"]


def test_a_month_with_nothing_billed_has_fees_of_zero_not_unknown(db, network):
    # A rate card but no receipts: the fees are known, and they are 0.00.
    idle = agreement(db, network, RECEIVING_CARD, billed=False)
    with db.transaction(write=False) as session:
        assert billing.period_fees(session, idle.agreement_id, "2026-07") == Decimal("0.00")
        card = {t["code"]: t for t in cards.build(session, idle.agreement_id, "2026-07")["terms"]}
    accuracy = card["order_accuracy"]
    assert accuracy["unavailable"] == []
    assert [(p["code"], p["amount"]) for p in accuracy["credit_parts"]] == [("fee_tier", "0.00")]
    assert accuracy["credit"] == "0.00"


def test_weekly_fee_tiers_take_a_share_of_the_weeks_local_fees(db, network):
    weekly = [
        {
            "metric": "order_accuracy",
            "code": "acc_week",
            "target": "99.5",
            "window": "week",
            "credits": {"fee_tiers": [{"below": "90", "percent": "5"}]},
        }
    ]
    agreed = agreement(db, network, RECEIVING_CARD, billed=True, sla_terms=weekly)
    with db.transaction(write=False) as session:
        # A week's fees are its local days at the facility, as an invoice counts a month:
        # 6-12 July: the 1,500 units of 6 July, 750.00; 27 July - 2 August: the 500 units of
        # 31 July 23:30, the 400 of 1 August 00:30 and the 100 of Sunday 2 August 20:00 CDT
        # (Monday 01:00 UTC, outside the UTC week), 1,000 x 0.50 = 500.00.
        week_fees = [
            billing.local_days_fees(session, agreed.agreement_id, date(2026, 7, d), date(*end))
            for d, end in ((6, (2026, 7, 13)), (27, (2026, 8, 3)), (13, (2026, 7, 20)))
        ]
        card = cards.build(session, agreed.agreement_id, "2026-07")
    assert week_fees == [Decimal("750.00"), Decimal("500.00"), Decimal("0.00")]
    acc = next(t for t in card["terms"] if t["code"] == "acc_week")
    # The weeks whose Monday is in July: 6, 13, 20 and 27 July. The five orders of 7 July
    # are the week of the 6th: 4 of 5 = 80 %, below 90 %: 5 % of 750.00 = 37.50. The other
    # weeks counted nothing: no verdict and nothing owed.
    assert [(w["window"], w["denominator"], w["passed"]) for w in acc["windows"]] == [
        ("2026-07-06..2026-07-12", 5, False),
        ("2026-07-13..2026-07-19", 0, None),
        ("2026-07-20..2026-07-26", 0, None),
        ("2026-07-27..2026-08-02", 0, None),
    ]
    assert [(p["code"], p["amount"]) for p in acc["credit_parts"]] == [("fee_tier", "37.50")]
    assert acc["credit"] == "37.50"


def test_terms_read_back_with_defaults(agreed, make_actor):
    r = agreed.provider.get(f"/v1/agreements/{agreed.agreement_id}/sla-terms")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 2
    by_code = {t["code"]: t for t in body["terms"]}
    assert set(by_code) == {
        "ots",
        "order_accuracy",
        "dock_to_stock",
        "return_processing",
        "incident_response",
    }
    assert by_code["ots"]["source"] == "agreement"
    assert by_code["return_processing"]["source"] == "default"
    assert by_code["return_processing"]["clock"] == {"business_days": 3}
    assert by_code["incident_response"]["accountable"] == "incident owner"
    assert by_code["dock_to_stock"]["accountable"] == "provider"
    stranger = make_actor("provider", "Other 3PL")
    assert stranger.get(f"/v1/agreements/{agreed.agreement_id}/sla-terms").status_code == 404
    assert (
        stranger.get(f"/v1/agreements/{agreed.agreement_id}/scorecard?period=2026-07").status_code
        == 404
    )
