"""KPIs of live orders through the API: figures, drill-down, ratings, scoping, empty periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from midway.events.service import NewEvent, emit
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


def run_engine(db) -> None:
    while True:
        with db.transaction() as session:
            if not tick(session, datetime.now(UTC)):
                return


def ship(actor, fo_id, lines, tracking):
    r = actor.post(
        f"/v1/fulfillment-orders/{fo_id}/shipments",
        json={
            "carrier": "UPS",
            "tracking_number": tracking,
            "lines": [{"sku": s, "quantity": q} for s, q in lines],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def window() -> str:
    today = datetime.now(UTC).date()
    return f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"


def test_live_orders_give_drillable_kpis(db, network, make_actor):
    first = network.place("K-1", [("TEE-BLK-M", 2)], promised_delivery="2099-01-01T00:00:00Z")
    second = network.place("K-2", [("CANDLE", 2)])
    fo1 = first["fulfillment_orders"][0]["id"]
    fo2 = second["fulfillment_orders"][0]["id"]
    for fo in (fo1, fo2):
        assert network.provider.post(f"/v1/fulfillment-orders/{fo}/accept").status_code == 200
    parcel = ship(network.provider, fo1, [("TEE-BLK-M", 2)], "T1")["shipments"][0]
    ship(network.provider, fo2, [("CANDLE", 1)], "T2")
    assert network.provider.post(f"/v1/fulfillment-orders/{fo2}/close").status_code == 200
    delivered = datetime.now(UTC).isoformat()
    r = network.provider.post(
        f"/v1/shipments/{parcel['id']}/delivery", json={"delivered_at": delivered}
    )
    assert r.status_code == 200, r.text
    # A confirmed mis-pick on the second order (as the incidents feature will report it).
    with db.transaction() as session:
        emit(
            session,
            [
                NewEvent(
                    type="incident.opened",
                    merchant_id=network.merchant.id,
                    provider_id=network.provider.id,
                    subject_type="incident",
                    subject_id="inc_k2",
                    data={
                        "incident_id": "inc_k2",
                        "kind": "mis_pick",
                        "owner": "provider",
                        "agreement_id": network.agreement_id,
                        "facility_id": None,
                        "opened_at": delivered,
                        "fulfillment_order_id": fo2,
                        "confirmed": True,
                    },
                )
            ],
        )
    run_engine(db)
    r = network.merchant.post(f"/v1/orders/{first['id']}/rating", json={"score": 5})
    assert r.status_code == 201, r.text
    assert r.json()["fulfillment_order_ids"] == [fo1]

    url = f"/v1/kpis?agreement_id={network.agreement_id}&{window()}"
    r = network.merchant.get(url)
    assert r.status_code == 200, r.text
    kpis = r.json()["periods"][0]["kpis"]
    shown = {k: (v["numerator"], v["denominator"]) for k, v in kpis.items() if "denominator" in v}
    assert shown == {
        "on_time_ship": (2, 2),
        "on_time_delivery": (1, 1),
        "order_accuracy": (1, 2),
        "fill_rate": (1, 2),
        "damage_free": (2, 2),
        "perfect_order": (1, 2),
        "inventory_accuracy": (0, 0),
    }
    assert kpis["order_accuracy"]["percent"] == "50.00"
    assert kpis["order_accuracy"]["target"] == "99.5"
    assert kpis["order_accuracy"]["target_source"] == "default"
    assert kpis["order_accuracy"]["best_in_class"] == "99.9"
    # 1 x 0.5 x 1 x 0.5
    assert kpis["perfect_order_index"]["percent"] == "25.00"
    assert kpis["customer_satisfaction"]["mean"] == "5.00"
    assert kpis["customer_satisfaction"]["share_4_5"]["denominator"] == 1
    assert kpis["cost_per_order"]["value"] is None
    assert kpis["dock_to_stock"]["within_target"]["percent"] is None

    # The provider of the agreement sees the same figures.
    theirs = network.provider.get(url).json()["periods"][0]["kpis"]
    assert theirs["order_accuracy"] == kpis["order_accuracy"]

    r = network.merchant.get(
        f"/v1/kpis/order_accuracy/items?agreement_id={network.agreement_id}&{window()}&failed=true"
    )
    assert r.status_code == 200, r.text
    (item,) = r.json()["items"]
    assert item["fulfillment_order_id"] == fo2
    assert item["incidents"] == [{"id": "inc_k2", "kind": "mis_pick"}]
    assert item["event_ids"]  # the events behind the figure

    # Clocks: both on-time-ship clocks met.
    r = network.provider.get(
        f"/v1/sla/clocks?agreement_id={network.agreement_id}&kind=on_time_ship"
    )
    assert sorted(c["status"] for c in r.json()) == ["met", "met"]

    # Another merchant and another provider: 404 on the agreement, nothing in their own view.
    stranger = make_actor("merchant", "Other Goods")
    other_3pl = make_actor("provider", "Other 3PL")
    assert stranger.get(url).status_code == 404
    assert other_3pl.get(url).status_code == 404
    assert other_3pl.get(f"/v1/sla/clocks?agreement_id={network.agreement_id}").status_code == 404
    own = other_3pl.get(f"/v1/kpis?{window()}").json()["periods"][0]["kpis"]
    assert own["on_time_ship"]["denominator"] == 0
    r = stranger.post(f"/v1/orders/{first['id']}/rating", json={"score": 1})
    assert r.status_code == 404


def test_an_empty_period_has_no_value(network):
    r = network.merchant.get(
        f"/v1/kpis?agreement_id={network.agreement_id}&from=2020-01-01&to=2020-02-29&group_by=month"
    )
    assert r.status_code == 200, r.text
    periods = r.json()["periods"]
    assert [p["period"] for p in periods] == ["2020-01", "2020-02"]
    for period in periods:
        figures = period["kpis"]
        assert figures["on_time_ship"] == {
            "numerator": 0,
            "denominator": 0,
            "percent": None,
            "target": "99.0",
            "target_source": "default",
            "best_in_class": "99.7",
        }
        assert figures["perfect_order_index"]["percent"] is None
        assert figures["customer_satisfaction"]["mean"] is None


def test_bad_queries_are_clear_errors(network):
    base = f"/v1/kpis?agreement_id={network.agreement_id}"
    r = network.merchant.get(f"{base}&from=2026-02-01&to=2026-01-01")
    assert (r.status_code, r.json()["field"]) == (422, "to")
    r = network.merchant.get(f"{base}&from=2026-01-01&to=2026-01-31&tz=Mars/Base")
    assert (r.status_code, r.json()["field"]) == (422, "tz")
    r = network.merchant.get("/v1/kpis/nonsense/items?from=2026-01-01&to=2026-01-31")
    assert (r.status_code, r.json()["field"]) == (422, "kpi")
    r = network.merchant.get(f"/v1/agreements/{network.agreement_id}/scorecard?period=2026-13")
    assert (r.status_code, r.json()["field"]) == (422, "period")
