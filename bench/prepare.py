"""Getting a benchmark database ready: schema, network, order history, planner statistics, and
a separate copy of it all for the baseline.

The history (10,000 orders by default, written with the baseline's plain SQL) puts the tables
at a size a hub in service would have, and PostgreSQL is analyzed after it, as autovacuum
would have done by then. Without it, PostgreSQL plans the first queries against empty tables,
psycopg prepares them after five runs, and the prepared generic plans keep scanning whole
tables until autovacuum analyzes them again: a cold-start effect, not the steady state these
benchmarks are about (``docs/benchmarks.md`` reports it separately).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench import network, rawsql
from midway.db import Database

HISTORY = 10_000
HISTORY_BATCH = 500
HISTORY_SHAPE = network.Shape(fulfillment_orders=1, tasks=4, events=7)


@dataclass(frozen=True)
class Prepared:
    """A ready database: Midway's URL, the baseline's target and the seeded network.

    ``baseline`` is a psycopg connection string (use the ``baseline`` schema) on PostgreSQL,
    or the path of the baseline's own SQLite file.
    """

    url: str
    baseline: str
    net: network.Network


def prepare(backend: str, folder: Path, name: str, history: int = HISTORY) -> Prepared:
    """Create, seed and fill a database for ``backend`` (``postgres`` or ``sqlite``)."""
    if backend == "postgres":
        url = network.recreate_postgres()
    else:
        url = network.fresh_sqlite(folder, f"{name}.db")
    db = Database(url)
    try:
        net = network.seed(db)
    finally:
        db.dispose()
    add_history(backend, url, net, history)
    if backend == "postgres":
        network.copy_seed_to_baseline_schema()
        network.analyze_postgres()
        return Prepared(url, network.pg_dsn(), net)
    target = folder / f"{name}-baseline.db"
    shutil.copyfile(folder / f"{name}.db", target)
    return Prepared(url, str(target), net)


def add_history(backend: str, url: str, net: network.Network, count: int) -> None:
    """Write ``count`` past orders (1-5 lines, with their reservations, FOs, tasks and
    events) into Midway's tables, in transactions of ``HISTORY_BATCH`` orders."""
    if count <= 0:
        return
    rng = random.Random(23)
    if backend == "postgres":
        dialect = rawsql.Dialect("postgresql")
        with psycopg.connect(network.pg_dsn(), autocommit=True) as conn:
            for rows in _batches(dialect, net, count, rng):
                with conn.transaction(), conn.cursor() as cur:
                    rawsql.write_pg(cur, rows)
        return
    dialect = rawsql.Dialect("sqlite")
    lite = rawsql.sqlite_connect(url.removeprefix("sqlite:///"))
    try:
        for rows in _batches(dialect, net, count, rng):
            lite.execute("BEGIN IMMEDIATE")
            rawsql.write_sqlite(lite, rows)
            lite.execute("COMMIT")
        lite.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        lite.close()


def _batches(
    dialect: rawsql.Dialect, net: network.Network, count: int, rng: random.Random
) -> Iterator[rawsql.Rows]:
    for start in range(0, count, HISTORY_BATCH):
        rows = rawsql.Rows()
        for number in range(start, min(count, start + HISTORY_BATCH)):
            body = network.order_body(rng, net, f"hist-{number:07d}", lines=rng.randint(1, 5))
            rawsql.add_order(rows, dialect, net, body, HISTORY_SHAPE, rng)
        yield rows
