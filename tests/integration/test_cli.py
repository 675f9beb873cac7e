"""The operator CLI against a real SQLite file: parties, keys, SKU and order imports."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from midway.cli import app
from midway.db import Database
from midway.facilities import service as facilities
from midway.principal import Principal
from midway.schema import upgrade

runner = CliRunner()


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    return url


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_party_create_prints_id_and_key_as_json(url):
    r = invoke(
        "party", "create", "--kind", "merchant", "--name", "Acme", "--json", "--database-url", url
    )
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["id"].startswith("pty_") and body["api_key"].startswith("mw_")
    r = invoke("party", "create", "--kind", "robot", "--name", "X", "--database-url", url)
    assert r.exit_code == 2
    assert "kind" in r.output


def test_imports_report_bad_rows_by_line(url, tmp_path):
    r = invoke(
        "party", "create", "--kind", "merchant", "--name", "Acme", "--json", "--database-url", url
    )
    merchant = json.loads(r.stdout)["id"]
    skus = tmp_path / "skus.csv"
    skus.write_text(
        "sku,name,weight_g,tags,components\nA-1,Alpha,100,premium;fragile,\nB-2,Beta,oops,,\n"
    )
    r = invoke("skus", "import", str(skus), "--merchant", merchant, "--database-url", url)
    assert r.exit_code == 2 and "line 3" in r.output
    skus.write_text(
        "sku,name,weight_g,tags,components\nA-1,Alpha,100,premium;fragile,\n"
        "B-2,Beta,50,,\nK-3,Kit,0,kit,A-1:2;B-2:1\n"
    )
    r = invoke("skus", "import", str(skus), "--merchant", merchant, "--database-url", url)
    assert r.exit_code == 0, r.output
    assert "created 3" in r.output

    db = Database(url)
    owner = Principal(merchant, "merchant", "admin")
    with db.transaction() as session:
        facilities.create_facility(
            session,
            owner,
            facilities.FacilityInput(
                code="ROOM",
                name="Room",
                country="US",
                timezone="America/New_York",
                kind="stockroom",
            ),
        )
    from midway.inventory import service as inventory

    with db.transaction() as session:
        inventory.post(
            session,
            owner,
            facility_code="ROOM",
            sku="A-1",
            quantity=100,
            kind="receipt",
            reason="receipt",
            reference=None,
            merchant_id=None,
        )
    ship_to = {"name": "N", "address1": "A", "city": "C", "postal_code": "1", "country": "US"}
    lines = [
        json.dumps(
            {
                "channel": "web",
                "external_id": "1",
                "ship_to": ship_to,
                "lines": [{"sku": "A-1", "quantity": 2}],
            }
        ),
        "{not json",
        json.dumps(
            {
                "channel": "web",
                "external_id": "2",
                "ship_to": ship_to,
                "lines": [{"sku": "ZZ", "quantity": 1}],
            }
        ),
        json.dumps(
            {
                "channel": "web",
                "external_id": "3",
                "ship_to": ship_to,
                "lines": [{"sku": "A-1", "quantity": -1}],
            }
        ),
        json.dumps(
            {
                "channel": "web",
                "external_id": "1",
                "ship_to": ship_to,
                "lines": [{"sku": "A-1", "quantity": 1}],
            }
        ),
        json.dumps(
            {
                "channel": "web",
                "external_id": "4",
                "ship_to": ship_to,
                "lines": [{"sku": "K-3", "quantity": 1}],
            }
        ),
    ]
    orders = tmp_path / "orders.jsonl"
    orders.write_text("\n".join(lines) + "\n")
    r = invoke(
        "orders", "import", str(orders), "--merchant", merchant, "--json", "--database-url", url
    )
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    assert report["accepted"] == 2
    rejected = {x["line"]: x for x in report["rejections"]}
    assert set(rejected) == {2, 3, 4, 5}
    assert rejected[2]["code"] == "unreadable"
    assert rejected[3]["code"] == "unknown_sku" and rejected[3]["field"] == "lines[0].sku"
    assert rejected[4]["field"] == "lines[0].quantity"
    assert rejected[5]["code"] == "duplicate_order"

    csv_file = tmp_path / "orders.csv"
    csv_file.write_text(
        "channel,external_id,ship_to_name,ship_to_address1,ship_to_city,ship_to_postal_code,"
        "ship_to_country,sku,quantity\n"
        "web,10,N,A,C,1,US,A-1,1\nweb,10,N,A,C,1,US,B-2,1\nweb,11,N,A,C,1,QQ,A-1,1\n"
    )
    r = invoke(
        "orders", "import", str(csv_file), "--merchant", merchant, "--json", "--database-url", url
    )
    report = json.loads(r.stdout)
    assert report["accepted"] == 1
    assert [(x["line"], x["field"]) for x in report["rejections"]] == [(4, "ship_to.country")]
    db.dispose()
