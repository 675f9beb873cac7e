"""Midway acting as the warehouse: receipts, adjustments and stock at facilities Midway runs
go out to the merchant's partners as 944, 945, 947 and 846 documents."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from midway import worker
from midway.db import clock_at, utcnow
from midway.edi import service as edi
from midway.edi.cli import app as edi_cli
from midway.integrations.edi import Document, TransactionSet, parse
from midway.integrations.edi.cli import app as engine_cli
from midway.settings import Settings
from tests.integration.support_network import Network
from tests.integration.test_edi_support import ERP, WMS, connect, mount, send, x12


@pytest.fixture
def net(client: Any, network: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Network:
    mount(client)
    monkeypatch.setenv("MIDWAY_EDI_ROOT", str(tmp_path))
    return network


def erp_only(net: Network) -> str:
    """The merchant's ERP as its only partner (the provider works in Midway, no WMS)."""
    r = net.merchant.post("/v1/edi/partners", json={"name": "Northwind ERP", "interchange_id": ERP})
    assert r.status_code == 201, r.text
    partner_id: str = r.json()["id"]
    return partner_id


def tick(db: Any) -> int:
    with db.transaction() as session:
        return edi.tick(session, utcnow())


def written(root: Path, partner_id: str, prefix: str) -> list[Path]:
    folder = root / partner_id / "outbox"
    return sorted(p for p in folder.glob(f"{prefix}-*.edi")) if folder.exists() else []


def one_set(path: Path) -> tuple[Document, TransactionSet]:
    document = parse(path)
    assert document.clean, document.all_diagnostics()
    assert document.all_diagnostics() == []
    [tset] = list(document.sets())
    return document, tset


def texts(tset: TransactionSet) -> list[str]:
    """Every segment between ST and SE as written with ``*``."""
    return ["*".join(s.elements) for s in tset.walk()]


def announce(net: Network, reference: str, lines: list[tuple[str, int]], code: str) -> str:
    r = net.merchant.post(
        "/v1/inbound-shipments",
        json={
            "facility_code": code,
            "reference": reference,
            "lines": [{"sku": s, "quantity": q} for s, q in lines],
        },
    )
    assert r.status_code == 201, r.text
    inbound_id: str = r.json()["id"]
    return inbound_id


def studio(net: Network) -> None:
    """A facility the merchant runs itself, with 5 zines."""
    r = net.merchant.post(
        "/v1/facilities",
        json={"code": "NW-STUDIO", "name": "Studio", "country": "US", "timezone": "UTC"},
    )
    assert r.status_code == 201, r.text
    r = net.merchant.put("/v1/skus/ZINE", json={"name": "Zine", "weight_g": 80})
    assert r.status_code == 200, r.text
    adjust(net.merchant, "NW-STUDIO", "ZINE", 5, "receipt", "printed")


def adjust(actor: Any, code: str, sku: str, quantity: int, kind: str, reason: str, **extra: Any):
    r = actor.post(
        "/v1/inventory/adjustments",
        json={
            "facility_code": code,
            "sku": sku,
            "quantity": quantity,
            "kind": kind,
            "reason": reason,
            **extra,
        },
    )
    assert r.status_code == 201, r.text


# --- 944 ------------------------------------------------------------------------------------------


