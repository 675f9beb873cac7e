"""EDI from the warehouse side and the merchant's stock documents: 945 shipments, 943/944
inbound receipts, 947 adjustments, 846 snapshots, 180 returns."""

from __future__ import annotations

from typing import Any

import pytest

from midway.edi import service as edi
from midway.facilities.models import Facility
from tests.integration.support_network import Network
from tests.integration.test_edi_support import ERP, WMS, connect, mount, send, shared_file, x12


@pytest.fixture
def net(client: Any, network: Network) -> Network:
    mount(client)
    return network


def stock(network: Network, sku: str) -> tuple[int, int]:
    rows = network.merchant.get(f"/v1/inventory?sku={sku}&facility_code=KS-CHI").json()
    return rows[0]["on_hand"], rows[0]["reserved"]


def shipping_advice(reference: str, lines: list[tuple[str, int]]) -> tuple[str, list[list[str]]]:
    rows: list[list[str]] = [
        ["W06", "F", reference, "20260302", "SHP-77"],
        ["N1", "ST", "Ada Lane"],
        ["N9", "2I", "1Z999AA10123456784"],
        ["W27", "U", "UPSN", "UPS GROUND"],
    ]
    for index, (sku, count) in enumerate(lines, start=1):
        rows.append(["LX", str(index)])
        rows.append(["W12", "CC", str(count), str(count), "0", "EA", "", "VN", sku])
    rows.append(["W03", str(sum(c for _, c in lines))])
    return "945", rows


def test_945_ships_the_fulfillment_order(net):
    connect(net)
    order = net.place("WEB-1", [("TEE-BLK-M", 2), ("CANDLE", 1)])
    fo = order["fulfillment_orders"][0]
    assert fo["request_status"] == "submitted"
    reference = fo["id"].removeprefix("fo_")
    body = send(net.provider, x12(WMS, [shipping_advice(reference, [("TEE-BLK-M", 2)])]))
    result = body["sets"][0]
    assert result["status"] == "accepted", body
    assert result["objects"]["fulfillment_order_id"] == fo["id"]
    after = net.provider.get(f"/v1/fulfillment-orders/{fo['id']}").json()
    assert (after["status"], after["request_status"]) == ("in_progress", "accepted")
    [shipment] = after["shipments"]
    assert (shipment["carrier"], shipment["tracking_number"]) == ("UPSN", "1Z999AA10123456784")
    assert shipment["lines"] == [{"sku": "TEE-BLK-M", "quantity": 2}]
    assert stock(net, "TEE-BLK-M") == (8, 0)
    # the rest, named by the order's external id this time
    body = send(
        net.provider,
        x12(WMS, [shipping_advice("WEB-1", [("CANDLE", 1)])], interchange=2),
    )
    assert body["sets"][0]["status"] == "accepted", body
    after = net.provider.get(f"/v1/fulfillment-orders/{fo['id']}").json()
    assert after["status"] == "closed"
    assert stock(net, "CANDLE") == (9, 0)
    ledger = net.merchant.get("/v1/inventory/ledger?sku=CANDLE").json()["movements"]
    assert (ledger[-1]["kind"], ledger[-1]["on_hand_delta"]) == ("shipment", -1)
    over = send(net.provider, x12(WMS, [shipping_advice("WEB-1", [("CANDLE", 1)])], interchange=3))
    assert over["sets"][0]["status"] == "rejected"
    assert over["sets"][0]["diagnostics"][-1]["code"] == "unknown_order"


def test_945_over_shipment_points_at_the_line(net):
    connect(net)
    fo = net.place("WEB-2", [("TEE-BLK-M", 1)])["fulfillment_orders"][0]
    body = send(
        net.provider,
        x12(WMS, [shipping_advice(fo["id"].removeprefix("fo_"), [("TEE-BLK-M", 5)])]),
    )
    problem = body["sets"][0]["diagnostics"][-1]
    assert (problem["code"], problem["segment_id"], problem["element_position"]) == (
        "over_shipment",
        "W12",
        3,
    )
    after = net.provider.get(f"/v1/fulfillment-orders/{fo['id']}").json()
    # nothing half-applied: not even the acceptance that would have preceded the shipment
    assert (after["request_status"], after["shipments"]) == ("submitted", [])


