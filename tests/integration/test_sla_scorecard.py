"""Monthly scorecards and the credit lines handed to billing, with hand-computed money."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from midway.events.service import NewEvent, emit
from midway.sla import scorecard as cards
from midway.sla.service import CreditLine, period_credits, tick

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


@pytest.fixture
def fees(monkeypatch):
    """The period's fees as billing would report them: 1,000.00."""
    monkeypatch.setattr(cards, "fees_of", lambda session, agreement_id, window: Decimal("1000.00"))


def agree_terms(network) -> None:
    r = network.merchant.post(
        f"/v1/agreements/{network.agreement_id}/versions",
        json={"facility_codes": ["KS-CHI"], "sla_terms": TERMS},
    )
    assert r.status_code == 201, r.text
    r = network.provider.post(f"/v1/agreements/{network.agreement_id}/accept")
    assert r.status_code == 200, r.text


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


@pytest.fixture
def agreed(db, network):
    from sqlalchemy import select

    from midway.facilities.models import Facility

    agree_terms(network)
    with db.transaction(write=False) as session:
        network.facility_id = session.scalar(select(Facility.id).where(Facility.code == "KS-CHI"))
    july(db, network)
    return network


def test_scorecard_results_money_and_trend(db, agreed, fees):
    r = agreed.merchant.get(f"/v1/agreements/{agreed.agreement_id}/scorecard?period=2026-07")
    assert r.status_code == 200, r.text
    card = {t["code"]: t for t in r.json()["terms"]}
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


def test_credit_lines_for_billing(db, agreed, fees):
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


def test_without_fees_the_fee_tier_is_reported_unavailable(db, agreed, monkeypatch):
    monkeypatch.setattr(cards, "fees_of", lambda session, agreement_id, window: None)
    with db.transaction(write=False) as session:
        card = {t["code"]: t for t in cards.build(session, agreed.agreement_id, "2026-07")["terms"]}
    assert card["order_accuracy"]["credit"] == "0.00"
    assert card["order_accuracy"]["unavailable"] == [
        "fee tier below 90 %: fees of the period unknown"
    ]


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
