"""EDI 940s from a merchant's ERP become orders: placed, replayed, changed, cancelled, and
one bad set among good ones rejected alone."""

from __future__ import annotations

from typing import Any

import pytest

from midway.edi import service as edi
from midway.principal import Principal
from tests.integration.support_network import Network
from tests.integration.test_edi_support import (
    ERP,
    SHIP_TO,
    WMS,
    ack_lines,
    connect,
    mount,
    order_940,
    send,
    shared_file,
    x12,
)


@pytest.fixture
def net(client: Any, network: Network) -> Network:
    mount(client)
    return network


def edi_orders(network: Network) -> dict[str, dict[str, Any]]:
    rows = network.merchant.get("/v1/orders?channel=edi&limit=100").json()
    return {o["external_id"]: o for o in rows}


def stock(network: Network, sku: str) -> tuple[int, int]:
    rows = network.merchant.get(f"/v1/inventory?sku={sku}&facility_code=KS-CHI").json()
    return rows[0]["on_hand"], rows[0]["reserved"]


def test_940_places_an_order_and_a_resend_places_nothing(net):
    connect(net)
    data = x12(ERP, [order_940("SO-1", [("TEE-BLK-M", 2), ("CANDLE", 3)])], interchange=7)
    first = send(net.merchant, data)
    assert first["ok"] and first["counts"] == {"accepted": 1, "rejected": 0, "duplicate": 0}
    result = first["sets"][0]
    assert (result["set_id"], result["interchange_control"], result["group_control"]) == (
        "940",
        "7",
        "7",
    )
    order = edi_orders(net)["SO-1"]
    assert result["objects"] == {"order_id": order["id"]}
    assert order["ship_to"]["name"] == "Ada Lane"
    assert order["ship_to"]["address2"] == "Suite 4"
    assert (order["ship_to"]["region"], order["ship_to"]["country"]) == ("TX", "US")
    assert order["ship_to"]["phone"] == "5125550100"
    assert order["ship_by"].startswith("2026-03-10T23:59:59")
    assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [
        ("TEE-BLK-M", 2),
        ("CANDLE", 3),
    ]
    assert stock(net, "TEE-BLK-M") == (10, 2)
    assert ack_lines(first["acknowledgment"]) == [
        "AK1*OW*7",
        "AK2*940*0001",
        "AK5*A",
        "AK9*A*1*1*1",
    ]

    again = send(net.merchant, data)
    assert again["sets"][0]["status"] == "duplicate"
    assert again["sets"][0]["note"] == "duplicate, already applied"
    assert again["sets"][0]["document_id"] == result["document_id"]
    assert list(edi_orders(net)) == ["SO-1"]
    assert stock(net, "TEE-BLK-M") == (10, 2)
    documents = net.merchant.get("/v1/edi/documents?direction=in").json()
    assert [(d["set_id"], d["status"]) for d in documents] == [("940", "accepted")]
    acks = net.merchant.get("/v1/edi/documents?direction=out").json()
    assert [(d["set_id"], d["status"]) for d in acks] == [("997", "sent"), ("997", "sent")]


def test_one_bad_set_is_rejected_alone(net):
    connect(net)
    data = x12(
        ERP,
        [
            order_940("GOOD-1", [("TEE-BLK-M", 1)]),
            order_940("BAD-2", [("CANDLE", 4), ("NO-SUCH-SKU", 1)]),
            order_940("GOOD-3", [("MUG-GLD", 2)]),
            order_940("BAD-4", [("CANDLE", 1)], status="X"),
        ],
    )
    body = send(net.merchant, data)
    assert [s["status"] for s in body["sets"]] == ["accepted", "rejected", "accepted", "rejected"]
    bad = body["sets"][1]
    assert bad["diagnostics"][-1]["code"] == "unknown_sku"
    assert bad["diagnostics"][-1]["segment_id"] == "W01"
    assert bad["diagnostics"][-1]["bad_value"] == "NO-SUCH-SKU"
    assert "INVALID_CODE" in [d["code"] for d in body["sets"][3]["diagnostics"]]
    assert sorted(edi_orders(net)) == ["GOOD-1", "GOOD-3"]
    # nothing of the bad set was written: CANDLE keeps its whole stock unreserved
    assert stock(net, "CANDLE") == (10, 0)
    lines = ack_lines(body["acknowledgment"])
    assert lines[0] == "AK1*OW*1"
    assert lines[1:3] == ["AK2*940*0001", "AK5*A"]
    assert lines[3] == "AK2*940*0002"
    # the W01 naming the unknown SKU is the 11th segment of its set; W01-05 holds the SKU
    assert lines[4:7] == ["AK3*W01*11**8", "AK4*5**7*NO-SUCH-SKU", "AK5*R*5"]
    assert lines[-1] == "AK9*P*4*4*2"
    events = net.merchant.get("/v1/events?type=edi.*").json()["events"]
    assert [e["type"] for e in events] == ["edi.set_rejected", "edi.set_rejected"]
    assert events[0]["data"]["set_control"] == "2"
    assert events[0]["data"]["diagnostics"][0]["code"] == "unknown_sku"