def test_943_then_944_with_discrepancies(net):
    connect(net)
    advice = [
        ["W06", "F", "ASN-9", "20260301"],
        ["N1", "WH", "Chicago DC", "ZZ", "KS-CHI"],
        ["G62", "17", "20260305"],
        ["W27", "M", "FXFE", "FEDEX FREIGHT"],
        ["W04", "10", "EA", "", "VN", "TEE-BLK-M"],
        ["W04", "5", "EA", "", "VN", "MUG-GLD"],
        ["W03", "15"],
    ]
    body = send(net.merchant, x12(ERP, [("943", advice)]))
    assert body["sets"][0]["status"] == "accepted", body
    inbound_id = body["sets"][0]["objects"]["inbound_id"]
    asn = net.merchant.get(f"/v1/inbound-shipments/{inbound_id}").json()
    assert (asn["status"], asn["carrier"], asn["reference"]) == ("expected", "FXFE", "ASN-9")
    assert asn["expected_at"].startswith("2026-03-05")
    receipt = [
        ["W17", "F", "20260302", "WR-1", "ASN-9"],
        ["N1", "WH", "Chicago DC"],
        ["W07", "8", "EA", "", "VN", "TEE-BLK-M"],
        ["W13", "1", "EA", "01", "", "DR"],
        ["W07", "6", "EA", "", "VN", "MUG-GLD"],
        ["W14", "14"],
    ]
    body = send(net.provider, x12(WMS, [("944", receipt)]))
    assert body["sets"][0]["status"] == "accepted", body
    asn = net.merchant.get(f"/v1/inbound-shipments/{inbound_id}").json()
    lines = {ln["sku"]: ln for ln in asn["lines"]}
    tee, mug = lines["TEE-BLK-M"], lines["MUG-GLD"]
    assert (tee["received_quantity"], tee["damaged_quantity"], tee["short_quantity"]) == (9, 1, 1)
    assert (mug["received_quantity"], mug["over_quantity"]) == (6, 1)
    assert asn["status"] == "received"
    assert asn["received_at"].startswith("2026-03-02")
    assert stock(net, "TEE-BLK-M") == (10 + 8, 0)
    assert stock(net, "MUG-GLD") == (10 + 6, 0)
    unknown = send(
        net.provider,
        x12(
            WMS, [("944", [["W17", "F", "20260302", "WR-2", "ASN-0"], *receipt[1:]])], interchange=2
        ),
    )
    assert unknown["sets"][0]["diagnostics"][-1]["code"] == "unknown_inbound"


def test_real_943_and_944(net):
    advice = shared_file("943-stupidedi-1.edi")  # kputnam/stupidedi, BSD-3-Clause
    receipt = shared_file("944-stupidedi-1.edi")
    r = net.merchant.post(
        "/v1/edi/partners",
        json={"name": "ERP test", "interchange_id": "SENDER", "facility_code": "KS-CHI"},
    )
    assert r.status_code == 201, r.text
    r = net.provider.post("/v1/edi/partners", json={"name": "WMS test", "interchange_id": "SENDER"})
    assert r.status_code == 201, r.text
    assert (
        net.merchant.put("/v1/skus/ITEM123", json={"name": "Item", "weight_g": 10}).status_code
        == 200
    )
    body = send(net.merchant, advice.read_bytes())
    assert body["sets"][0]["status"] == "accepted", body
    asn = net.merchant.get(f"/v1/inbound-shipments/{body['sets'][0]['objects']['inbound_id']}")
    assert asn.json()["reference"] == "DO12345"
    body = send(net.provider, receipt.read_bytes())
    assert body["sets"][0]["status"] == "accepted", body
    line = net.merchant.get("/v1/inventory?sku=ITEM123").json()[0]
    assert (line["facility_code"], line["on_hand"]) == ("KS-CHI", 100)


