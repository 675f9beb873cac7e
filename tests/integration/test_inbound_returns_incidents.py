"""Inbound shipments, returns and incidents: who may act (matrix and facility operator),
what reaches the ledger, and the events that start and stop SLA clocks."""

from __future__ import annotations


def stock(network, sku):
    rows = network.merchant.get(f"/v1/inventory?sku={sku}").json()
    return {r["facility_code"]: (r["on_hand"], r["reserved"]) for r in rows}


def event_types(actor, prefix):
    return [e["type"] for e in actor.get(f"/v1/events?type={prefix}*&limit=1000").json()["events"]]


def test_asn_arrival_and_receipt_with_discrepancies(network):
    r = network.merchant.post(
        "/v1/inbound-shipments",
        json={
            "facility_code": "KS-CHI",
            "reference": "ASN-1",
            "carrier": "FedEx Freight",
            "lines": [{"sku": "CANDLE", "quantity": 20}, {"sku": "MUG-GLD", "quantity": 5}],
        },
    )
    assert r.status_code == 201, r.text
    asn = r.json()
    assert asn["status"] == "expected"
    assert (
        network.merchant.post(
            "/v1/inbound-shipments",
            json={
                "facility_code": "KS-CHI",
                "reference": "ASN-1",
                "lines": [{"sku": "CANDLE", "quantity": 1}],
            },
        ).status_code
        == 409
    )
    # only the facility's operator records arrival and receipt
    assert network.merchant.post(f"/v1/inbound-shipments/{asn['id']}/arrival").status_code == 409
    r = network.provider.post(f"/v1/inbound-shipments/{asn['id']}/arrival")
    assert r.status_code == 200 and r.json()["status"] == "arrived"
    r = network.provider.post(
        f"/v1/inbound-shipments/{asn['id']}/receipt",
        json={
            "lines": [
                {"sku": "CANDLE", "received": 18, "damaged": 2},
                {"sku": "MUG-GLD", "received": 6},
                {"sku": "GIFT-BOX", "received": 3},
            ]
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    lines = {ln["sku"]: ln for ln in body["lines"]}
    assert (lines["CANDLE"]["short_quantity"], lines["CANDLE"]["damaged_quantity"]) == (2, 2)
    assert lines["MUG-GLD"]["over_quantity"] == 1
    assert (lines["GIFT-BOX"]["expected_quantity"], lines["GIFT-BOX"]["over_quantity"]) == (0, 3)
    assert body["dock_to_stock_seconds"] >= 0
    assert stock(network, "CANDLE")["KS-CHI"] == (10 + 16, 0)
    assert stock(network, "MUG-GLD")["KS-CHI"] == (10 + 6, 0)
    types = event_types(network.merchant, "inbound.")
    assert types == ["inbound.expected", "inbound.arrived", "inbound.received"]
    again = network.provider.post(f"/v1/inbound-shipments/{asn['id']}/receipt", json={"lines": []})
    assert again.status_code == 409
    bad = network.merchant.post(
        "/v1/inbound-shipments",
        json={
            "facility_code": "NOPE",
            "reference": "ASN-2",
            "lines": [{"sku": "CANDLE", "quantity": 1}],
        },
    )
    assert bad.status_code == 404 and bad.json()["field"] == "facility_code"


def test_return_follows_the_matrix(network):
    r = network.merchant.post(
        "/v1/returns",
        json={
            "facility_code": "KS-CHI",
            "rma_number": "RMA-7",
            "reason": "too small",
            "lines": [{"sku": "TEE-BLK-M", "quantity": 2}, {"sku": "MUG-GLD", "quantity": 1}],
        },
    )
    assert r.status_code == 201, r.text
    rma = r.json()
    # classic semi-managed: the provider receives, the merchant inspects and decides
    assert rma["inspection_owner"] == network.merchant.id
    assert rma["disposition_owner"] == network.merchant.id
    url = f"/v1/returns/{rma['id']}"
    assert network.merchant.post(f"{url}/receipt", json={"lines": []}).status_code == 409
    r = network.provider.post(
        f"{url}/receipt",
        json={"lines": [{"sku": "TEE-BLK-M", "quantity": 2}, {"sku": "MUG-GLD", "quantity": 1}]},
    )
    assert r.status_code == 200 and r.json()["status"] == "received"
    r = network.provider.post(
        f"{url}/inspection", json={"lines": [{"sku": "TEE-BLK-M", "condition": "new"}]}
    )
    assert r.status_code == 409 and r.json()["code"] == "not_process_owner"
    r = network.merchant.post(
        f"{url}/inspection",
        json={
            "lines": [
                {"sku": "TEE-BLK-M", "condition": "new"},
                {"sku": "MUG-GLD", "condition": "damaged"},
            ]
        },
    )
    assert r.status_code == 200, r.text
    r = network.merchant.post(
        f"{url}/disposition", json={"lines": [{"sku": "TEE-BLK-M", "disposition": "restock"}]}
    )
    assert r.status_code == 422 and "MUG-GLD" in r.json()["detail"]
    r = network.merchant.post(
        f"{url}/disposition",
        json={
            "lines": [
                {"sku": "TEE-BLK-M", "disposition": "restock"},
                {"sku": "MUG-GLD", "disposition": "dispose"},
            ]
        },
    )
    assert r.status_code == 200 and r.json()["status"] == "disposed"
    assert stock(network, "TEE-BLK-M")["KS-CHI"] == (12, 0)
    assert stock(network, "MUG-GLD")["KS-CHI"] == (10, 0)
    assert event_types(network.provider, "return.") == [
        "return.authorized",
        "return.received",
        "return.inspected",
        "return.disposed",
    ]


def test_incident_owner_thread_and_resolution(network, make_actor):
    fo = network.place(lines=[("CANDLE", 1)])["fulfillment_orders"][0]
    r = network.merchant.post(
        "/v1/incidents",
        json={
            "kind": "mis_pick",
            "summary": "customer got a mug",
            "fulfillment_order_id": fo["id"],
        },
    )
    assert r.status_code == 201, r.text
    incident = r.json()
    assert (incident["owner"], incident["owner_party_id"]) == ("provider", network.provider.id)
    assert incident["decision"]["process"] == "mis_pick"
    url = f"/v1/incidents/{incident['id']}"
    r = network.merchant.post(f"{url}/messages", json={"body": "photos attached"})
    assert r.json()["status"] == "open"  # the merchant is not the owner
    r = network.provider.post(f"{url}/messages", json={"body": "looking into it"})
    assert r.json()["status"] == "responded" and r.json()["first_response_at"]
    assert (
        network.merchant.post(
            f"{url}/resolve", json={"resolution": "x", "confirmed": True}
        ).status_code
        == 409
    )
    r = network.provider.post(
        f"{url}/resolve", json={"resolution": "reshipped the right item", "confirmed": True}
    )
    assert r.status_code == 200 and r.json()["confirmed"] is True
    assert len(r.json()["messages"]) == 2
    assert event_types(network.merchant, "incident.") == [
        "incident.opened",
        "incident.responded",
        "incident.resolved",
    ]
    # exception decisions stay with the merchant in the classic matrix
    r = network.provider.post(
        "/v1/incidents",
        json={
            "kind": "address_invalid",
            "summary": "no such street",
            "fulfillment_order_id": fo["id"],
        },
    )
    assert r.json()["owner"] == "merchant"
    outsider = make_actor("merchant", "Someone Else")
    assert outsider.get(url).status_code == 404
    assert (
        network.merchant.post(
            "/v1/incidents",
            json={"kind": "tornado", "summary": "x", "agreement_id": network.agreement_id},
        ).json()["field"]
        == "kind"
    )


def test_counts_emit_expected_and_counted(network):
    r = network.provider.post(
        "/v1/inventory/adjustments",
        json={
            "facility_code": "KS-CHI",
            "sku": "CANDLE",
            "quantity": -1,
            "reason": "cycle_count",
            "kind": "count",
            "merchant_id": network.merchant.id,
        },
    )
    assert r.status_code == 201, r.text
    (counted,) = [
        e for e in network.merchant.get("/v1/events?type=inventory.counted").json()["events"]
    ]
    assert (counted["data"]["expected"], counted["data"]["counted"]) == (10, 9)