def test_a_broken_group_is_rejected_whole(net):
    connect(net)
    data = x12(ERP, [order_940("G-1", [("TEE-BLK-M", 1)]), order_940("G-2", [("CANDLE", 1)])])
    data = data.replace(b"GE*2*", b"GE*3*")
    body = send(net.merchant, data)
    assert [s["status"] for s in body["sets"]] == ["rejected", "rejected"]
    assert "GE_COUNT_MISMATCH" in body["sets"][0]["note"]
    assert edi_orders(net) == {}
    assert stock(net, "TEE-BLK-M") == (10, 0)
    assert ack_lines(body["acknowledgment"])[-1] == "AK9*R*3*2*2*5"


def test_w05_f_cancels_the_order(net):
    connect(net)
    send(net.merchant, x12(ERP, [order_940("C-1", [("TEE-BLK-M", 2)])], interchange=1))
    body = send(
        net.merchant,
        x12(ERP, [order_940("C-1", [("TEE-BLK-M", 2)], status="F")], interchange=2),
    )
    assert body["sets"][0]["status"] == "accepted", body
    order = edi_orders(net)["C-1"]
    assert order["status"] == "cancelled"
    assert body["sets"][0]["objects"] == {"order_id": order["id"], "status": "cancelled"}
    assert stock(net, "TEE-BLK-M") == (10, 0)
    unknown = send(net.merchant, x12(ERP, [order_940("C-9", [], status="F")], interchange=3))
    assert unknown["sets"][0]["status"] == "rejected"
    assert unknown["sets"][0]["diagnostics"][-1]["code"] == "order_not_found"


def test_w05_r_replaces_the_order_until_the_provider_accepts(net):
    connect(net)
    send(net.merchant, x12(ERP, [order_940("R-1", [("TEE-BLK-M", 2)])], interchange=1))
    changed = send(
        net.merchant,
        x12(ERP, [order_940("R-1", [("TEE-BLK-M", 3)], status="R")], interchange=2),
    )
    assert changed["sets"][0]["status"] == "accepted", changed
    orders = edi_orders(net)
    assert orders["R-1"]["status"] == "cancelled"
    revision = orders["R-1-rev2"]
    assert [(ln["sku"], ln["quantity"]) for ln in revision["lines"]] == [("TEE-BLK-M", 3)]
    assert changed["sets"][0]["objects"]["replaced_order_id"] == orders["R-1"]["id"]
    assert stock(net, "TEE-BLK-M") == (10, 3)

    fo = revision["fulfillment_orders"][0]
    r = net.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept")
    assert r.status_code == 200, r.text
    late = send(
        net.merchant,
        x12(ERP, [order_940("R-1", [("TEE-BLK-M", 1)], status="R")], interchange=3),
    )
    assert late["sets"][0]["status"] == "rejected"
    assert late["sets"][0]["diagnostics"][-1]["code"] == "order_in_progress"
    assert "has been accepted" in late["sets"][0]["note"]
    assert ack_lines(late["acknowledgment"])[2] == "AK5*R*5"
    assert edi_orders(net)["R-1-rev2"]["status"] != "cancelled"


def test_sets_of_one_group_apply_in_file_order(net):
    """New orders of a group are placed together, but a change or cancellation later in the
    same group sees the orders before it, and the last units go to the earlier order."""
    connect(net)
    send(net.merchant, x12(ERP, [order_940("OLD-1", [("CANDLE", 1)])], interchange=1))
    body = send(
        net.merchant,
        x12(
            ERP,
            [
                order_940("N-1", [("MUG-GLD", 6)]),
                order_940("N-1", [("MUG-GLD", 2)], status="R"),  # replaces N-1 just placed
                order_940("N-2", [("MUG-GLD", 9)]),  # 10 - 2 left: 8 reserved, 1 backordered
                order_940("OLD-1", [("CANDLE", 1)]),  # exists already: refused at W05-02
                order_940("N-3", [("MUG-GLD", 1)]),  # nothing left
            ],
            interchange=2,
        ),
    )
    assert [s["status"] for s in body["sets"]] == [
        "accepted",
        "accepted",
        "accepted",
        "rejected",
        "accepted",
    ]
    duplicate = body["sets"][3]["diagnostics"][-1]
    assert (duplicate["code"], duplicate["segment_id"], duplicate["bad_value"]) == (
        "duplicate_order",
        "W05",
        "OLD-1",
    )
    assert ack_lines(body["acknowledgment"])[8:11] == [
        "AK3*W05*2**8",
        "AK4*2**7*OLD-1",
        "AK5*R*5",
    ]
    orders = edi_orders(net)
    assert orders["N-1"]["status"] == "cancelled"
    assert [ln["reserved_quantity"] for ln in orders["N-1-rev2"]["lines"]] == [2]
    assert [
        (ln["reserved_quantity"], ln["backordered_quantity"]) for ln in orders["N-2"]["lines"]
    ] == [(8, 1)]
    assert orders["N-3"]["status"] == "backordered"
    assert stock(net, "MUG-GLD") == (10, 10)


