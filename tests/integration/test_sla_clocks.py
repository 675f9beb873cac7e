"""The clock engine on hand-worked cases: events in, clocks and alerts out.

Events are written with explicit timestamps (as the lead's inbound, returns and incidents
features will write them), then the worker's tick runs at chosen instants.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from midway.db import Database
from midway.events.models import Event
from midway.events.service import NewEvent, emit
from midway.sla.models import SlaClock
from midway.sla.service import tick


@pytest.fixture(autouse=True)
def sla_routes(client):
    """Mount the SLA and KPI routes when the app does not have them yet."""
    from midway.kpis.api import router as kpis
    from midway.sla.api import router as sla

    paths = {getattr(route, "path", None) for route in client.app.routes}
    for router, probe in ((sla, "/v1/sla/clocks"), (kpis, "/v1/kpis")):
        if probe not in paths:
            client.app.include_router(router)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def push(db, network, kind, subject_type, subject_id, data):
    with db.transaction() as session:
        emit(
            session,
            [
                NewEvent(
                    type=kind,
                    merchant_id=network.merchant.id,
                    provider_id=network.provider.id,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    data=data,
                )
            ],
        )


def run(db, now: str) -> int:
    with db.transaction() as session:
        return tick(session, utc(now))


def clock(db: Database, kind, subject_id) -> SlaClock:
    with db.transaction(write=False) as session:
        found = session.scalar(
            select(SlaClock).where(SlaClock.kind == kind, SlaClock.subject_id == subject_id)
        )
        assert found is not None
        session.expunge(found)
        return found


def alerts(db) -> list[tuple[str, str]]:
    with db.transaction(write=False) as session:
        rows = session.scalars(
            select(Event).where(Event.type.like("sla.%")).order_by(Event.seq)
        ).all()
        return [(e.type, e.data["subject_id"]) for e in rows]


def facility_id(db: Database, code: str) -> str:
    from midway.facilities.models import Facility

    with db.transaction(write=False) as session:
        return session.scalars(select(Facility.id).where(Facility.code == code)).one()


def fo_created(db, network, fo_id, released_at, ship_by=None):
    fac = facility_id(db, "KS-CHI")
    push(
        db,
        network,
        "fulfillment_order.created",
        "fulfillment_order",
        fo_id,
        {
            "fulfillment_order_id": fo_id,
            "order_id": "ord_unknown_" + fo_id,
            "facility_id": fac,
            "facility_code": "KS-CHI",
            "agreement_id": network.agreement_id,
            "agreement_version": 1,
            "channel": "web",
            "released_at": released_at,
            "ship_by": ship_by or released_at,
            "units": 2,
        },
    )


def shipped(db, network, fo_id, shipped_at, fully=True, shipment_id=None):
    push(
        db,
        network,
        "fulfillment_order.shipment_created",
        "fulfillment_order",
        fo_id,
        {
            "fulfillment_order_id": fo_id,
            "order_id": "ord_unknown_" + fo_id,
            "facility_id": facility_id(db, "KS-CHI"),
            "agreement_id": network.agreement_id,
            "shipment_id": shipment_id or "shp_" + fo_id,
            "shipped_at": shipped_at,
            "lines": [{"sku": "TEE-BLK-M", "quantity": 2 if fully else 1}],
            "fully_shipped": fully,
            "carrier_charge": None,
            "currency": None,
        },
    )


def test_released_after_cutoff_before_a_us_holiday_is_due_monday(db, network):
    # Thursday 2 July 2026, 15:00 in Chicago: after the 14:00 cut-off. Friday 3 July is the
    # observed Independence Day, so the order is due Monday 6 July at 14:00 CDT (19:00 UTC).
    fo_created(db, network, "fo_a", "2026-07-02T15:00:00-05:00")
    assert run(db, "2026-07-02T21:00:00+00:00") == 1
    c = clock(db, "on_time_ship", "fo_a")
    assert c.deadline == utc("2026-07-06T19:00:00+00:00")
    assert c.accountable == "provider"  # carrier hand-off is the provider's in the classic matrix
    # At risk 2 business hours before: Monday 12:00 CDT.
    assert c.at_risk_at == utc("2026-07-06T17:00:00+00:00")
    assert run(db, "2026-07-06T16:59:00+00:00") == 0
    assert run(db, "2026-07-06T17:00:00+00:00") == 1
    assert alerts(db) == [("sla.at_risk", "fo_a")]
    assert run(db, "2026-07-06T19:00:00+00:00") == 0  # exactly at the deadline is not late
    assert run(db, "2026-07-06T19:00:01+00:00") == 1
    assert alerts(db) == [("sla.at_risk", "fo_a"), ("sla.breached", "fo_a")]
    assert clock(db, "on_time_ship", "fo_a").status == "breached"
    shipped(db, network, "fo_a", "2026-07-06T20:00:00+00:00")
    run(db, "2026-07-06T20:01:00+00:00")
    c = clock(db, "on_time_ship", "fo_a")
    assert (c.status, c.stopped_at) == ("breached", utc("2026-07-06T20:00:00+00:00"))
    assert alerts(db).count(("sla.breached", "fo_a")) == 1  # never twice


def test_breach_alert_is_raised_when_the_late_stop_comes_first(db, network):
    fo_created(db, network, "fo_b", "2026-07-07T09:00:00-05:00")  # Tuesday: due 14:00 CDT
    shipped(db, network, "fo_b", "2026-07-07T14:30:00-05:00")
    run(db, "2026-07-08T00:00:00+00:00")
    c = clock(db, "on_time_ship", "fo_b")
    assert (c.status, c.breached_sent) == ("breached", True)
    assert alerts(db) == [("sla.breached", "fo_b")]
    with db.transaction(write=False) as session:
        event = session.scalar(select(Event).where(Event.type == "sla.breached"))
        # Both parties get it (webhooks fan out by merchant and provider).
        assert (event.merchant_id, event.provider_id) == (network.merchant.id, network.provider.id)


def test_a_facility_closure_moves_the_deadline(db, network):
    r = network.provider.post(
        "/v1/facilities/KS-CHI/closures", json={"day": "2026-07-06", "reason": "stocktake"}
    )
    assert r.status_code == 201, r.text
    fo_created(db, network, "fo_c", "2026-07-02T15:00:00-05:00")
    run(db, "2026-07-02T21:00:00+00:00")
    # Friday the 3rd is a holiday and Monday the 6th a closure: Tuesday 14:00 CDT.
    assert clock(db, "on_time_ship", "fo_c").deadline == utc("2026-07-07T19:00:00+00:00")


def test_daylight_saving_change_over_the_weekend(db, network):
    # Released Saturday 7 March 2026; US clocks move forward on Sunday the 8th, so Monday's
    # 14:00 cut-off is 19:00 UTC (CDT), not 20:00 UTC as it would have been on Friday (CST).
    fo_created(db, network, "fo_d", "2026-03-07T10:00:00-06:00")
    run(db, "2026-03-07T17:00:00+00:00")
    assert clock(db, "on_time_ship", "fo_d").deadline == utc("2026-03-09T19:00:00+00:00")


def test_a_channel_ship_by_wins_over_the_cutoff_rule(db, network):
    r = network.merchant.post(
        "/v1/orders",
        json=network.order("CH-1", ship_by="2026-12-31T23:00:00+00:00"),
    )
    assert r.status_code == 201, r.text
    order = r.json()
    run(db, "2026-01-01T00:00:00+00:00")
    fo_id = order["fulfillment_orders"][0]["id"]
    assert clock(db, "on_time_ship", fo_id).deadline == utc("2026-12-31T23:00:00+00:00")


def test_dock_to_stock_across_german_christmas(db, network):
    r = network.provider.post(
        "/v1/facilities",
        json={
            "code": "KS-BER",
            "name": "Berlin",
            "country": "DE",
            "timezone": "Europe/Berlin",
            "cutoff_local_time": "12:00",
        },
    )
    assert r.status_code == 201, r.text
    ber = facility_id(db, "KS-BER")
    base = {"facility_id": ber, "agreement_id": network.agreement_id}
    # Arrived Thursday 24 Dec 10:00 CET. Day 0 is the 24th, the 25th is Christmas Day and
    # the 26th a Saturday: day 1 is Monday the 28th, day 2 Tuesday the 29th, 18:00 CET.
    push(
        db,
        network,
        "inbound.arrived",
        "inbound_shipment",
        "asn_1",
        {**base, "inbound_id": "asn_1", "arrived_at": "2026-12-24T10:00:00+01:00"},
    )
    run(db, "2026-12-24T12:00:00+00:00")
    c = clock(db, "dock_to_stock", "asn_1")
    assert c.deadline == utc("2026-12-29T17:00:00+00:00")
    push(
        db,
        network,
        "inbound.received",
        "inbound_shipment",
        "asn_1",
        {**base, "inbound_id": "asn_1", "received_at": "2026-12-29T16:30:00+00:00", "lines": []},
    )
    run(db, "2026-12-29T16:31:00+00:00")
    c = clock(db, "dock_to_stock", "asn_1")
    assert (c.status, c.stopped_at) == ("met", utc("2026-12-29T16:30:00+00:00"))


def test_return_received_on_saturday_and_incident_over_the_weekend(db, network):
    chi = facility_id(db, "KS-CHI")
    base = {"facility_id": chi, "agreement_id": network.agreement_id}
    # Saturday 11 July 2026: day 0 is Monday the 13th; 3 business days: Thursday the 16th,
    # 18:00 CDT = 23:00 UTC.
    push(
        db,
        network,
        "return.received",
        "return",
        "rma_1",
        {**base, "return_id": "rma_1", "received_at": "2026-07-11T10:00:00-05:00"},
    )
    # Friday 17:00 CDT with 4 business hours: one hour on Friday, three on Monday (08-11).
    push(
        db,
        network,
        "incident.opened",
        "incident",
        "inc_1",
        {
            **base,
            "incident_id": "inc_1",
            "kind": "lost_in_transit",
            "owner": "provider",
            "opened_at": "2026-07-10T17:00:00-05:00",
            "fulfillment_order_id": None,
            "confirmed": False,
        },
    )
    run(db, "2026-07-11T16:00:00+00:00")
    assert clock(db, "return_processing", "rma_1").deadline == utc("2026-07-16T23:00:00+00:00")
    incident = clock(db, "incident_response", "inc_1")
    assert incident.deadline == utc("2026-07-13T16:00:00+00:00")
    assert incident.accountable == "provider"
    push(
        db,
        network,
        "incident.responded",
        "incident",
        "inc_1",
        {"incident_id": "inc_1", "responded_at": "2026-07-13T15:30:00+00:00"},
    )
    push(
        db,
        network,
        "return.disposed",
        "return",
        "rma_1",
        {
            **base,
            "return_id": "rma_1",
            "disposed_at": "2026-07-17T14:00:00+00:00",
            "disposition": "restock",
        },
    )
    run(db, "2026-07-17T15:00:00+00:00")
    assert clock(db, "incident_response", "inc_1").status == "met"
    assert clock(db, "return_processing", "rma_1").status == "breached"


def test_cancelled_before_shipping_voids_the_clock(db, network):
    fo_created(db, network, "fo_e", "2026-07-07T09:00:00-05:00")
    push(
        db,
        network,
        "fulfillment_order.cancelled",
        "fulfillment_order",
        "fo_e",
        {
            "fulfillment_order_id": "fo_e",
            "order_id": "x",
            "facility_id": None,
            "agreement_id": network.agreement_id,
        },
    )
    run(db, "2026-07-09T00:00:00+00:00")
    assert clock(db, "on_time_ship", "fo_e").status == "void"
    assert alerts(db) == []


def test_events_are_read_once_and_in_order(db, network):
    fo_created(db, network, "fo_f", "2026-07-07T09:00:00-05:00")
    shipped(db, network, "fo_f", "2026-07-07T10:00:00-05:00")
    assert run(db, "2026-07-07T16:00:00+00:00") == 2
    assert run(db, "2026-07-07T16:00:00+00:00") == 0
    assert clock(db, "on_time_ship", "fo_f").status == "met"
