"""``midway edi render`` from Midway's own JSON: an order (the body of ``POST /v1/orders``
or the reply of ``GET /v1/orders/{id}``) as a 940, an inbound shipment as a 943, a shipment
with its fulfillment order as a 945."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from midway.integrations.edi import parse
from midway.integrations.edi.cli import app

runner = CliRunner()

ORDER: dict[str, Any] = {
    "channel": "web",
    "external_id": "WEB-1001",
    "ship_to": {
        "name": "Ada Lane",
        "company": "Lane & Co",
        "address1": "1 Main St",
        "address2": "Suite 4",
        "city": "Austin",
        "region": "TX",
        "postal_code": "78701",
        "country": "US",
        "phone": "5125550100",
    },
    "lines": [{"sku": "TEE-BLK-M", "quantity": 2}, {"sku": "MUG-GLD", "quantity": 1}],
    "ship_by": "2026-03-10T23:59:59Z",
}
SHIP_TO_SEGMENTS = [
    "N1*ST*Ada Lane",
    "N2*Lane & Co",
    "N3*1 Main St*Suite 4",
    "N4*Austin*TX*78701*US",
    "PER*IC**TE*5125550100",
]


def partner(tmp_path: Path) -> Path:
    path = tmp_path / "acme.toml"
    path.write_text('name = "acme"\nsender_id = "MIDWAY"\nreceiver_id = "ACME3PL"\n')
    return path


def render(tmp_path: Path, data: object, set_id: str = "940", *extra: str) -> Any:
    source = tmp_path / "input.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    args = ["render", "--set", set_id, "--from", str(source), "--partner", str(partner(tmp_path))]
    return runner.invoke(app, [*args, *extra])


def body(text: str) -> list[str]:
    document = parse(text.encode())
    assert document.all_diagnostics() == []
    [tset] = list(document.sets())
    assert document.interchanges[0].receiver == ("ZZ", "ACME3PL")
    return ["*".join(s.elements) for s in tset.walk()]


def test_an_order_body_renders_as_a_940(tmp_path: Path) -> None:
    result = render(tmp_path, ORDER)
    assert result.exit_code == 0, result.stderr
    assert body(result.stdout) == [
        "W05*N*WEB-1001",
        *SHIP_TO_SEGMENTS,
        "G62*10*20260310",
        "LX*1",
        "W01*2*EA**VN*TEE-BLK-M",
        "LX*2",
        "W01*1*EA**VN*MUG-GLD",
        "W76*3",
    ]


def test_an_order_reply_asks_for_what_is_left(tmp_path: Path) -> None:
    reply = {
        **ORDER,
        "id": "ord_0123456789abcdef0123",
        "status": "partially_shipped",
        "ship_by": None,
        "lines": [
            {"id": "orl_1", "line_no": 1, "sku": "TEE-BLK-M", "quantity": 3,
             "shipped_quantity": 1, "cancelled_quantity": 0, "reserved_quantity": 2},
            {"id": "orl_2", "line_no": 2, "sku": "MUG-GLD", "quantity": 1,
             "shipped_quantity": 0, "cancelled_quantity": 1, "reserved_quantity": 0},
            {"id": "orl_3", "line_no": 3, "sku": "CANDLE", "quantity": 4,
             "shipped_quantity": 0, "cancelled_quantity": 0, "reserved_quantity": 4},
        ],
        "fulfillment_orders": [],
        "sourcing": [],
    }  # fmt: skip
    result = render(tmp_path, reply, "940", "--item-qualifier", "SK")
    assert result.exit_code == 0, result.stderr
    # TEE-BLK-M: 3 ordered - 1 shipped = 2; MUG-GLD cancelled (nothing); CANDLE 4.
    assert body(result.stdout) == [
        "W05*N*WEB-1001",
        *SHIP_TO_SEGMENTS,
        "LX*1",
        "W01*2*EA**SK*TEE-BLK-M",
        "LX*3",
        "W01*4*EA**SK*CANDLE",
        "W76*6",
    ]


def test_an_inbound_shipment_renders_as_a_943(tmp_path: Path) -> None:
    shipment = {
        "facility_code": "KS-CHI",
        "reference": "ASN-42",
        "carrier": "UPS",
        "expected_at": "2026-03-09T12:00:00Z",
        "lines": [{"sku": "CANDLE", "quantity": 20}, {"sku": "GIFT-BOX", "quantity": 4}],
    }
    before = datetime.now(UTC).strftime("%Y%m%d")
    result = render(tmp_path, shipment, "943")
    after = datetime.now(UTC).strftime("%Y%m%d")
    assert result.exit_code == 0, result.stderr
    segments = body(result.stdout)
    assert segments[0] in (f"W06*F*ASN-42*{before}", f"W06*F*ASN-42*{after}")
    assert segments[1:] == [
        "N1*WH*KS-CHI*ZZ*KS-CHI",
        "G62*17*20260309",
        "W27*M**UPS",
        "W04*20*EA**VN*CANDLE",
        "W04*4*EA**VN*GIFT-BOX",
        "W03*24",
    ]


def test_an_order_with_a_missing_field_names_it(tmp_path: Path) -> None:
    no_city = {**ORDER, "ship_to": {k: v for k, v in ORDER["ship_to"].items() if k != "city"}}
    result = render(tmp_path, no_city)
    assert result.exit_code == 2
    assert "input.json is not a usable Midway order: field ship_to.city: is missing" in (
        result.stderr
    )
    assert result.stdout == ""
    no_quantity = {**ORDER, "lines": [ORDER["lines"][0], {"sku": "MUG-GLD"}]}
    result = render(tmp_path, no_quantity)
    assert result.exit_code == 2 and "field lines[1].quantity: is missing" in result.stderr
    long_id = {**ORDER, "external_id": "X" * 23}
    result = render(tmp_path, long_id)
    assert result.exit_code == 2 and "field external_id:" in result.stderr
    assert "longer than the 22 characters" in result.stderr
    no_channel = {k: v for k, v in ORDER.items() if k != "channel"}
    result = render(tmp_path, no_channel)
    assert result.exit_code == 2 and "field channel: is missing" in result.stderr


def test_json_that_is_neither_form_is_refused(tmp_path: Path) -> None:
    result = render(tmp_path, {"sku": "TEE-BLK-M"})
    assert result.exit_code == 2
    assert "input.json is neither typed X12 JSON" in result.stderr
    result = render(tmp_path, ORDER, "943")
    assert result.exit_code == 2 and "a Midway order renders as a 940, not 943" in result.stderr
    result = render(tmp_path, ORDER, "940", "--input", "typed")
    assert result.exit_code == 1 and "holds no 940 set" in result.stderr
    result = render(tmp_path, ORDER, "940", "--input", "csv")
    assert result.exit_code == 2 and "--input is auto, typed, order, inbound" in result.stderr


def test_an_unknown_partner_is_named(tmp_path: Path) -> None:
    source = tmp_path / "order.json"
    source.write_text(json.dumps(ORDER), encoding="utf-8")
    result = runner.invoke(
        app, ["render", "--set", "940", "--from", str(source), "--partner", "nosuch"]
    )
    assert result.exit_code == 2
    assert "no partner profile 'nosuch'" in result.stderr


# --- 945: a shipment with its fulfillment order -------------------------------------------------

FIRST = {
    "id": "shp_first",
    "carrier": "UPSN",
    "tracking_number": "1ZFIRST",
    "lines": [{"sku": "TEE-BLK-M", "quantity": 1}, {"sku": "CANDLE", "quantity": 4}],
    "shipped_at": "2026-03-02T15:00:00Z",
    "delivered_at": None,
    "carrier_charge": None,
    "currency": None,
}
# The reply of GET /v1/fulfillment-orders/{id} after the first parcel: TEE-BLK-M 1 of 3 shipped,
# MUG-GLD 1 of 2 released (cancelled), CANDLE 4 of 4 shipped.
FO: dict[str, Any] = {
    "id": "fo_0123456789abcdef0123",
    "order_id": "ord_0123456789abcdef0123",
    "merchant_id": "mer_1",
    "provider_id": "prv_1",
    "facility_code": "KS-CHI",
    "agreement_id": "agr_1",
    "agreement_version": 1,
    "status": "in_progress",
    "request_status": "accepted",
    "supported_actions": ["hold", "ship", "close"],
    "channel": "web",
    "external_id": "WEB-1001",
    "ship_to": ORDER["ship_to"],
    "rejection_reason": None,
    "rejection_message": None,
    "holds": [],
    "lines": [
        {"id": "fol_1", "order_line_id": "orl_1", "sku": "TEE-BLK-M", "quantity": 3,
         "shipped_quantity": 1, "released_quantity": 0, "remaining_quantity": 2},
        {"id": "fol_2", "order_line_id": "orl_2", "sku": "MUG-GLD", "quantity": 2,
         "shipped_quantity": 0, "released_quantity": 1, "remaining_quantity": 1},
        {"id": "fol_3", "order_line_id": "orl_3", "sku": "CANDLE", "quantity": 4,
         "shipped_quantity": 4, "released_quantity": 0, "remaining_quantity": 0},
    ],
    "shipments": [FIRST],
    "created_at": "2026-03-01T10:00:00Z",
    "updated_at": "2026-03-02T15:00:00Z",
}  # fmt: skip
PARCEL = {
    "carrier": "FedEx Ground",
    "tracking_number": "771200",
    "lines": [{"sku": "TEE-BLK-M", "quantity": 2}, {"sku": "MUG-GLD", "quantity": 1}],
}
SECOND = {**PARCEL, "id": "shp_second", "carrier": "FDEG", "shipped_at": "2026-03-03T09:30:00Z"}
# The same fulfillment order once the second parcel is recorded (the reply of its POST).
FO_CLOSED: dict[str, Any] = {
    **FO,
    "status": "closed",
    "lines": [
        {**FO["lines"][0], "shipped_quantity": 3, "remaining_quantity": 0},
        {**FO["lines"][1], "shipped_quantity": 1, "remaining_quantity": 0},
        FO["lines"][2],
    ],
    "shipments": [FIRST, SECOND],
}
HEAD_945 = ["N1*ST*Ada Lane", "N1*SF*KS-CHI"]


def sets(text: str) -> list[list[str]]:
    document = parse(text.encode())
    assert document.all_diagnostics() == []
    return [["*".join(s.elements) for s in tset.walk()] for tset in document.sets()]


def test_a_new_parcel_renders_as_a_945(tmp_path: Path) -> None:
    before = datetime.now(UTC).strftime("%Y%m%d")
    result = render(tmp_path, {"fulfillment_order": FO, "shipment": PARCEL}, "945")
    after = datetime.now(UTC).strftime("%Y%m%d")
    assert result.exit_code == 0, result.stderr
    [segments] = sets(result.stdout)
    # Not recorded yet: no shipment id, shipped today. TEE-BLK-M: 3 ordered, 1 shipped before,
    # 2 now, 0 left (CC). MUG-GLD: 2 ordered, 1 released, 1 now, 0 left (CC).
    assert segments[0] in (f"W06*F*WEB-1001*{before}", f"W06*F*WEB-1001*{after}")
    assert segments[1:] == [
        *HEAD_945,
        "N9*2I*771200",
        "W27*U**FedEx Ground",  # not a SCAC: only the free-text routing
        "LX*1",
        "W12*CC*3*2*0*EA**VN*TEE-BLK-M",
        "LX*2",
        "W12*CC*2*1*0*EA**VN*MUG-GLD",
        "W03*3",
    ]


FIRST_945 = [
    "W06*F*WEB-1001*20260302*shp_first",
    *HEAD_945,
    "N9*2I*1ZFIRST",
    "W27*U*UPSN*UPSN",
    "LX*1",
    "W12*CP*3*1*2*EA**VN*TEE-BLK-M",  # 2 of 3 still to ship after this parcel
    "LX*2",
    "W12*CC*4*4*0*EA**VN*CANDLE",
    "W03*5",
]


def test_a_reply_renders_one_945_per_recorded_parcel(tmp_path: Path) -> None:
    result = render(tmp_path, FO_CLOSED, "945", "--input", "shipment")
    assert result.exit_code == 0, result.stderr
    first, second = sets(result.stdout)
    assert first == FIRST_945
    assert second == [
        "W06*F*WEB-1001*20260303*shp_second",
        *HEAD_945,
        "N9*2I*771200",
        "W27*U*FDEG*FDEG",
        "LX*1",
        "W12*CC*3*2*0*EA**VN*TEE-BLK-M",
        "LX*2",
        "W12*CC*2*1*0*EA**VN*MUG-GLD",
        "W03*3",
    ]


def test_a_recorded_parcel_named_in_shipment_is_rendered_as_it_was(tmp_path: Path) -> None:
    # The reply now counts both parcels; the first one's W12 still says what was left then.
    result = render(tmp_path, {"fulfillment_order": FO_CLOSED, "shipment": FIRST}, "945")
    assert result.exit_code == 0, result.stderr
    assert sets(result.stdout) == [FIRST_945]


def test_a_long_external_id_is_replaced_by_the_fulfillment_order_id(tmp_path: Path) -> None:
    fo = {**FO, "external_id": "WEB-2026-03-01-0000000001"}  # 25 characters: W06-02 holds 22
    result = render(tmp_path, {"fulfillment_order": fo, "shipment": PARCEL}, "945")
    assert result.exit_code == 0, result.stderr
    [segments] = sets(result.stdout)
    assert segments[0].startswith("W06*F*0123456789abcdef0123*")


def test_a_bad_shipment_names_its_field(tmp_path: Path) -> None:
    def refused(data: object, message: str) -> None:
        result = render(tmp_path, data, "945")
        assert result.exit_code == 2, result.stdout
        assert "input.json is not a usable Midway shipment: field " + message in result.stderr
        assert result.stdout == ""

    refused(PARCEL, "fulfillment_order: is missing: a 945 also needs the order's external id")
    hat = {**PARCEL, "lines": [PARCEL["lines"][0], {"sku": "HAT", "quantity": 1}]}
    refused(
        {"fulfillment_order": FO, "shipment": hat},
        "shipment.lines[1].sku: 'HAT' is not on the fulfillment order (fulfillment_order.lines)",
    )
    three = {**PARCEL, "lines": [{"sku": "TEE-BLK-M", "quantity": 3}]}
    refused(
        {"fulfillment_order": FO, "shipment": three},
        "shipment.lines[0].quantity: 3 unit(s) of 'TEE-BLK-M' but only 2 are left to ship",
    )
    twice = {**PARCEL, "lines": [{"sku": "MUG-GLD", "quantity": 1}] * 2}
    refused(
        {"fulfillment_order": FO, "shipment": twice},
        "shipment.lines[1].sku: 'MUG-GLD' is listed twice (also lines[0])",
    )
    untracked = {k: v for k, v in PARCEL.items() if k != "tracking_number"}
    refused(
        {"fulfillment_order": FO, "shipment": untracked}, "shipment.tracking_number: is missing"
    )
    nowhere = {**FO, "facility_code": None}
    refused(
        {"fulfillment_order": nowhere, "shipment": PARCEL},
        "fulfillment_order.facility_code: is missing",
    )
    refused(
        {"fulfillment_order": FO, "shipment": {**PARCEL, "id": "shp_nope"}},
        "shipment.id: 'shp_nope' is not among fulfillment_order.shipments",
    )
    refused({**FO, "shipments": []}, "shipments: is empty: nothing was shipped")
    result = render(tmp_path, {"fulfillment_order": FO, "shipment": PARCEL}, "940")
    assert result.exit_code == 2 and "a Midway shipment renders as a 945, not 940" in result.stderr


def test_an_inbound_reply_without_a_facility_code_says_how_to_add_it(tmp_path: Path) -> None:
    reply = {
        "id": "inb_1",
        "reference": "ASN-42",
        "facility_id": "fac_0123",
        "status": "expected",
        "carrier": None,
        "lines": [{"sku": "CANDLE", "expected_quantity": 20, "received_quantity": 0}],
    }
    result = render(tmp_path, reply, "943")
    assert result.exit_code == 2
    assert (
        "field facility_code: is missing: an inbound shipment reply names its facility by "
        "facility_id only"
    ) in result.stderr
    result = render(tmp_path, {**reply, "facility_code": "KS-CHI"}, "943")
    assert result.exit_code == 0, result.stderr
    assert body(result.stdout)[1:] == [
        "N1*WH*KS-CHI*ZZ*KS-CHI",
        "W27*M",
        "W04*20*EA**VN*CANDLE",
        "W03*20",
    ]
