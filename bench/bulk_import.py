"""Bulk order import: ``import_orders`` over a generated JSON Lines file.

The file holds 100,000 orders (quick: 5,000) of 1-5 lines for the generated network, on a
database that already holds 10,000 past orders (see :mod:`bench.prepare`). Midway imports it
in-process with the default batch size (200 orders a transaction, a savepoint per order), on
SQLite and on PostgreSQL. So that ``make bench`` stays bounded, the import stops taking new
orders after a time cap (150 s; quick: 10 s) and the rate is measured on what it imported; the
report says how many orders that was.

Baseline, same run: the same orders read and parsed from the same file, written with plain SQL
in transactions of the same batch size: batched ``executemany`` of the order, line, guarded
stock update, ledger, FO, FO line, task and event rows, with exactly as many FO, task and event
rows per order as Midway wrote for that order (counted from its tables).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from bench import network, rawsql
from bench.common import FAIL, TrackedCpu, row, verdict
from bench.prepare import HISTORY, prepare
from midway import heap
from midway.db import Database
from midway.fulfillment import bulk

BENCH = "bulk_import"
BATCH = 200
TARGET_SHARE = 0.70
PREFIX = "imp"
T = TypeVar("T")


def _midway(url: str, net: network.Network, path: Path, cap: float) -> tuple[int, float, int, str]:
    db = Database(url)
    deadline = time.perf_counter() + cap

    def records() -> Iterator[bulk.Record]:
        for record in bulk.read_orders(path):
            if time.perf_counter() > deadline:
                return
            yield record

    try:
        start = time.perf_counter()
        report = bulk.import_orders(db, net.principal, records(), batch_size=BATCH)
        elapsed = time.perf_counter() - start
    finally:
        db.dispose()
    first = report.rejected[0].reason if report.rejected else ""
    return report.accepted, elapsed, len(report.rejected), first


def _baseline(
    backend: str,
    target: str,
    net: network.Network,
    path: Path,
    count: int,
    shapes: dict[str, network.Shape],
) -> float:
    dialect = rawsql.Dialect("postgresql" if backend == "postgres" else "sqlite")
    fallback = network.shape_cycle(shapes.values()) if shapes else [network.Shape(1, 4, 7)]
    rng = random.Random(5)
    pg: psycopg.Connection[Any] | None = None
    lite = None
    if backend == "postgres":
        pg = psycopg.connect(
            target, autocommit=True, options=f"-c search_path={network.BASELINE_SCHEMA}"
        )
    else:
        lite = rawsql.sqlite_connect(target)

    def flush(rows: rawsql.Rows) -> None:
        if pg is not None:
            with pg.transaction(), pg.cursor() as cur:
                rawsql.write_pg(cur, rows)
        else:
            assert lite is not None
            lite.execute("BEGIN IMMEDIATE")
            try:
                rawsql.write_sqlite(lite, rows)
                lite.execute("COMMIT")
            except BaseException:
                lite.execute("ROLLBACK")
                raise

    try:
        start = time.perf_counter()
        rows = rawsql.Rows()
        in_batch = 0
        # Like Midway's import, with the objects alive at the start out of garbage collection.
        with heap.frozen(), path.open(encoding="utf-8") as handle:
            for number, text in enumerate(handle):
                if number >= count:
                    break
                body = json.loads(text)
                shape = shapes.get(body["external_id"]) or fallback[number % len(fallback)]
                rawsql.add_order(rows, dialect, net, body, shape, rng)
                in_batch += 1
                if in_batch == BATCH:
                    flush(rows)
                    rows, in_batch = rawsql.Rows(), 0
        if in_batch:
            flush(rows)
        return time.perf_counter() - start
    finally:
        if pg is not None:
            pg.close()
        if lite is not None:
            lite.close()


def _measured(backends: Callable[[], list[int]], work: Callable[[], T]) -> tuple[T, float, float]:
    """``work()``, with the CPU seconds of this process and of the database backends."""
    tracked = TrackedCpu(backends)
    cpu = time.process_time()
    tracked.start()
    try:
        result = work()
    finally:
        tracked.stop()
    return result, time.process_time() - cpu, tracked.seconds


def _cpu_note(app: float, db: float, orders: int) -> str:
    if not orders:
        return "no orders"
    text = f"app {app / orders * 1000:.1f}"
    if db:
        text += f" + database {db / orders * 1000:.1f}"
    return text + " ms/order"


def _backend(
    backend: str, folder: Path, orders: int, cap: float, history: int
) -> list[dict[str, Any]]:
    ready = prepare(backend, folder, "import", history)
    url, target, net = ready.url, ready.baseline, ready.net
    path = folder / f"orders-{orders}.jsonl"
    if not path.exists():  # the same SKU codes on every seeded network: written once
        network.write_jsonl(path, net, orders, prefix=PREFIX)
    backends = network.PgBackends() if backend == "postgres" else None
    follow = backends or network.no_backends
    try:
        (accepted, elapsed, rejected, first), app_cpu, db_cpu = _measured(
            follow, lambda: _midway(url, net, path, cap)
        )
        db = Database(url)
        try:
            shapes = network.order_shapes(db, PREFIX, sample=accepted)
        finally:
            db.dispose()
        base_elapsed, base_app, base_db = _measured(
            follow, lambda: _baseline(backend, target, net, path, accepted + rejected, shapes)
        )
    finally:
        if backends is not None:
            backends.close()
    done = accepted + rejected
    cpu = (app_cpu + db_cpu) / accepted * 1000 if accepted else None
    base_cpu = (base_app + base_db) / done * 1000 if done else None
    rate = accepted / elapsed if elapsed else 0.0
    base_rate = (accepted + rejected) / base_elapsed if base_elapsed else 0.0
    share = rate / base_rate if base_rate else 0.0
    capped = accepted + rejected < orders
    notes = (
        f"{accepted:,} of {orders:,} orders imported in {elapsed:.1f} s"
        + (f" (stopped at the {cap:.0f} s cap)" if capped else "")
        + f"; baseline {base_elapsed:.1f} s for the same orders; batch {BATCH}"
    )
    if rejected:
        notes += f"; {rejected} rejected, first: {first}"
    return [
        row(
            BENCH,
            f"{backend} orders/s",
            rate,
            "orders/s",
            baseline=base_rate,
            target=f"≥ {TARGET_SHARE:.0%} of baseline",
            verdict=verdict(share >= TARGET_SHARE and not rejected),
            notes=notes,
        ),
        row(
            BENCH,
            f"{backend} CPU per order",
            cpu,
            "ms",
            baseline=base_cpu,
            notes=f"Midway {_cpu_note(app_cpu, db_cpu, accepted)}; baseline "
            f"{_cpu_note(base_app, base_db, done)} (both include reading the file)",
        ),
    ]


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure ``import_orders`` on SQLite and PostgreSQL beside the raw-SQL baseline."""
    orders, cap = (5_000, 10.0) if quick else (100_000, 150.0)
    history = 500 if quick else HISTORY
    results: list[dict[str, Any]] = []
    with network.temp_folder() as tmp:
        for backend in ("sqlite", "postgres"):
            try:
                results += _backend(backend, Path(tmp), orders, cap, history)
            except Exception as exc:
                results.append(
                    row(
                        BENCH,
                        backend,
                        None,
                        "",
                        verdict=FAIL,
                        notes=f"benchmark failed: {exc!r}"[:500],
                    )
                )
    return results
