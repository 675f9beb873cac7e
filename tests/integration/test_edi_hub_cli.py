"""``midway edi-partners``: register a partner, import its file as the inbox would, flush the
outbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from midway.edi.cli import app
from tests.integration.support_network import Network
from tests.integration.test_edi_support import ERP, order_940, x12

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MIDWAY_EDI_ROOT", str(tmp_path / "edi"))
    return tmp_path / "edi"


def test_partner_add_import_and_flush(db, network: Network, root: Path, tmp_path: Path):
    r = invoke(
        "partner", "add", "--party", network.merchant.id, "--name", "Northwind ERP",
        "--interchange-id", ERP, "--facility-code", "KS-CHI", "--database-url", db.url,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    partner = r.stdout.split()[1]
    assert partner.startswith("edp_")
    r = invoke("partner", "list", "--database-url", db.url)
    assert r.exit_code == 0 and f"ZZ/{ERP}" in r.stdout and partner in r.stdout

    good = tmp_path / "good.edi"
    good.write_bytes(x12(ERP, [order_940("CLI-1", [("TEE-BLK-M", 1)])]))
    r = invoke("import", str(good), "--partner", partner, "--database-url", db.url)
    assert r.exit_code == 0, r.output
    assert "set 940 ISA13 1 GS06 1 ST02 1: accepted - order CLI-1 placed" in r.stdout
    assert "1 accepted, 0 rejected, 0 duplicate; acknowledgments: 997-000000001.edi" in r.stdout
    assert (root / partner / "outbox" / "997-000000001.edi").exists()
    assert good.exists()  # the operator's own file stays where it was

    mixed = tmp_path / "mixed.edi"
    mixed.write_bytes(
        x12(
            ERP,
            [order_940("CLI-2", [("TEE-BLK-M", 1)]), order_940("CLI-3", [("NOPE", 1)])],
            interchange=2,
        )
    )
    r = invoke("import", str(mixed), "--partner", partner, "--json", "--database-url", db.url)
    assert r.exit_code == 1
    body = json.loads(r.stdout)
    assert [s["status"] for s in body["sets"]] == ["accepted", "rejected"]
    r = invoke("import", str(good), "--partner", partner, "--database-url", db.url)
    assert r.exit_code == 0 and "duplicate, already applied" in r.stdout

    r = invoke("import", str(good), "--partner", "edp_nope", "--database-url", db.url)
    assert r.exit_code == 3 and "no EDI partner" in r.output

    r = invoke(
        "partner", "add", "--party", network.provider.id, "--name", "Keystone WMS",
        "--interchange-id", "KSWMS", "--database-url", db.url,
    )  # fmt: skip
    wms = r.stdout.split()[1]
    network.place("WEB-9", [("CANDLE", 2)])
    r = invoke("outbox", "flush", "--database-url", db.url)
    assert r.exit_code == 0, r.output
    assert [p.name for p in (root / wms / "outbox").iterdir()] == ["940-000000001.edi"]
