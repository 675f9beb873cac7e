"""``midway history import`` and ``midway kpi`` from the command line: formats, bad rows,
all-or-nothing, and KPIs over imported history."""

from __future__ import annotations

import json

import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from midway.db import Database
from midway.kpis.cli import app as kpi_app
from midway.kpis.cli import history_app
from midway.kpis.models import OrderFact

runner = CliRunner()
# Mounted the way the root ``midway`` command mounts them.
cli = typer.Typer()
cli.add_typer(kpi_app, name="kpi")
cli.add_typer(history_app, name="history")

GOOD = [
    # Released Monday before the cut-off, handed over by the deadline, delivered a day late.
    {
        "order_id": "H-1",
        "channel": "shop",
        "placed_at": "2026-10-05T08:00:00Z",
        "released_at": "2026-10-05T09:00:00Z",
        "ship_by": "2026-10-05T19:00:00Z",
        "handed_at": "2026-10-05T18:00:00Z",
        "promised_delivery": "2026-10-07",
        "delivered_at": "2026-10-08T10:00:00Z",
        "lines": [{"sku": "TEE", "quantity": 2}],
        "shipped_complete": True,
        "accurate": True,
        "rating": 4,
    },
    # Handed over late (local New York time without a zone, read with --timezone), delivered
    # on the promised day.
    {
        "order_id": "H-2",
        "ship_by": "2026-10-06",
        "handed_at": "2026-10-07T09:00:00",
        "promised_delivery": "2026-10-09",
        "delivered_at": "2026-10-09T20:00:00",
        "units": 1,
        "shipped_complete": False,
        "accurate": False,
        "rating": 2,
    },
]


def _count(db: Database) -> int:
    with db.transaction(write=False) as session:
        return session.scalars(select(func.count()).select_from(OrderFact)).one()


def test_jsonl_import_then_kpis(db, network, tmp_path):
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in GOOD) + "\n")
    result = runner.invoke(
        cli,
        [
            "history",
            "import",
            str(path),
            "--merchant",
            network.merchant.id,
            "--agreement",
            network.agreement_id,
            "--facility",
            "KS-CHI",
            "--timezone",
            "America/New_York",
            "--json",
            "--database-url",
            db.url,
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["imported"], report["errors"]) == (2, [])
    result = runner.invoke(
        cli,
        [
            "kpi",
            "--agreement",
            network.agreement_id,
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--json",
            "--database-url",
            db.url,
        ],
    )
    assert result.exit_code == 0, result.output
    kpis = json.loads(result.stdout)["periods"][0]["kpis"]
    pairs = {
        name: (kpis[name]["numerator"], kpis[name]["denominator"])
        for name in ("on_time_ship", "on_time_delivery", "order_accuracy", "fill_rate")
    }
    # H-2's ship-by is the end of 6 Oct in New York; it left on the 7th: late. Its promised
    # day is the 9th, delivered 20:00 that day in New York: on time. H-1 was delivered late.
    assert pairs == {
        "on_time_ship": (1, 2),
        "on_time_delivery": (1, 2),
        "order_accuracy": (1, 2),
        "fill_rate": (1, 2),
    }
    assert kpis["customer_satisfaction"]["mean"] == "3.00"
    assert kpis["damage_free"]["denominator"] == 0  # not in the file: unknown, not perfect


def test_csv_with_bad_rows_imports_nothing(db, network, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(
        "order_id,handed_at,ship_by,lines,rating\n"
        "C-1,2026-10-05T18:00:00Z,2026-10-05T19:00:00Z,TEE:2;MUG:1,5\n"
        "C-2,yesterday,2026-10-05T19:00:00Z,TEE:1,\n"
        "C-3,2026-10-05T18:00:00Z,,TEE:x,9\n"
    )
    result = runner.invoke(
        cli,
        [
            "history",
            "import",
            str(path),
            "--merchant",
            network.merchant.id,
            "--database-url",
            db.url,
        ],
    )
    assert result.exit_code == 1
    assert "line 3: handed_at:" in result.stdout
    assert "line 4: rating: must be from 1 to 5" in result.stdout
    assert "line 4: lines: 'TEE:x' is not SKU:QUANTITY" in result.stdout
    assert _count(db) == 0


def test_unknown_facility_and_foreign_agreement(db, network, make_actor, tmp_path):
    path = tmp_path / "history.jsonl"
    path.write_text(json.dumps({"order_id": "F-1", "facility_code": "NOPE"}) + "\n")
    result = runner.invoke(
        cli,
        [
            "history",
            "import",
            str(path),
            "--merchant",
            network.merchant.id,
            "--database-url",
            db.url,
        ],
    )
    assert result.exit_code == 1
    assert "line 1: facility_code: no facility 'NOPE' serves this merchant" in result.stdout
    stranger = make_actor("merchant", "Other Goods")
    result = runner.invoke(
        cli,
        [
            "history",
            "import",
            str(path),
            "--merchant",
            stranger.id,
            "--agreement",
            network.agreement_id,
            "--database-url",
            db.url,
        ],
    )
    assert result.exit_code == 3  # not found: another merchant's agreement
    assert _count(db) == 0
