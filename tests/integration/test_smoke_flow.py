"""The whole spine in one story: agreement, stock, order, handshake, shipment, events."""

from __future__ import annotations


def setup_network(make_actor):
    merchant = make_actor("merchant", "Northwind Goods")
    provider = make_actor("provider", "Keystone Logistics")
    r = provider.post(
        "/v1/facilities",
        json={
            "code": "KS-CHI",
            "name": "Chicago DC",
            "country": "US",
            "timezone": "America/Chicago",
            "cutoff_local_time": "14:00",
        },
    )
    assert r.status_code == 201, r.text
    r = merchant.post(
        "/v1/agreements",
        json={
            "provider_id": provider.id,
            "facility_codes": ["KS-CHI"],
            "template": "classic_semi_managed",
        },
    )
    assert r.status_code == 201, r.text
    agreement = r.json()
    assert agreement["status"] == "proposed" and agreement["version"] == 1
    r = provider.post(f"/v1/agreements/{agreement['id']}/accept")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"
    for sku, tags in (("TEE-BLK-M", ["apparel"]), ("MUG-GLD", ["premium", "fragile"])):
        r = merchant.put(
            f"/v1/skus/{sku}",
            json={
                "name": sku,
                "weight_g": 300,
                "length_mm": 100,
                "width_mm": 100,
                "height_mm": 50,
                "tags": tags,
            },
        )
        assert r.status_code == 200, r.text
        r = provider.post(
            "/v1/inventory/adjustments",
            json={
                "facility_code": "KS-CHI",
                "sku": sku,
                "quantity": 10,
                "reason": "receipt",
                "kind": "receipt",
                "merchant_id": merchant.id,
            },
        )
        assert r.status_code == 201, r.text
    return merchant, provider, agreement


ORDER = {
    "channel": "web",
    "external_id": "1001",
    "ship_to": {
        "name": "Ada Lane",
        "address1": "1 Main St",
        "city": "Austin",
        "postal_code": "78701",
        "country": "US",
    },
    "lines": [{"sku": "TEE-BLK-M", "quantity": 2}, {"sku": "MUG-GLD", "quantity": 1}],
}


def test_order_to_shipment(make_actor):
    merchant, provider, _ = setup_network(make_actor)
    r = merchant.post("/v1/orders", json=ORDER)
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "open"
    assert [ln["reserved_quantity"] for ln in order["lines"]] == [2, 1]
    (fo,) = order["fulfillment_orders"]
    assert (fo["status"], fo["request_status"]) == ("open", "submitted")

    tasks = provider.get("/v1/tasks?mine=true").json()
    assert {t["process"] for t in tasks} >= {"picking", "packing", "carrier_handoff"}
    mine = merchant.get("/v1/tasks?mine=true").json()
    assert [t["process"] for t in mine] == ["branded_inserts"]
    assert mine[0]["skus"] == ["MUG-GLD"]

    r = provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_progress"
    r = provider.post(
        f"/v1/fulfillment-orders/{fo['id']}/shipments",
        json={
            "carrier": "UPS",
            "tracking_number": "1Z999",
            "lines": [{"sku": "TEE-BLK-M", "quantity": 1}],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "in_progress"
    r = provider.post(
        f"/v1/fulfillment-orders/{fo['id']}/shipments",
        json={
            "carrier": "UPS",
            "tracking_number": "1Z998",
            "lines": [{"sku": "TEE-BLK-M", "quantity": 1}, {"sku": "MUG-GLD", "quantity": 1}],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "closed"
    order = merchant.get(f"/v1/orders/{order['id']}").json()
    assert order["status"] == "shipped"
    stock = {row["sku"]: row for row in merchant.get("/v1/inventory").json()}
    assert stock["TEE-BLK-M"]["on_hand"] == 8 and stock["TEE-BLK-M"]["reserved"] == 0
    events = provider.get("/v1/events").json()["events"]
    assert "fulfillment_order.shipment_created" in {e["type"] for e in events}
    assert "order.created" not in {e["type"] for e in events}