def test_receipt_at_a_facility_midway_runs_goes_out_as_a_944(net, db, tmp_path):
    erp = erp_only(net)
    inbound_id = announce(net, "ASN-7", [("CANDLE", 20), ("GIFT-BOX", 4)], "KS-CHI")
    r = net.provider.post(
        f"/v1/inbound-shipments/{inbound_id}/receipt",
        json={
            "lines": [
                {"sku": "CANDLE", "received": 18, "damaged": 2},
                {"sku": "GIFT-BOX", "received": 5},
            ]
        },
    )
    assert r.status_code == 200, r.text
    received_at = r.json()["received_at"]
    tick(db)
    [path] = written(tmp_path, erp, "944")
    _doc, tset = one_set(path)
    # CANDLE: 18 counted of which 2 damaged → 16 good, 2 damaged, 20 - 18 = 2 short.
    # GIFT-BOX: 5 counted against 4 → 5 good, 1 over. Totals: 23 received of 24 expected.
    assert texts(tset) == [
        f"W17*F*{received_at[:10].replace('-', '')}*{inbound_id[-12:]}*ASN-7*{inbound_id}**"
        f"{received_at[11:16].replace(':', '')}",
        f"N1*DE*Northwind Goods*ZZ*{net.merchant.id}",
        "N1*WH*Chicago DC*ZZ*KS-CHI",
        "W07*16*EA**VN*CANDLE",
        "W13*2*EA*01",
        "W13*2*EA*02",
        "W07*5*EA**VN*GIFT-BOX",
        "W13*1*EA*03",
        "W14*23*24*2*1*2",
    ]
    [sent] = net.merchant.get("/v1/edi/documents?direction=out&set_id=944").json()
    assert sent["status"] == "sent" and sent["file_name"] == path.name
    assert sent["objects"]["inbound_id"] == inbound_id
    events = net.merchant.get("/v1/events?limit=1000").json()["events"]
    [source] = [e for e in events if e["id"] == sent["objects"]["event_id"]]
    assert (source["type"], source["subject_id"]) == ("inbound.received", inbound_id)


def test_no_944_when_the_providers_wms_runs_the_facility(net, db, tmp_path):
    erp, _wms = connect(net)
    inbound_id = announce(net, "ASN-8", [("CANDLE", 3)], "KS-CHI")
    r = net.provider.post(
        f"/v1/inbound-shipments/{inbound_id}/receipt",
        json={"lines": [{"sku": "CANDLE", "received": 3}]},
    )
    assert r.status_code == 200, r.text
    tick(db)
    assert written(tmp_path, erp, "944") == []


def test_a_receipt_the_merchants_own_system_reported_is_not_echoed(net, db, tmp_path):
    erp = erp_only(net)
    studio(net)
    inbound_id = announce(net, "ASN-9", [("ZINE", 4)], "NW-STUDIO")
    rows = [
        ["W17", "F", "20260301", "R1", "ASN-9"],
        ["N1", "WH", "Studio", "ZZ", "NW-STUDIO"],
        ["W07", "4", "EA", "", "VN", "ZINE"],
        ["W14", "4"],
    ]
    body = send(net.merchant, x12(ERP, [("944", rows)]))
    assert body["sets"][0]["status"] == "accepted", body
    r = net.merchant.get(f"/v1/inbound-shipments/{inbound_id}")
    assert r.json()["status"] == "received"
    tick(db)
    assert written(tmp_path, erp, "944") == []


