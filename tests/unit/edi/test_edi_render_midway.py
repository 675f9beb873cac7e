"""``midway edi render`` from Midway's own JSON: an order (the body of ``POST /v1/orders``
or the reply of ``GET /v1/orders/{id}``) as a 940, an inbound shipment as a 943."""

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
