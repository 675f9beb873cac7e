"""EDI 940 import: shipping orders from a merchant's ERP placed as orders, beside the JSON
bulk import of the same orders.

A generated file holds 20,000 940s (quick: 2,000) for the generated network (see
:mod:`bench.network`), as interchanges of 200 sets each, written by the engine's serializer.
Midway receives it through its inbound EDI processing (``midway.edi.receiving.receive``: the
engine's streaming parse and validation, a savepoint per set, the document record and a 997
per group), committing after each interchange as ``midway edi-partners import`` does.

Baseline, same run, on a network seeded the same way: the same orders (same SKUs,
quantities and addresses, no prices, as a 940 carries none) as JSON Lines through
``midway.fulfillment.bulk.import_orders`` with its default batch of 200 orders a transaction.
Target: EDI at least 50 % of the JSON rate. Both run on SQLite and on PostgreSQL (a database
of its own, ``midway_edi_bench``); each import stops taking new work after a time cap (120 s;
quick: 20 s) and the rate is measured on what it imported.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select

from bench import network
from bench.common import FAIL, row, verdict
from midway.db import Database
from midway.edi import service as edi
from midway.edi.models import EdiDocument
from midway.edi.receiving import receive
from midway.fulfillment import bulk
from midway.integrations.edi import (
    ControlNumberCounter,
    Delimiters,
    PartnerProfile,
    Segment,
    TransactionSet,
    render,
)
from midway.principal import Principal
from midway.schema import upgrade

BENCH = "edi_import"
PER_INTERCHANGE = 200
TARGET_SHARE = 0.50
SENDER = "BENCHERP"
PG_DATABASE = "midway_edi_bench"
_BUILT = Delimiters("\x1d", "\x1f", "\x1c", "\x1e")


class _Stop(Exception):
    """The time cap was reached."""


def orders(net: network.Network, count: int) -> Iterator[dict[str, Any]]:
    """The orders both imports place: 1-5 lines, no prices."""
    rng = random.Random(11)
    for i in range(count):
        body = network.order_body(rng, net, f"EDI-{i:07d}", lines=rng.randint(1, 5))
        body.pop("currency", None)
        for line in body["lines"]:
            line.pop("unit_price", None)
        yield body


def _rows(body: dict[str, Any]) -> list[list[str]]:
    ship = body["ship_to"]
    rows = [
        ["W05", "N", body["external_id"]],
        ["N1", "ST", ship["name"]],
        ["N3", ship["address1"]],
        ["N4", ship["city"], "", ship["postal_code"], ship["country"]],
        ["PER", "IC", "", "EM", ship["email"]],
    ]
    for number, line in enumerate(body["lines"], start=1):
        rows.append(["LX", str(number)])
        rows.append(["W01", str(line["quantity"]), "EA", "", "VN", line["sku"]])
    rows.append(["W76", str(sum(line["quantity"] for line in body["lines"]))])
    return rows


def write_files(folder: Path, net: network.Network, count: int) -> tuple[Path, Path]:
    """The 940 file and the JSON Lines file of the same orders."""
    edi_path, json_path = folder / f"orders-{count}.edi", folder / f"orders-{count}.jsonl"
    profile = PartnerProfile(name="bench", sender_id=SENDER, receiver_id="MIDWAY")
    counter = ControlNumberCounter()
    batch: list[TransactionSet] = []
    with edi_path.open("w", encoding="utf-8") as x12, json_path.open("w", encoding="utf-8") as js:

        def flush() -> None:
            rendered = render(batch, profile, counter)
            assert rendered.ok, rendered.diagnostics[:3]
            x12.write(rendered.text)
            batch.clear()

        for body in orders(net, count):
            js.write(json.dumps({**body, "channel": "web"}, separators=(",", ":")) + "\n")
            batch.append(
                TransactionSet(
                    id="940",
                    control_number="0001",
                    header=Segment(["ST", "940", "0001"]),
                    items=[Segment(r) for r in _rows(body)],
                    delimiters=_BUILT,
                )
            )
            if len(batch) == PER_INTERCHANGE:
                flush()
        if batch:
            flush()
    return edi_path, json_path


def _postgres() -> str:
    with psycopg.connect(network.pg_dsn("postgres"), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (PG_DATABASE,),
        )
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    url = network.pg_url().rsplit("/", 1)[0] + f"/{PG_DATABASE}"
    upgrade(url)
    return url


def _fresh(backend: str, folder: Path, name: str) -> str:
    if backend == "postgres":
        return _postgres()
    path = folder / name
    path.unlink(missing_ok=True)
    return network.fresh_sqlite(folder, name)


def _edi(url: str, folder: Path, count: int, cap: float) -> tuple[int, int, float, int]:
    """Seed, write the files (first time), import the 940s; (accepted, rejected, seconds,
    file size)."""
    db = Database(url)
    try:
        net = network.seed(db)
        edi_path = folder / f"orders-{count}.edi"
        if not edi_path.exists():  # the same SKU codes on every seeded network
            write_files(folder, net, count)
        with db.transaction() as session:
            partner = edi.create_partner(
                session,
                Principal(net.merchant_id, "merchant", "admin"),
                edi.PartnerInput(name="bench ERP", interchange_id=SENDER),
            )
        start = time.perf_counter()
        deadline = start + cap
        with db.transaction() as session:

            def commit() -> None:
                session.commit()
                if time.perf_counter() > deadline:
                    raise _Stop

            with contextlib.suppress(_Stop):
                receive(session, partner, edi_path, after_interchange=commit)
            elapsed = time.perf_counter() - start
        with db.transaction(write=False) as session:
            counts = dict(
                session.execute(
                    select(EdiDocument.status, func.count())
                    .where(EdiDocument.direction == "in")
                    .group_by(EdiDocument.status)
                ).all()
            )
        return (
            int(counts.get("accepted", 0)),
            int(counts.get("rejected", 0)),
            elapsed,
            edi_path.stat().st_size,
        )
    finally:
        db.dispose()


def _json(url: str, path: Path, cap: float) -> tuple[int, int, float]:
    db = Database(url)
    try:
        net = network.seed(db)
        deadline = time.perf_counter() + cap

        def records() -> Iterator[bulk.Record]:
            for record in bulk.read_orders(path):
                if time.perf_counter() > deadline:
                    return
                yield record

        start = time.perf_counter()
        report = bulk.import_orders(db, net.principal, records(), batch_size=PER_INTERCHANGE)
        return report.accepted, len(report.rejected), time.perf_counter() - start
    finally:
        db.dispose()


def _backend(backend: str, folder: Path, count: int, cap: float) -> list[dict[str, Any]]:
    e_ok, e_bad, e_time, size = _edi(_fresh(backend, folder, "edi.db"), folder, count, cap)
    json_path = folder / f"orders-{count}.jsonl"
    j_ok, j_bad, j_time = _json(_fresh(backend, folder, "json.db"), json_path, cap)
    rate = e_ok / e_time if e_time else 0.0
    base = j_ok / j_time if j_time else 0.0
    share = rate / base if base else 0.0
    notes = (
        f"EDI: {e_ok:,} of {count:,} 940s placed in {e_time:.1f} s ({size / 2**20:.1f} MiB, "
        f"{PER_INTERCHANGE} sets an interchange, one transaction each)"
        + (f", {e_bad} rejected" if e_bad else "")
        + f"; JSON: {j_ok:,} orders in {j_time:.1f} s, batch {PER_INTERCHANGE}"
        + (f", {j_bad} rejected" if j_bad else "")
    )
    return [
        row(
            BENCH,
            f"{backend} 940 orders/s",
            rate,
            "orders/s",
            baseline=base,
            target=f"≥ {TARGET_SHARE:.0%} of baseline",
            verdict=verdict(share >= TARGET_SHARE and not e_bad),
            notes=notes,
        )
    ]


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Import 940s and the same orders as JSON, on SQLite and PostgreSQL."""
    count, cap = (2_000, 20.0) if quick else (20_000, 120.0)
    results: list[dict[str, Any]] = []
    with network.temp_folder() as tmp:
        for backend in ("sqlite", "postgres"):
            try:
                results += _backend(backend, Path(tmp), count, cap)
            except Exception as exc:
                results.append(
                    row(BENCH, backend, None, "", verdict=FAIL, notes=f"failed: {exc!r}"[:500])
                )
    return results
