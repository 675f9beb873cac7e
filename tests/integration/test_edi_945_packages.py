"""A 945 with several packages (tracking numbers per LX or per W12) becomes one shipment per
package, exactly as the same parcels recorded through the API; a resend ships nothing twice."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.support_network import Network
from tests.integration.test_edi_support import WMS, connect, mount, send, x12


@pytest.fixture
def net(client: Any, network: Network) -> Network:
    mount(client)
    return network


def advice(reference: str, body: list[list[str]], units: int) -> tuple[str, list[list[str]]]:
    rows: list[list[str]] = [
        ["W06", "F", reference, "20260302", "SHP-M"],
        ["N1", "ST", "Ada Lane"],
        *body,
        ["W03", str(units)],
    ]
    return "945", rows


def w12(sku: str, ordered: int, shipped: int, left: int) -> list[str]:
    return ["W12", "CC" if left == 0 else "CP", str(ordered), str(shipped), str(left), "EA", "",
            "VN", sku]  # fmt: skip


def parcels(fo: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    return sorted(
        (s["carrier"], s["tracking_number"], sorted(s["lines"], key=lambda x: x["sku"]))
        for s in fo["shipments"]
    )


def stock(net: Network) -> dict[str, tuple[int, int]]:
    rows = net.merchant.get("/v1/inventory?facility_code=KS-CHI").json()
    return {r["sku"]: (r["on_hand"], r["reserved"]) for r in rows}


LINES = [("TEE-BLK-M", 2), ("CANDLE", 1), ("MUG-GLD", 1)]


def by_lx(reference: str) -> tuple[str, list[list[str]]]:
    """Two packages: 1ZPKG1 holds the tees, 1ZPKG2 the candle and the mug (two LX loops)."""
    return advice(
        reference,
        [
            ["W27", "U", "UPSN", "UPS GROUND"],
            ["LX", "1"], ["MAN", "CP", "1ZPKG1"], w12("TEE-BLK-M", 2, 2, 0),
            ["LX", "2"], ["MAN", "CP", "1ZPKG2"], w12("CANDLE", 1, 1, 0),
            ["LX", "3"], ["MAN", "CP", "1ZPKG2"], w12("MUG-GLD", 1, 1, 0),
        ],
        4,
    )  # fmt: skip


def test_packages_become_shipments_as_through_the_api(net):
    connect(net)
    fo = net.place("WEB-M", LINES)["fulfillment_orders"][0]
    body = send(net.provider, x12(WMS, [by_lx(fo["id"].removeprefix("fo_"))]))
    result = body["sets"][0]
    assert result["status"] == "accepted", body
    assert result["note"] == "4 unit(s) shipped in 2 package(s): UPSN 1ZPKG1, UPSN 1ZPKG2"
    assert len(result["objects"]["shipment_ids"]) == 2
    by_edi = net.provider.get(f"/v1/fulfillment-orders/{fo['id']}").json()
    assert parcels(by_edi) == [
        ("UPSN", "1ZPKG1", [{"sku": "TEE-BLK-M", "quantity": 2}]),
        ("UPSN", "1ZPKG2", [{"sku": "CANDLE", "quantity": 1}, {"sku": "MUG-GLD", "quantity": 1}]),
    ]
    # The same parcels through the API, on a second order.
    other = net.place("WEB-A", LINES)["fulfillment_orders"][0]
    r = net.provider.post(f"/v1/fulfillment-orders/{other['id']}/accept")
    assert r.status_code == 200, r.text
    for tracking, lines in (
        ("1ZAPI1", [("TEE-BLK-M", 2)]),
        ("1ZAPI2", [("CANDLE", 1), ("MUG-GLD", 1)]),
    ):
        r = net.provider.post(
            f"/v1/fulfillment-orders/{other['id']}/shipments",
            json={
                "carrier": "UPSN",
                "tracking_number": tracking,
                "lines": [{"sku": s, "quantity": q} for s, q in lines],
            },
        )
        assert r.status_code == 201, r.text
    by_api = net.provider.get(f"/v1/fulfillment-orders/{other['id']}").json()
    assert (by_edi["status"], by_edi["request_status"]) == ("closed", "accepted")
    assert (by_api["status"], by_api["request_status"]) == ("closed", "accepted")
    orders = {o["external_id"]: o for o in net.merchant.get("/v1/orders").json()}
    assert orders["WEB-M"]["status"] == orders["WEB-A"]["status"] == "shipped"
    # 10 of each at the start; each order took 2 tees, 1 candle and 1 mug.
    assert stock(net) == {
        "CANDLE": (8, 0), "GIFT-BOX": (10, 0), "MUG-GLD": (8, 0), "TEE-BLK-M": (6, 0)
    }  # fmt: skip


def test_a_resent_945_ships_nothing_twice(net):
    connect(net)
    fo = net.place("WEB-R", LINES)["fulfillment_orders"][0]
    document = by_lx(fo["id"].removeprefix("fo_"))
    assert send(net.provider, x12(WMS, [document]))["sets"][0]["status"] == "accepted"
    again = send(net.provider, x12(WMS, [document]))["sets"][0]  # same control numbers
    assert (again["status"], again["note"]) == ("duplicate", "duplicate, already applied")
    renumbered = send(net.provider, x12(WMS, [document], interchange=2))["sets"][0]
    assert renumbered["status"] == "accepted", renumbered
    assert renumbered["note"] == "every package of this 945 is already recorded"
    assert renumbered["objects"]["shipment_ids"] == []
    assert len(renumbered["objects"]["already_recorded"]) == 2
    after = net.provider.get(f"/v1/fulfillment-orders/{fo['id']}").json()
    assert len(after["shipments"]) == 2 and after["status"] == "closed"
    assert stock(net)["TEE-BLK-M"] == (8, 0)


def test_tracking_and_carrier_per_w12_line(net):
    connect(net)
    fo = net.place("WEB-W", [("TEE-BLK-M", 2), ("CANDLE", 1)])["fulfillment_orders"][0]
    document = advice(
        fo["id"].removeprefix("fo_"),
        [
            ["N9", "2I", "HDR-1"],
            ["W27", "U", "UPSN"],
            ["LX", "1"], w12("TEE-BLK-M", 2, 1, 1), ["N9", "2I", "FX-1"], ["W27", "U", "FDEG"],
            ["LX", "2"], w12("CANDLE", 1, 1, 0),
        ],
        2,
    )  # fmt: skip
    result = send(net.provider, x12(WMS, [document]))["sets"][0]
    assert result["status"] == "accepted", result
    after = net.provider.get(f"/v1/fulfillment-orders/{fo['id']}").json()
    assert parcels(after) == [
        ("FDEG", "FX-1", [{"sku": "TEE-BLK-M", "quantity": 1}]),
        ("UPSN", "HDR-1", [{"sku": "CANDLE", "quantity": 1}]),
    ]
    assert after["status"] == "in_progress"  # one tee is still to ship


def test_a_bad_package_rejects_the_whole_945(net):
    connect(net)
    fo = net.place("WEB-X", [("TEE-BLK-M", 2), ("CANDLE", 1)])["fulfillment_orders"][0]
    document = advice(
        fo["id"].removeprefix("fo_"),
        [
            ["W27", "U", "UPSN"],
            ["LX", "1"], ["MAN", "CP", "P1"], w12("TEE-BLK-M", 2, 2, 0),
            ["LX", "2"], ["MAN", "CP", "P2"], w12("CANDLE", 1, 5, 0),
        ],
        7,
    )  # fmt: skip
    result = send(net.provider, x12(WMS, [document]))["sets"][0]
    assert result["status"] == "rejected"
    problem = result["diagnostics"][-1]
    # ST=1, W06=2, N1=3, W27=4, LX=5, MAN=6, W12=7, LX=8, MAN=9, W12=10: the candle line.
    assert (problem["code"], problem["segment_id"], problem["segment_position"]) == (
        "over_shipment",
        "W12",
        10,
    )
    assert problem["element_position"] == 3
    after = net.provider.get(f"/v1/fulfillment-orders/{fo['id']}").json()
    assert after["shipments"] == [] and after["request_status"] == "submitted"
    assert stock(net)["TEE-BLK-M"] == (10, 2)