def test_a_shipment_by_a_provider_without_a_wms_goes_out_as_a_945(net, db, tmp_path):
    erp = erp_only(net)
    fo = net.place("WEB-945", [("CANDLE", 2)])["fulfillment_orders"][0]
    assert net.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept").status_code == 200
    r = net.provider.post(
        f"/v1/fulfillment-orders/{fo['id']}/shipments",
        json={"carrier": "UPSN", "tracking_number": "1ZHUB", "lines": [{"sku": "CANDLE",
              "quantity": 2}]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    tick(db)
    [path] = written(tmp_path, erp, "945")
    _doc, tset = one_set(path)
    w06 = tset.segment("W06")
    assert w06 is not None
    assert w06[2] == "WEB-945"
    assert [t for t in texts(tset) if t.startswith(("N9", "W12", "W03"))] == [
        "N9*2I*1ZHUB",
        "W12*CC*2*2*0*EA**VN*CANDLE",
        "W03*2",
    ]


def test_a_shipment_the_merchants_own_system_reported_is_not_echoed(net, db, tmp_path):
    erp = erp_only(net)
    studio(net)  # the merchant's own site: its ERP's 945 ships there
    order = net.place("WEB-ECHO", [("ZINE", 3)])
    [fo] = order["fulfillment_orders"]
    assert fo["facility_code"] == "NW-STUDIO", fo
    rows = [
        ["W06", "F", "WEB-ECHO", "20260301", "SHIP-1"],
        ["N1", "SF", "Studio"],
        ["N9", "2I", "1ZECHO"],
        ["W27", "U", "UPSN", "UPS"],
        ["LX", "1"],
        ["W12", "CC", "3", "3", "0", "EA", "", "VN", "ZINE"],
        ["W03", "3"],
    ]
    body = send(net.merchant, x12(ERP, [("945", rows)]))
    assert body["sets"][0]["status"] == "accepted", str(body["sets"][0])
    shipped = net.merchant.get(f"/v1/fulfillment-orders/{fo['id']}").json()
    assert [(s["carrier"], s["tracking_number"]) for s in shipped["shipments"]] == [
        ("UPSN", "1ZECHO")
    ]
    events = net.merchant.get("/v1/events?limit=1000").json()["events"]
    [event] = [e for e in events if e["type"] == "fulfillment_order.shipment_created"]
    [received] = net.merchant.get("/v1/edi/documents?direction=in&set_id=945").json()
    assert event["data"]["source"] == received["id"]
    tick(db)
    assert written(tmp_path, erp, "945") == []


def test_a_shipment_recorded_in_midway_at_the_merchants_site_goes_to_its_erp(net, db, tmp_path):
    erp = erp_only(net)
    studio(net)
    # An external id longer than W06-02's 22 characters: the 945 names the fulfillment order
    # as the 940 does, its id without "fo_" (20 characters).
    external = "WEB-OWN-2026-03-01-000001"
    [fo] = net.place(external, [("ZINE", 3)])["fulfillment_orders"]
    r = net.merchant.post(
        f"/v1/fulfillment-orders/{fo['id']}/shipments",
        json={"carrier": "USPS", "tracking_number": "9400OWN", "lines": [{"sku": "ZINE",
              "quantity": 1}]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    [parcel] = r.json()["shipments"]
    shipped_on = parcel["shipped_at"][:10].replace("-", "")
    tick(db)
    [path] = written(tmp_path, erp, "945")
    _doc, tset = one_set(path)
    # 3 ordered, 1 shipped now, 2 left: a partial line (CP).
    assert [t for t in texts(tset) if t.startswith(("W06", "N9", "W27", "W12", "W03"))] == [
        f"W06*F*{fo['id'].removeprefix('fo_')}*{shipped_on}*{parcel['id']}",
        "N9*2I*9400OWN",
        "W27*U*USPS*USPS",
        "W12*CP*3*1*2*EA**VN*ZINE",
        "W03*1",
    ]


def test_each_945_says_what_was_left_after_its_own_parcel(net, db, tmp_path):
    erp = erp_only(net)
    [fo] = net.place("WEB-TWO", [("CANDLE", 3)])["fulfillment_orders"]
    assert net.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept").status_code == 200
    for tracking, units in (("1ZONE", 1), ("1ZTWO", 2)):  # both before the worker runs
        r = net.provider.post(
            f"/v1/fulfillment-orders/{fo['id']}/shipments",
            json={"carrier": "UPSN", "tracking_number": tracking,
                  "lines": [{"sku": "CANDLE", "quantity": units}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    tick(db)
    first, second = (one_set(p)[1] for p in written(tmp_path, erp, "945"))
    # 3 ordered: the first parcel leaves 2 (CP), the second 0 (CC).
    assert [t for t in texts(first) if t.startswith(("N9", "W12"))] == [
        "N9*2I*1ZONE",
        "W12*CP*3*1*2*EA**VN*CANDLE",
    ]
    assert [t for t in texts(second) if t.startswith(("N9", "W12"))] == [
        "N9*2I*1ZTWO",
        "W12*CC*3*2*0*EA**VN*CANDLE",
    ]


def test_edi_render_of_the_api_reply_matches_the_945_midway_sent(net, db, tmp_path):
    erp = erp_only(net)
    [fo] = net.place("WEB-REN", [("CANDLE", 3), ("MUG-GLD", 1)])["fulfillment_orders"]
    assert net.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept").status_code == 200
    r = net.provider.post(
        f"/v1/fulfillment-orders/{fo['id']}/shipments",
        json={"carrier": "UPSN", "tracking_number": "1ZREN", "lines": [{"sku": "CANDLE",
              "quantity": 2}]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    tick(db)
    [path] = written(tmp_path, erp, "945")
    _doc, sent = one_set(path)
    reply = net.merchant.get(f"/v1/fulfillment-orders/{fo['id']}").json()
    source = tmp_path / "shipment.json"
    source.write_text(json.dumps(reply), encoding="utf-8")
    profile = tmp_path / "erp.toml"
    profile.write_text('name = "erp"\nsender_id = "MIDWAY"\nreceiver_id = "NWERP"\n')
    args = ["render", "--set", "945", "--from", str(source), "--partner", str(profile)]
    result = CliRunner().invoke(engine_cli, args)
    assert result.exit_code == 0, result.stderr
    [rendered] = list(parse(result.stdout.encode()).sets())
    # Same parcel, same segments: CANDLE 3 ordered, 2 shipped, 1 left.
    assert texts(rendered) == texts(sent)
    assert "W12*CP*3*2*1*EA**VN*CANDLE" in texts(sent)


# --- 947 ------------------------------------------------------------------------------------------


def test_adjustments_at_the_merchants_own_site_go_out_as_947s(net, db, tmp_path):
    erp = erp_only(net)
    studio(net)  # a receipt: no 947
    adjust(net.merchant, "NW-STUDIO", "ZINE", -2, "adjustment", "damaged_in_facility")
    adjust(net.merchant, "NW-STUDIO", "ZINE", 1, "count", "cycle count", reference="CC-1")
    adjust(net.merchant, "NW-STUDIO", "ZINE", -1, "adjustment", "lost in aisle 3")
    adjust(net.merchant, "NW-STUDIO", "ZINE", 2, "adjustment", "x12_53")
    tick(db)
    paths = written(tmp_path, erp, "947")
    assert len(paths) == 4
    sent = {
        d["file_name"]: d
        for d in net.merchant.get("/v1/edi/documents?direction=out&set_id=947").json()
    }
    found = []
    for path in paths:
        _doc, tset = one_set(path)
        segments = texts(tset)
        event_id = sent[path.name]["objects"]["event_id"]
        w15 = tset.segment("W15")
        assert w15 is not None
        assert w15[2] == event_id.removeprefix("evt_")
        assert segments[1:3] == [
            "N1*WH*Studio*ZZ*NW-STUDIO",
            f"N1*DE*Northwind Goods*ZZ*{net.merchant.id}",
        ]
        found.append((w15.elements[3:], segments[3:]))
    assert found == [
        ([], ["NTE**adjustment: damaged_in_facility", "W19*AU*-2*EA**VN*ZINE"]),
        (["CC-1"], ["NTE**count: cycle count", "W19*AA*1*EA**VN*ZINE"]),
        ([], ["NTE**adjustment: lost in aisle 3", "W19*AH*-1*EA**VN*ZINE"]),
        ([], ["NTE**adjustment: x12_53", "W19*53*2*EA**VN*ZINE"]),
    ]


def test_an_adjustment_the_merchants_own_system_reported_is_not_echoed(net, db, tmp_path):
    erp = erp_only(net)
    studio(net)
    rows = [
        ["W15", "20260301", "ADJ-1"],
        ["N1", "WH", "Studio", "ZZ", "NW-STUDIO"],
        ["W19", "AU", "1", "EA", "", "VN", "ZINE"],
    ]
    body = send(net.merchant, x12(ERP, [("947", rows)]))
    assert body["sets"][0]["status"] == "accepted", body
    tick(db)
    assert written(tmp_path, erp, "947") == []
    [balance] = net.merchant.get("/v1/inventory?facility_code=NW-STUDIO").json()
    assert balance["on_hand"] == 4


def test_adjustments_by_a_provider_with_a_wms_are_not_sent(net, db, tmp_path):
    erp, _wms = connect(net)
    adjust(
        net.provider, "KS-CHI", "CANDLE", -1, "adjustment", "destroyed", merchant_id=net.merchant.id
    )
    tick(db)
    assert written(tmp_path, erp, "947") == []


# --- 846 ------------------------------------------------------------------------------------------


def expected_846(net: Network) -> list[str]:
    # 10 of every SKU at KS-CHI; the order of 2 TEE-BLK-M reserves 2 of them.
    return [
        "N1*WH*Chicago DC*ZZ*KS-CHI",
        f"N1*DE*Northwind Goods*ZZ*{net.merchant.id}",
        "LIN**VN*CANDLE",
        "QTY*17*10*EA",
        "QTY*33*10*EA",
        "LIN**VN*GIFT-BOX",
        "QTY*17*10*EA",
        "QTY*33*10*EA",
        "LIN**VN*MUG-GLD",
        "QTY*17*10*EA",
        "QTY*33*10*EA",
        "LIN**VN*TEE-BLK-M",
        "QTY*17*10*EA",
        "QTY*33*8*EA",
        "CTT*4*40",
    ]


def test_inventory_advice_on_demand(net, db, tmp_path):
    erp = erp_only(net)
    net.place("WEB-846", [("TEE-BLK-M", 2)])
    r = net.merchant.post("/v1/edi/inventory-advice", json={"facility_code": "KS-CHI"})
    assert r.status_code == 201, r.text
    [sent] = r.json()
    assert (sent["set_id"], sent["status"], sent["partner_id"]) == ("846", "sent", erp)
    assert sent["objects"]["trigger"] == "request"
    assert sent["objects"]["skus"] == 4 and sent["objects"]["ledger_through"] > 0
    [path] = written(tmp_path, erp, "846")
    assert path.name == sent["file_name"]
    _doc, tset = one_set(path)
    bia = tset.segment("BIA")
    assert bia is not None
    assert bia.elements[1:3] == ["00", "SI"] and bia[3].startswith("KS-CHI-")
    assert texts(tset)[1:] == expected_846(net)


def test_inventory_advice_bad_requests(net, db, tmp_path):
    r = net.merchant.post("/v1/edi/inventory-advice", json={"facility_code": "KS-CHI"})
    assert r.status_code == 404 and r.json()["code"] == "no_edi_partner", r.text
    erp_only(net)
    r = net.merchant.post("/v1/edi/inventory-advice", json={"facility_code": "NOWHERE"})
    assert r.status_code == 404, r.text
    assert r.json()["field"] == "facility_code" and "NOWHERE" in r.json()["detail"]
    r = net.merchant.post(
        "/v1/edi/inventory-advice", json={"facility_code": "KS-CHI", "partner_id": "edp_nope"}
    )
    assert r.status_code == 404 and "edp_nope" in r.json()["detail"], r.text
    r = net.provider.post("/v1/edi/inventory-advice", json={"facility_code": "KS-CHI"})
    assert r.status_code == 403, r.text
    assert written(tmp_path, "", "846") == []


def test_inventory_advice_from_the_command_line(net, db, tmp_path):
    erp = erp_only(net)
    runner = CliRunner()
    args = ["inventory-advice", "--merchant", net.merchant.id, "--facility", "KS-CHI"]
    r = runner.invoke(edi_cli, [*args, "--database-url", db.url], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    [path] = written(tmp_path, erp, "846")
    assert r.stdout.strip() == f"846 for partner {erp}: sent ({path.name})"
    r = runner.invoke(
        edi_cli, [*args, "--partner", "edp_nope", "--database-url", db.url], catch_exceptions=False
    )
    assert r.exit_code != 0 and "no EDI partner edp_nope" in r.stderr


def test_the_worker_sends_an_846_once_per_interval(net, db, tmp_path):
    erp = erp_only(net)
    net.place("WEB-847", [("TEE-BLK-M", 2)])
    settings = Settings(database_url=db.url, edi_inventory_advice_hours=24)
    worker._last_run.clear()
    worker.run_jobs(db, settings, worker.WorkerStats())
    [path] = written(tmp_path, erp, "846")
    _doc, tset = one_set(path)
    assert texts(tset)[1:] == expected_846(net)
    worker._last_run.clear()
    worker.run_jobs(db, settings, worker.WorkerStats())
    assert len(written(tmp_path, erp, "846")) == 1  # not due again for a day
    with clock_at(utcnow() + timedelta(hours=25)):
        worker._last_run.clear()
        worker.run_jobs(db, settings, worker.WorkerStats())
    assert len(written(tmp_path, erp, "846")) == 2
    [first, second] = net.merchant.get("/v1/edi/documents?direction=out&set_id=846").json()
    assert first["objects"]["trigger"] == second["objects"]["trigger"] == "schedule"
    worker._last_run.clear()


def test_no_periodic_846_for_a_facility_a_wms_runs(net, db, tmp_path):
    erp, _wms = connect(net)
    settings = Settings(database_url=db.url, edi_inventory_advice_hours=24)
    worker._last_run.clear()
    worker.run_jobs(db, settings, worker.WorkerStats())
    worker._last_run.clear()
    assert written(tmp_path, erp, "846") == []


def test_no_846_on_demand_for_a_facility_a_wms_runs(net, db, tmp_path):
    erp, wms = connect(net)  # the provider's WMS serves KS-CHI, where the stock is
    r = net.merchant.post("/v1/edi/inventory-advice", json={"facility_code": "KS-CHI"})
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "facility_run_by_edi_partner"
    assert problem["field"] == "facility_code" and "'KS-CHI'" in problem["detail"]
    r = net.merchant.post(
        "/v1/edi/inventory-advice", json={"facility_code": "KS-CHI", "partner_id": erp}
    )
    assert r.status_code == 409 and r.json()["code"] == "facility_run_by_edi_partner", r.text
    runner = CliRunner()
    args = ["inventory-advice", "--merchant", net.merchant.id, "--facility", "KS-CHI"]
    r = runner.invoke(edi_cli, [*args, "--database-url", db.url], catch_exceptions=False)
    assert r.exit_code == 5 and "run through its operator's EDI system" in r.stderr, r.output
    assert written(tmp_path, erp, "846") == written(tmp_path, wms, "846") == []
    assert net.merchant.get("/v1/edi/documents?direction=out&set_id=846").json() == []


def test_wms_partner_gets_nothing_but_its_own_documents(net, db, tmp_path):
    _erp, wms = connect(net)
    inbound_id = announce(net, "ASN-10", [("CANDLE", 2)], "KS-CHI")
    rows = [
        ["W17", "F", "20260301", "R1", "ASN-10"],
        ["N1", "WH", "Chicago DC", "ZZ", "KS-CHI"],
        ["W07", "2", "EA", "", "VN", "CANDLE"],
        ["W14", "2"],
    ]
    body = send(net.provider, x12(WMS, [("944", rows)]))
    assert body["sets"][0]["status"] == "accepted", body
    assert net.merchant.get(f"/v1/inbound-shipments/{inbound_id}").json()["status"] == "received"
    tick(db)
    assert written(tmp_path, wms, "944") == []