def test_947_posts_adjustments_with_reason_codes(net):
    connect(net)
    rows = [
        ["W15", "20260302", "ADJ-1"],
        ["N1", "DE", "Northwind Goods", "ZZ", net.merchant.id],
        ["N1", "WH", "Chicago DC", "ZZ", "KS-CHI"],
        ["W19", "AU", "2", "EA", "", "VN", "TEE-BLK-M"],
        ["W19", "55", "1", "EA", "", "VN", "MUG-GLD"],
        ["W19", "AA", "-3", "EA", "", "VN", "CANDLE"],
        ["W19", "07", "-1", "EA", "", "VN", "GIFT-BOX"],
    ]
    body = send(net.provider, x12(WMS, [("947", rows)]))
    assert body["sets"][0]["status"] == "accepted", body
    assert [
        (a["sku"], a["quantity"], a["reason"]) for a in body["sets"][0]["objects"]["adjustments"]
    ] == [
        ("TEE-BLK-M", -2, "damaged_in_facility"),
        ("MUG-GLD", 1, "taken_off_hold"),
        ("CANDLE", -3, "physical_count"),
        ("GIFT-BOX", -1, "destroyed"),
    ]
    assert stock(net, "TEE-BLK-M") == (8, 0)
    assert stock(net, "MUG-GLD") == (11, 0)
    assert stock(net, "CANDLE") == (7, 0)
    assert stock(net, "GIFT-BOX") == (9, 0)
    ledger = net.merchant.get("/v1/inventory/ledger?sku=CANDLE").json()["movements"]
    assert (ledger[-1]["kind"], ledger[-1]["reason"], ledger[-1]["reference"]) == (
        "count",
        "physical_count",
        "ADJ-1",
    )
    # more than is there: the whole set is refused, the first line included
    too_much = [
        ["W15", "20260302", "ADJ-2"],
        ["N1", "DE", "Northwind Goods", "ZZ", net.merchant.id],
        ["W19", "AU", "1", "EA", "", "VN", "TEE-BLK-M"],
        ["W19", "AU", "50", "EA", "", "VN", "MUG-GLD"],
    ]
    r = net.provider.post(
        "/v1/edi/partners",
        json={"name": "WMS 2", "interchange_id": "KSWMS2", "facility_code": "KS-CHI"},
    )
    assert r.status_code == 201, r.text
    body = send(net.provider, x12("KSWMS2", [("947", too_much)]))
    problem = body["sets"][0]["diagnostics"][-1]
    assert (problem["code"], problem["segment_id"]) == ("insufficient_unreserved_stock", "W19")
    assert stock(net, "TEE-BLK-M") == (8, 0)


def test_947_needs_a_known_depositor(net):
    connect(net)
    rows = [
        ["W15", "20260302", "ADJ-3"],
        ["N1", "DE", "Somebody", "ZZ", "ACME"],
        ["N1", "WH", "Chicago DC", "ZZ", "KS-CHI"],
        ["W19", "AU", "1", "EA", "", "VN", "TEE-BLK-M"],
    ]
    body = send(net.provider, x12(WMS, [("947", rows)]))
    assert body["sets"][0]["diagnostics"][-1]["code"] == "unknown_depositor"
    assert stock(net, "TEE-BLK-M") == (10, 0)


def test_846_stores_the_providers_book(net, db):
    connect(net)

    def report(reference: str, date: str, quantities: list[tuple[str, int]]) -> bytes:
        rows = [
            ["BIA", "00", "SI", reference, date, "0800"],
            ["N1", "WH", "Chicago DC", "ZZ", "KS-CHI"],
        ]
        for number, (sku, count) in enumerate(quantities, start=1):
            rows.append(["LIN", str(number), "VN", sku])
            rows.append(["QTY", "33", str(count + 1)])
            rows.append(["QTY", "17", str(count)])
        return x12(WMS, [("846", rows)], interchange=int(date[-2:]))

    body = send(net.provider, report("INV-1", "20260301", [("TEE-BLK-M", 9), ("CANDLE", 10)]))
    assert body["sets"][0]["status"] == "accepted", body
    send(net.provider, report("INV-2", "20260302", [("TEE-BLK-M", 8)]))
    with db.transaction(write=False) as session:
        facility = session.query(Facility).filter_by(code="KS-CHI").one()
        snapshot = edi.latest_snapshot(session, net.merchant.id, facility.id)
        assert snapshot is not None
        assert (snapshot.reference, snapshot.quantities) == ("INV-2", {"TEE-BLK-M": 8})
        assert snapshot.as_of.isoformat() == "2026-03-02T08:00:00+00:00"
        assert edi.latest_snapshot(session, net.provider.id, facility.id) is None
    assert stock(net, "TEE-BLK-M") == (10, 0)  # the provider's book changes nothing


def test_180_authorizes_a_return(net):
    connect(net)
    order = net.place("WEB-7", [("MUG-GLD", 2)])
    rows = [
        ["BGN", "00", "RMA-55", "20260302"],
        ["PRF", "WEB-7"],
        ["N9", "RA", "RMA-55"],
        ["N1", "WH", "Chicago DC", "ZZ", "KS-CHI"],
        ["BLI", "VN", "MUG-GLD", "1", "EA"],
        ["RDR", "", "", "", "arrived broken"],
    ]
    body = send(net.merchant, x12(ERP, [("180", rows)]))
    assert body["sets"][0]["status"] == "accepted", body
    returns = net.merchant.get("/v1/returns").json()
    [rma] = [r for r in returns if r["rma_number"] == "RMA-55"]
    assert rma["order_id"] is None  # WEB-7 came from the web channel, not from EDI
    assert rma["reason"] == "arrived broken"
    assert [(ln["sku"], ln["quantity"]) for ln in rma["lines"]] == [("MUG-GLD", 1)]
    assert order["id"]