def test_a_rejected_set_can_be_sent_again_with_the_same_numbers(net):
    connect(net)
    bad = x12(ERP, [order_940("L-1", [("LATER-SKU", 1)])], interchange=5)
    assert send(net.merchant, bad)["sets"][0]["status"] == "rejected"
    r = net.merchant.put("/v1/skus/LATER-SKU", json={"name": "Later", "weight_g": 100})
    assert r.status_code == 200, r.text
    again = send(net.merchant, bad)
    assert again["sets"][0]["status"] == "accepted"
    documents = net.merchant.get("/v1/edi/documents?direction=in").json()
    assert [(d["status"], d["set_control"]) for d in documents] == [("accepted", "1")]


def test_real_940_from_a_partner(net, db):
    path = shared_file("940-ediengine-1.edi")  # olmelabs/EdiEngine, MIT
    r = net.merchant.post(
        "/v1/edi/partners",
        json={"name": "1EDISource", "interchange_id": "ABCDEFGHIJKLMNO"},
    )
    assert r.status_code == 201, r.text
    for sku in ("000100", "000200", "000300"):
        assert (
            net.merchant.put(f"/v1/skus/{sku}", json={"name": sku, "weight_g": 500}).status_code
            == 200
        )
        net.stock(sku, 40)
    body = send(net.merchant, path.read_bytes())
    assert body["counts"]["accepted"] == 1, body
    order = edi_orders(net)["538686"]
    assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [
        ("000100", 12),
        ("000200", 32),
        ("000300", 12),
    ]
    assert order["ship_to"] == {
        "name": "ST COMPANY",
        "company": None,
        "address1": "ADDRESS",
        "address2": None,
        "city": "CITY",
        "region": "CA",
        "postal_code": "00003",
        "country": "US",
        "phone": None,
        "email": None,
    }
    assert order["ship_by"].startswith("2000-02-04T23:59:59")
    assert order["promised_delivery"].startswith("2000-02-07T23:59:59")
    with db.transaction(write=False) as session:
        merchant = Principal(net.merchant.id, "merchant", "admin")
        [document] = edi.list_documents(session, merchant, direction="in")
        assert (document.interchange_control, document.group_control, document.set_control) == (
            "3438",
            "3317",
            "1",
        )


def test_real_general_mills_order_then_cancellation(net):
    new = shared_file("940-x12types-3.edi")  # apimeister/x12-types, MIT OR Apache-2.0
    change = shared_file("940-x12types-4.edi")
    cancel = shared_file("940-x12types-5.edi")
    r = net.merchant.post(
        "/v1/edi/partners",
        json={
            "name": "General Mills",
            "interchange_qualifier": "08",
            "interchange_id": "925119TEST",
        },
    )
    assert r.status_code == 201, r.text
    for sku in ("0638746000", "0143872000"):
        assert (
            net.merchant.put(f"/v1/skus/{sku}", json={"name": sku, "weight_g": 9000}).status_code
            == 200
        )
    placed = send(net.merchant, new.read_bytes())
    assert placed["counts"]["accepted"] == 1, placed
    order = edi_orders(net)["18061923"]
    assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [
        ("0638746000", 750),
        ("0143872000", 170),
    ]
    assert order["ship_to"]["name"] == "TRADER JOES COMPANY"
    assert order["ship_to"]["address2"] == "STOCKTON WHSE 989"
    # the change names an order this partner never sent: refused, with the reason
    changed = send(net.merchant, change.read_bytes())
    assert changed["sets"][0]["status"] == "rejected"
    assert changed["sets"][0]["diagnostics"][-1]["code"] == "order_not_found"
    cancelled = send(net.merchant, cancel.read_bytes())
    assert cancelled["sets"][0]["status"] == "accepted", cancelled
    assert edi_orders(net)["18061923"]["status"] == "cancelled"


def test_shipping_orders_come_from_merchants_only(net):
    connect(net)
    body = send(net.provider, x12(WMS, [order_940("P-1", [("TEE-BLK-M", 1)])]))
    assert body["sets"][0]["status"] == "rejected"
    assert body["sets"][0]["diagnostics"][-1]["code"] == "wrong_party_kind"
    assert SHIP_TO[0][1] == "ST"
