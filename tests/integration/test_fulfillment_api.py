"""The fulfillment-order handshake over HTTP, with stock and order effects checked."""

from __future__ import annotations

from tests.integration.support_network import build_network


def stock_of(network, sku, facility="KS-CHI"):
    rows = network.merchant.get(f"/v1/inventory?sku={sku}&facility_code={facility}").json()
    assert len(rows) == 1
    return rows[0]


def test_reject_releases_stock_and_order_can_be_resourced_elsewhere(network, make_actor):
    order = network.place(lines=[("TEE-BLK-M", 3)])
    fo = order["fulfillment_orders"][0]
    assert stock_of(network, "TEE-BLK-M")["reserved"] == 3

    r = network.provider.post(
        f"/v1/fulfillment-orders/{fo['id']}/reject",
        json={"reason": "ineligible_product", "message": "hazmat not allowed"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["request_status"]) == ("closed", "rejected")
    assert body["rejection_reason"] == "ineligible_product"
    assert stock_of(network, "TEE-BLK-M")["reserved"] == 0
    order = network.merchant.get(f"/v1/orders/{order['id']}").json()
    assert order["status"] == "backordered"
    assert order["lines"][0]["backordered_quantity"] == 3

    # the merchant's own stockroom gets stock; re-sourcing skips the facility that rejected
    studio = network.merchant.post(
        "/v1/facilities",
        json={
            "code": "NW-ROOM",
            "name": "Back room",
            "country": "US",
            "timezone": "America/New_York",
            "kind": "stockroom",
        },
    )
    assert studio.status_code == 201, studio.text
    r = network.merchant.post(
        "/v1/inventory/adjustments",
        json={
            "facility_code": "NW-ROOM",
            "sku": "TEE-BLK-M",
            "quantity": 5,
            "reason": "receipt",
            "kind": "receipt",
        },
    )
    assert r.status_code == 201, r.text
    r = network.merchant.post(f"/v1/orders/{order['id']}/source")
    assert r.status_code == 200, r.text
    order = r.json()
    assert order["status"] == "open"
    new_fo = order["fulfillment_orders"][-1]
    assert new_fo["facility_code"] == "NW-ROOM"
    # a merchant-run facility skips the handshake
    assert (new_fo["status"], new_fo["request_status"]) == ("open", "unsubmitted")
    r = network.merchant.post(
        f"/v1/fulfillment-orders/{new_fo['id']}/shipments",
        json={
            "carrier": "USPS",
            "tracking_number": "9400",
            "lines": [{"sku": "TEE-BLK-M", "quantity": 3}],
        },
    )
    assert r.status_code == 201, r.text
    assert network.merchant.get(f"/v1/orders/{order['id']}").json()["status"] == "shipped"


def test_reject_needs_a_known_reason(network):
    fo = network.place()["fulfillment_orders"][0]
    r = network.provider.post(
        f"/v1/fulfillment-orders/{fo['id']}/reject", json={"reason": "too_busy"}
    )
    assert r.status_code == 422
    assert r.json()["field"] == "reason"
    assert (
        network.provider.get(f"/v1/fulfillment-orders/{fo['id']}").json()["request_status"]
        == "submitted"
    )


def test_holds_by_either_side_and_release(network):
    fo = network.place()["fulfillment_orders"][0]
    r = network.merchant.post(
        f"/v1/fulfillment-orders/{fo['id']}/hold", json={"reason": "awaiting_payment"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "on_hold"
    r = network.provider.post(
        f"/v1/fulfillment-orders/{fo['id']}/hold",
        json={"reason": "incorrect_address", "message": "apt number?"},
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["holds"]) == 2
    # accepting while on hold is not allowed, and says why
    r = network.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept")
    assert r.status_code == 409
    problem = r.json()
    assert problem["code"] == "invalid_transition"
    assert problem["state"]["status"] == "on_hold"
    r = network.merchant.post(f"/v1/fulfillment-orders/{fo['id']}/release-hold")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "on_hold"  # the provider's hold still stands
    r = network.provider.post(f"/v1/fulfillment-orders/{fo['id']}/release-hold")
    assert r.json()["status"] == "open"
    r = network.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept")
    assert r.status_code == 200 and r.json()["status"] == "in_progress"


def test_cancellation_request_accepted_and_rejected(network):
    first = network.place("A-1", [("CANDLE", 4)])
    second = network.place("A-2", [("CANDLE", 4)])
    for order in (first, second):
        fo = order["fulfillment_orders"][0]
        assert network.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept").status_code == 200

    r = network.merchant.post(f"/v1/orders/{first['id']}/cancel")
    assert r.status_code == 200, r.text
    fo = r.json()["fulfillment_orders"][0]
    assert fo["request_status"] == "cancellation_requested"
    r = network.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept-cancellation")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["request_status"]) == (
        "cancelled",
        "cancellation_accepted",
    )
    order = network.merchant.get(f"/v1/orders/{first['id']}").json()
    assert order["status"] == "cancelled"
    assert order["lines"][0]["cancelled_quantity"] == 4

    fo2 = second["fulfillment_orders"][0]
    network.merchant.post(f"/v1/fulfillment-orders/{fo2['id']}/request-cancellation")
    r = network.provider.post(f"/v1/fulfillment-orders/{fo2['id']}/reject-cancellation")
    assert (r.json()["status"], r.json()["request_status"]) == (
        "in_progress",
        "cancellation_rejected",
    )
    r = network.provider.post(
        f"/v1/fulfillment-orders/{fo2['id']}/shipments",
        json={
            "carrier": "UPS",
            "tracking_number": "1Z1",
            "lines": [{"sku": "CANDLE", "quantity": 4}],
        },
    )
    assert r.status_code == 201 and r.json()["status"] == "closed"
    candle = stock_of(network, "CANDLE")
    assert (candle["on_hand"], candle["reserved"], candle["available"]) == (6, 0, 6)


def test_cancel_before_acceptance_releases_at_once(network):
    order = network.place(lines=[("MUG-GLD", 2)])
    r = network.merchant.post(f"/v1/orders/{order['id']}/cancel")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "cancelled"
    assert body["fulfillment_orders"][0]["status"] == "cancelled"
    assert stock_of(network, "MUG-GLD")["available"] == 10
    assert network.merchant.post(f"/v1/orders/{order['id']}/cancel").status_code == 409
    tasks = network.provider.get(
        f"/v1/tasks?fulfillment_order_id={body['fulfillment_orders'][0]['id']}"
    ).json()
    assert tasks and {t["status"] for t in tasks} == {"cancelled"}


def test_close_incomplete_after_partial_shipment(network):
    order = network.place(lines=[("TEE-BLK-M", 3)])
    fo = order["fulfillment_orders"][0]
    network.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept")
    r = network.provider.post(
        f"/v1/fulfillment-orders/{fo['id']}/shipments",
        json={
            "carrier": "UPS",
            "tracking_number": "1Z2",
            "lines": [{"sku": "TEE-BLK-M", "quantity": 1}],
        },
    )
    assert r.status_code == 201
    r = network.provider.post(f"/v1/fulfillment-orders/{fo['id']}/close")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["request_status"]) == ("incomplete", "closed")
    order = network.merchant.get(f"/v1/orders/{order['id']}").json()
    line = order["lines"][0]
    assert (line["shipped_quantity"], line["reserved_quantity"], line["backordered_quantity"]) == (
        1,
        0,
        2,
    )
    assert order["status"] == "backordered"
    tee = stock_of(network, "TEE-BLK-M")
    assert (tee["on_hand"], tee["reserved"]) == (9, 0)


def test_shipment_bad_input(network):
    fo = network.place(lines=[("TEE-BLK-M", 2)])["fulfillment_orders"][0]
    url = f"/v1/fulfillment-orders/{fo['id']}/shipments"
    body = {
        "carrier": "UPS",
        "tracking_number": "1",
        "lines": [{"sku": "TEE-BLK-M", "quantity": 1}],
    }
    r = network.provider.post(url, json=body)  # not accepted yet
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    network.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept")
    r = network.provider.post(url, json={**body, "lines": [{"sku": "TEE-BLK-M", "quantity": 3}]})
    assert r.status_code == 422 and r.json()["field"] == "lines[0].quantity"
    r = network.provider.post(url, json={**body, "lines": [{"sku": "CANDLE", "quantity": 1}]})
    assert r.status_code == 422 and r.json()["field"] == "lines[0].sku"
    r = network.provider.post(url, json={**body, "lines": [{"sku": "TEE-BLK-M", "quantity": 0}]})
    assert r.status_code == 422 and r.json()["field"].startswith("lines[0].quantity")
    # the merchant cannot ship a provider's work
    r = network.merchant.post(url, json=body)
    assert r.status_code == 409
    assert stock_of(network, "TEE-BLK-M")["on_hand"] == 10


def test_manual_submission_when_agreement_does_not_auto_submit(make_actor):
    network = build_network(make_actor, auto_submit=False)
    fo = network.place()["fulfillment_orders"][0]
    assert fo["request_status"] == "unsubmitted"
    assert "submit" in fo["supported_actions"]
    r = network.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept")
    assert r.status_code == 409
    r = network.merchant.post(f"/v1/fulfillment-orders/{fo['id']}/submit")
    assert r.status_code == 200 and r.json()["request_status"] == "submitted"
    provider_view = network.provider.get(f"/v1/fulfillment-orders/{fo['id']}").json()
    assert "accept" in provider_view["supported_actions"]
    assert provider_view["ship_to"]["name"] == "Ada Lane"


def test_channel_ship_by_sets_task_due_time_and_delivery_is_recorded(network):
    order = network.place(
        "sb-1", ship_by="2030-01-02T17:00:00+00:00", promised_delivery="2030-01-05T00:00:00Z"
    )
    assert order["ship_by"].startswith("2030-01-02T17:00")
    fo = order["fulfillment_orders"][0]
    tasks = network.provider.get(f"/v1/tasks?fulfillment_order_id={fo['id']}").json()
    assert {t["due_at"][:16] for t in tasks} == {"2030-01-02T17:00"}
    network.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept")
    r = network.provider.post(
        f"/v1/fulfillment-orders/{fo['id']}/shipments",
        json={
            "carrier": "UPS",
            "tracking_number": "1Z5",
            "carrier_charge": "7.40",
            "currency": "usd",
            "lines": [{"sku": "TEE-BLK-M", "quantity": 2}],
        },
    )
    assert r.status_code == 201, r.text
    shipment = r.json()["shipments"][0]
    assert (shipment["carrier_charge"], shipment["currency"]) == ("7.40", "USD")
    url = f"/v1/shipments/{shipment['id']}/delivery"
    too_early = network.provider.post(url, json={"delivered_at": "2001-01-01T00:00:00Z"})
    assert too_early.status_code == 422
    assert too_early.json()["field"] == "delivered_at"
    r = network.merchant.post(url, json={"delivered_at": shipment["shipped_at"]})
    assert r.status_code == 200, r.text
    events = network.merchant.get("/v1/events?type=shipment.*").json()["events"]
    assert [e["data"]["promised_delivery"][:10] for e in events] == ["2030-01-05"]
    assert (
        network.provider.post(
            "/v1/shipments/shp_nope/delivery", json={"delivered_at": shipment["shipped_at"]}
        ).status_code
        == 404
    )


def test_stock_rejection_can_come_back_to_the_same_facility_and_other_tasks_stay_uncredited(
    network,
):
    order = network.place("back-1", [("MUG-GLD", 2)])
    fo = order["fulfillment_orders"][0]
    network.provider.post(
        f"/v1/fulfillment-orders/{fo['id']}/reject", json={"reason": "inventory_out_of_stock"}
    )
    r = network.merchant.post(f"/v1/orders/{order['id']}/source")
    assert r.status_code == 200, r.text
    again = r.json()["fulfillment_orders"][-1]
    assert again["facility_code"] == "KS-CHI" and again["id"] != fo["id"]
    network.provider.post(f"/v1/fulfillment-orders/{again['id']}/accept")
    network.provider.post(
        f"/v1/fulfillment-orders/{again['id']}/shipments",
        json={
            "carrier": "UPS",
            "tracking_number": "1Z9",
            "lines": [{"sku": "MUG-GLD", "quantity": 2}],
        },
    )
    tasks = network.merchant.get(f"/v1/tasks?fulfillment_order_id={again['id']}").json()
    inserts = [t for t in tasks if t["process"] == "branded_inserts"]
    assert [(t["status"], t["completed_by"]) for t in inserts] == [("done", None)]
    picking = next(t for t in tasks if t["process"] == "picking")
    assert (picking["status"], picking["completed_by"]) == ("done", network.provider.id)

    # a final rejection keeps the order away from that facility
    order2 = network.place("away-1", [("CANDLE", 1)])
    fo2 = order2["fulfillment_orders"][0]
    network.provider.post(
        f"/v1/fulfillment-orders/{fo2['id']}/reject", json={"reason": "undeliverable_destination"}
    )
    r = network.merchant.post(f"/v1/orders/{order2['id']}/source")
    assert [f["id"] for f in r.json()["fulfillment_orders"]] == [fo2["id"]]
    assert r.json()["status"] == "backordered"
