"""Outbound EDI and the folder transport: events become 940/943/945 documents in the
partners' outboxes, partners' 997s acknowledge them, inbox files are received and filed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from midway.db import utcnow
from midway.edi import service as edi
from midway.integrations.edi import parse
from tests.integration.support_network import Network
from tests.integration.test_edi_support import ERP, WMS, connect, mount, order_940, send, x12


@pytest.fixture
def net(client: Any, network: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Network:
    mount(client)
    monkeypatch.setenv("MIDWAY_EDI_ROOT", str(tmp_path))
    return network


def tick(db: Any) -> int:
    with db.transaction() as session:
        return edi.tick(session, utcnow())


def outbox(root: Path, partner_id: str) -> list[Path]:
    folder = root / partner_id / "outbox"
    return sorted(folder.iterdir()) if folder.exists() else []


def acknowledgment(
    group: str, sets: list[tuple[str, str, str]], verdict: str
) -> tuple[str, list[list[str]]]:
    rows: list[list[str]] = [["AK1", "OW", group]]
    for set_id, control, status in sets:
        rows.append(["AK2", set_id, control])
        rows.append(["AK5", status] + (["5"] if status == "R" else []))
    accepted = sum(1 for s in sets if s[2] == "A")
    rows.append(["AK9", verdict, str(len(sets)), str(len(sets)), str(accepted)])
    return "997", rows


def test_submitted_fulfillment_order_goes_out_as_a_940(net, db, tmp_path):
    erp, wms = connect(net)
    order = net.place("WEB-1", [("TEE-BLK-M", 2), ("CANDLE", 1)])
    fo = order["fulfillment_orders"][0]
    assert tick(db) >= 1
    [written] = outbox(tmp_path, wms)
    assert written.name == "940-000000001.edi"
    document = parse(written)
    assert document.clean, document.all_diagnostics()
    interchange = document.interchanges[0]
    assert (interchange.sender, interchange.receiver) == (("ZZ", "MIDWAY"), ("ZZ", WMS))
    [tset] = list(document.sets())
    w05 = tset.segment("W05")
    assert w05 is not None
    assert (w05["W05-01"], w05["W05-02"], w05["W05-03"]) == (
        "N",
        fo["id"].removeprefix("fo_"),
        "WEB-1",
    )
    parties = {loop.trigger[1]: loop for loop in tset.loops("N1")}
    assert parties["ST"].trigger[2] == "Ada Lane"
    n4 = parties["ST"].segment("N4")
    assert n4 is not None
    assert n4.elements[1:5] == ["Austin", "", "78701", "US"]
    assert parties["DE"].trigger[4] == net.merchant.id
    assert parties["WH"].trigger[4] == "KS-CHI"
    lines = [(s[1], s[4], s[5]) for s in tset.walk() if s.id == "W01"]
    assert lines == [(str(ln["quantity"]), "VN", ln["sku"]) for ln in fo["lines"]]
    w76 = tset.segment("W76")
    assert w76 is not None
    assert w76[1] == "3"
    assert outbox(tmp_path, erp) == []
    [sent] = net.provider.get("/v1/edi/documents?direction=out").json()
    assert (sent["set_id"], sent["status"], sent["file_name"]) == ("940", "sent", written.name)
    assert sent["objects"]["fulfillment_order_id"] == fo["id"]
    assert tick(db) == 0 and len(outbox(tmp_path, wms)) == 1  # nothing twice

    body = send(
        net.provider,
        x12(WMS, [acknowledgment(sent["group_control"], [("940", "0001", "A")], "A")]),
    )
    assert body["sets"][0]["status"] == "accepted", body
    [sent] = net.provider.get("/v1/edi/documents?direction=out&set_id=940").json()
    assert (sent["status"], sent["ack_status"]) == ("acknowledged", "A")
    assert sent["ack_document_id"] == body["sets"][0]["document_id"]
    assert body["acknowledgment"] == ""  # acknowledgments are not acknowledged


def test_a_rejecting_997_marks_the_document(net, db, tmp_path):
    connect(net)
    net.place("WEB-2", [("MUG-GLD", 1)])
    tick(db)
    [sent] = net.provider.get("/v1/edi/documents?direction=out").json()
    body = send(
        net.provider,
        x12(
            WMS,
            [
                acknowledgment(
                    sent["group_control"], [("940", sent["set_control"].zfill(4), "R")], "R"
                )
            ],
        ),
    )
    assert body["sets"][0]["status"] == "accepted"
    [sent] = net.provider.get("/v1/edi/documents?direction=out&set_id=940").json()
    assert (sent["status"], sent["ack_status"], sent["ack_codes"]) == ("ack_rejected", "R", ["5"])
    stray = send(net.provider, x12(WMS, [acknowledgment("999", [], "A")], interchange=2))
    assert stray["sets"][0]["diagnostics"][-1]["code"] == "unknown_group"


def test_expected_inbound_goes_out_as_a_943(net, db, tmp_path):
    _erp, wms = connect(net)
    r = net.merchant.post(
        "/v1/inbound-shipments",
        json={
            "facility_code": "KS-CHI",
            "reference": "ASN-42",
            "expected_at": "2026-03-09T12:00:00Z",
            "lines": [{"sku": "CANDLE", "quantity": 20}, {"sku": "GIFT-BOX", "quantity": 4}],
        },
    )
    assert r.status_code == 201, r.text
    tick(db)
    [written] = outbox(tmp_path, wms)
    [tset] = list(parse(written).sets())
    assert tset.id == "943"
    w06 = tset.segment("W06")
    assert w06 is not None
    assert w06[2] == "ASN-42"
    g62 = tset.segment("G62")
    assert g62 is not None
    assert g62.elements[1:3] == ["17", "20260309"]
    assert [(s[1], s[5]) for s in tset.walk() if s.id == "W04"] == [
        ("20", "CANDLE"),
        ("4", "GIFT-BOX"),
    ]
    w03 = tset.segment("W03")
    assert w03 is not None
    assert w03[1] == "24"


def test_shipment_from_the_merchants_own_site_goes_out_as_a_945(net, db, tmp_path):
    erp, _wms = connect(net)
    r = net.merchant.post(
        "/v1/facilities",
        json={
            "code": "NW-STUDIO",
            "name": "Studio",
            "country": "US",
            "timezone": "America/Denver",
        },
    )
    assert r.status_code == 201, r.text
    assert (
        net.merchant.put("/v1/skus/ZINE", json={"name": "Zine", "weight_g": 80}).status_code == 200
    )
    r = net.merchant.post(
        "/v1/inventory/adjustments",
        json={
            "facility_code": "NW-STUDIO",
            "sku": "ZINE",
            "quantity": 5,
            "kind": "receipt",
            "reason": "printed",
        },
    )
    assert r.status_code == 201, r.text
    fo = net.place("WEB-3", [("ZINE", 3)])["fulfillment_orders"][0]
    r = net.merchant.post(
        f"/v1/fulfillment-orders/{fo['id']}/shipments",
        json={
            "carrier": "USPS",
            "tracking_number": "9400100000000000000000",
            "lines": [{"sku": "ZINE", "quantity": 2}],
        },
    )
    assert r.status_code == 201, r.text
    tick(db)
    [written] = outbox(tmp_path, erp)
    document = parse(written)
    assert document.clean, document.all_diagnostics()
    [tset] = list(document.sets())
    assert tset.id == "945"
    w06 = tset.segment("W06")
    assert w06 is not None
    assert w06[2] == "WEB-3"
    assert {n9[1]: n9[2] for n9 in tset.segments("N9")} == {"2I": "9400100000000000000000"}
    w27 = tset.segment("W27")
    assert w27 is not None
    assert w27.elements[1:4] == ["U", "USPS", "USPS"]
    [w12] = [s for s in tset.walk() if s.id == "W12"]
    assert w12.elements[1:5] == ["CP", "3", "2", "1"]
    assert (w12[5], w12[7], w12[8]) == ("EA", "VN", "ZINE")


def test_inbox_files_are_received_and_filed(net, db, tmp_path):
    erp, _wms = connect(net)
    inbox = tmp_path / erp / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "orders-1.edi").write_bytes(x12(ERP, [order_940("F-1", [("TEE-BLK-M", 1)])]))
    (inbox / "orders-2.edi").write_bytes(
        x12(ERP, [order_940("F-2", [("NO-SUCH", 1)])], interchange=2)
    )
    (inbox / "orders-3.edi.part").write_bytes(b"ISA*00*")  # still uploading
    (inbox / "noise.txt").write_bytes(b"this is not X12")
    assert tick(db) == 3
    assert sorted(p.name for p in inbox.iterdir()) == ["orders-3.edi.part"]
    processed = tmp_path / erp / "processed"
    rejected = tmp_path / erp / "rejected"
    assert sorted(p.name for p in processed.iterdir()) == [
        "orders-1.edi",
        "orders-1.edi.diagnostics.json",
    ]
    assert sorted(p.name for p in rejected.iterdir()) == [
        "noise.txt",
        "noise.txt.diagnostics.json",
        "orders-2.edi",
        "orders-2.edi.diagnostics.json",
    ]
    report = json.loads((rejected / "orders-2.edi.diagnostics.json").read_text())
    assert report["status"] == "rejected"
    assert report["sets"][0]["diagnostics"][-1]["code"] == "unknown_sku"
    assert report["acknowledgment_files"] == ["997-000000002.edi"]
    noise = json.loads((rejected / "noise.txt.diagnostics.json").read_text())
    assert noise["sets"] == [] and noise["diagnostics"][0]["severity"] == "error"
    assert noise["diagnostics"][0]["code"] in ("DATA_OUTSIDE_ENVELOPE", "NO_INTERCHANGE")
    acks = {p.name: parse(p) for p in outbox(tmp_path, erp)}
    assert sorted(acks) == ["997-000000001.edi", "997-000000002.edi"]
    verdicts = {
        name: [ak9[1] for s in doc.sets() for ak9 in s.segments("AK9")]
        for name, doc in acks.items()
    }
    assert verdicts == {"997-000000001.edi": ["A"], "997-000000002.edi": ["R"]}
    orders = net.merchant.get("/v1/orders?channel=edi").json()
    assert [o["external_id"] for o in orders] == ["F-1"]
    out = net.merchant.get("/v1/edi/documents?direction=out").json()
    assert sorted(d["file_name"] for d in out) == ["997-000000001.edi", "997-000000002.edi"]


def test_nothing_moves_when_the_transaction_rolls_back(net, db, tmp_path):
    erp, _wms = connect(net)
    inbox = tmp_path / erp / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "orders-1.edi").write_bytes(x12(ERP, [order_940("F-9", [("TEE-BLK-M", 1)])]))

    def crash() -> None:
        with db.transaction() as session:
            assert edi.tick(session, utcnow()) == 1
            raise RuntimeError("the worker died before committing")

    with pytest.raises(RuntimeError):
        crash()
    assert [p.name for p in inbox.iterdir()] == ["orders-1.edi"]
    assert outbox(tmp_path, erp) == []
    assert net.merchant.get("/v1/orders?channel=edi").json() == []
    assert tick(db) == 1
    assert [o["external_id"] for o in net.merchant.get("/v1/orders?channel=edi").json()] == ["F-9"]
