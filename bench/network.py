"""A generated fulfillment network for the benchmarks: databases, parties, stock and orders.

The network is one merchant with its own stockroom and two providers with five warehouses
each, all under active agreements; a catalog of generated SKUs stocked at most facilities with
far more units than any run can order, so nothing backorders. Parties, facilities, agreements
and SKUs are created through Midway's services; stock is written directly (balances plus the
receipt ledger rows ``inventory.post`` would write), because 20,000 receipts through the
service would dominate the set-up time and are not what is measured.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert, text

from midway.agreements import service as agreements
from midway.catalog import service as catalog
from midway.db import Database, utcnow
from midway.facilities import service as facilities
from midway.inventory.models import StockBalance, StockMovement
from midway.parties import service as parties
from midway.principal import Principal
from midway.schema import upgrade

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
PG_DATABASE = "midway_bench"
BASELINE_SCHEMA = "baseline"
STOCK_PER_ROW = 10_000_000

# (code, country, timezone, cost per package, cost per unit)
PROVIDER_SITES: tuple[tuple[tuple[str, str, str, str, str], ...], ...] = (
    (
        ("KS-CHI", "US", "America/Chicago", "3.10", "0.40"),
        ("KS-NJ", "US", "America/New_York", "3.40", "0.38"),
        ("KS-RNO", "US", "America/Los_Angeles", "2.90", "0.45"),
        ("KS-TOR", "CA", "America/Toronto", "3.60", "0.42"),
        ("KS-MTY", "MX", "America/Monterrey", "2.50", "0.35"),
    ),
    (
        ("EU-RTM", "NL", "Europe/Amsterdam", "3.20", "0.41"),
        ("EU-LEJ", "DE", "Europe/Berlin", "3.00", "0.39"),
        ("EU-MAN", "GB", "Europe/London", "3.50", "0.44"),
        ("EU-LYS", "FR", "Europe/Paris", "3.30", "0.43"),
        ("EU-DAL", "US", "America/Chicago", "2.95", "0.47"),
    ),
)
MERCHANT_SITE = ("NW-STUDIO", "US", "America/Denver", "4.00", "0.30")
# Where orders go, with weights: mostly domestic, some to the neighbours and Europe.
DESTINATIONS: tuple[tuple[str, int], ...] = (
    ("US", 70),
    ("CA", 8),
    ("MX", 3),
    ("GB", 6),
    ("DE", 5),
    ("FR", 4),
    ("NL", 2),
    ("ES", 2),
)


def pg_url(schema: str | None = None) -> str:
    """SQLAlchemy URL of the benchmark database (optionally pinned to one schema)."""
    url = f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}"
    if schema:
        url += f"?options=-csearch_path%3D{schema}"
    return url


def pg_dsn(database: str = PG_DATABASE) -> str:
    """Raw psycopg connection string of a database on the local server."""
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def recreate_postgres() -> str:
    """Drop and create the benchmark database, migrate it; return its SQLAlchemy URL."""
    with psycopg.connect(pg_dsn("postgres"), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (PG_DATABASE,),
        )
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    url = pg_url()
    upgrade(url)
    return url


class PgBackends:
    """Lists the PostgreSQL client backends connected to the benchmark database (autovacuum
    is left out), over a connection of its own to another database so as not to list itself."""

    def __init__(self) -> None:
        self._conn: psycopg.Connection[Any] | None = None

    def __call__(self) -> list[int]:
        if self._conn is None:
            self._conn = psycopg.connect(pg_dsn("postgres"), autocommit=True)
        rows = self._conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s"
            " AND backend_type = 'client backend'",
            (PG_DATABASE,),
        ).fetchall()
        return [int(pid) for (pid,) in rows]

    def close(self) -> None:
        """Close the listing connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def no_backends() -> list[int]:
    """No database processes to follow (SQLite runs inside the application)."""
    return []


def fresh_sqlite(folder: Path, name: str = "midway.db") -> str:
    """A migrated SQLite file in ``folder``; returns its SQLAlchemy URL."""
    url = f"sqlite:///{folder / name}"
    upgrade(url)
    return url


def temp_folder() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for SQLite files and generated inputs (removed on cleanup)."""
    return tempfile.TemporaryDirectory(prefix="midway-bench-")


@dataclass
class Network:
    """What was seeded: ids, the merchant's API key, the SKUs and where each is stocked."""

    merchant_id: str
    merchant_key: str
    provider_ids: list[str]
    facility_ids: list[str]
    skus: list[str]
    stocked_at: dict[str, list[str]] = field(default_factory=dict)

    @property
    def principal(self) -> Principal:
        """The merchant as an in-process caller."""
        return Principal(party_id=self.merchant_id, kind="merchant", role="admin")


def seed(
    db: Database, *, sku_count: int = 2000, coverage: float = 0.8, rng_seed: int = 7
) -> Network:
    """Create the network on a migrated, empty database."""
    rng = random.Random(rng_seed)
    with db.transaction() as session:
        merchant, merchant_key = parties.create_party(session, kind="merchant", name="Northwind")
        me = Principal(party_id=merchant.id, kind="merchant", role="admin")
        own = _facility(session, me, MERCHANT_SITE, kind="stockroom")
        facility_ids = [own]
        provider_ids = []
        for index, sites in enumerate(PROVIDER_SITES):
            provider, _ = parties.create_party(session, kind="provider", name=f"Provider {index}")
            them = Principal(party_id=provider.id, kind="provider", role="admin")
            provider_ids.append(provider.id)
            facility_ids += [_facility(session, them, site) for site in sites]
            agreement, _ = agreements.propose(
                session,
                me,
                provider_id=provider.id,
                terms=agreements.Terms(
                    facility_codes=[s[0] for s in sites], template="classic_semi_managed"
                ),
            )
            agreements.decide(session, them, agreement.id, accept=True)
        skus = [f"SKU-{i:05d}" for i in range(sku_count)]
        items = [
            catalog.SkuInput(
                sku=code,
                name=f"Product {code}",
                weight_g=rng.randint(50, 4000),
                length_mm=200,
                width_mm=150,
                height_mm=80,
                tags=_tags(rng),
            )
            for code in skus
        ]
        catalog.upsert_many(session, me, items)
    stocked_at = {
        sku: [f for f in facility_ids if rng.random() < coverage] or [rng.choice(facility_ids)]
        for sku in skus
    }
    _stock(db, merchant.id, stocked_at)
    return Network(
        merchant_id=merchant.id,
        merchant_key=merchant_key.secret,
        provider_ids=provider_ids,
        facility_ids=facility_ids,
        skus=skus,
        stocked_at=stocked_at,
    )


def _facility(
    session: Any,
    principal: Principal,
    site: tuple[str, str, str, str, str],
    kind: str | None = None,
) -> str:
    code, country, zone, per_package, per_unit = site
    facility = facilities.create_facility(
        session,
        principal,
        facilities.FacilityInput(
            code=code,
            name=code,
            country=country,
            timezone=zone,
            kind=kind,
            cost_per_package=Decimal(per_package),
            cost_per_unit=Decimal(per_unit),
        ),
    )
    return facility.id


def _tags(rng: random.Random) -> list[str]:
    tags = []
    if rng.random() < 0.10:
        tags.append("premium")
    if rng.random() < 0.05:
        tags.append("fragile")
    if rng.random() < 0.30:
        tags.append("apparel")
    return tags


def _stock(db: Database, merchant_id: str, stocked_at: dict[str, list[str]]) -> None:
    now = utcnow()
    balances = [
        {
            "merchant_id": merchant_id,
            "facility_id": f,
            "sku": s,
            "on_hand": STOCK_PER_ROW,
            "reserved": 0,
        }
        for s, where in stocked_at.items()
        for f in where
    ]
    ledger = [
        {
            "merchant_id": merchant_id,
            "facility_id": b["facility_id"],
            "sku": b["sku"],
            "kind": "receipt",
            "on_hand_delta": STOCK_PER_ROW,
            "reserved_delta": 0,
            "reason": "bench seed",
            "reference": None,
            "actor_party_id": merchant_id,
            "created_at": now,
        }
        for b in balances
    ]
    with db.transaction() as session:
        session.execute(insert(StockBalance), balances)
        session.execute(insert(StockMovement), ledger)


def analyze_postgres() -> None:
    """Refresh the planner statistics of the benchmark database, as autovacuum would have done
    on a database in service (SQLite is left alone: nothing analyzes it in service either)."""
    with psycopg.connect(pg_dsn(), autocommit=True) as conn:
        conn.execute("ANALYZE")


SEEDED_TABLES = (
    "parties",
    "api_keys",
    "facilities",
    "agreements",
    "agreement_versions",
    "skus",
    "stock_balances",
    "stock_movements",
    "orders",
    "order_lines",
    "fulfillment_orders",
    "fulfillment_order_lines",
    "tasks",
    "events",
)


def copy_seed_to_baseline_schema() -> None:
    """Create the ``baseline`` schema with Midway's own migrations (same tables, indexes,
    constraints and foreign keys) and copy the seeded rows and the order history into it, so
    the raw-SQL baseline writes the same shape of data to separate tables of the same size."""
    with psycopg.connect(pg_dsn(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {BASELINE_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {BASELINE_SCHEMA}")
    upgrade(pg_url(BASELINE_SCHEMA))
    with psycopg.connect(pg_dsn()) as conn:
        for table in SEEDED_TABLES:
            conn.execute(f"INSERT INTO {BASELINE_SCHEMA}.{table} SELECT * FROM public.{table}")
        for table, column in (("stock_movements", "id"), ("events", "seq")):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{BASELINE_SCHEMA}.{table}', '{column}'),"
                f" (SELECT coalesce(max({column}), 0) + 1 FROM {BASELINE_SCHEMA}.{table}), false)"
            )


def order_body(
    rng: random.Random, net: Network, external_id: str, lines: int = 3
) -> dict[str, Any]:
    """An order as a channel would POST it: distinct SKUs, small quantities, a priced line."""
    country = rng.choices([c for c, _ in DESTINATIONS], [w for _, w in DESTINATIONS])[0]
    return {
        "channel": "web",
        "external_id": external_id,
        "currency": "USD",
        "ship_to": {
            "name": "Ada Lane",
            "address1": f"{rng.randint(1, 9999)} Main St",
            "city": "Springfield",
            "postal_code": f"{rng.randint(10000, 99999)}",
            "country": country,
            "email": "ada@example.com",
        },
        "lines": [
            {
                "sku": sku,
                "quantity": rng.randint(1, 3),
                "unit_price": f"{rng.randint(500, 9900) / 100:.2f}",
            }
            for sku in rng.sample(net.skus, lines)
        ],
    }


def write_jsonl(path: Path, net: Network, count: int, *, prefix: str, rng_seed: int = 11) -> None:
    """``count`` orders of 1-5 lines as JSON Lines, one order per line."""
    rng = random.Random(rng_seed)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            body = order_body(rng, net, f"{prefix}-{i:07d}", lines=rng.randint(1, 5))
            handle.write(json.dumps(body, separators=(",", ":")) + "\n")


@dataclass(frozen=True)
class Shape:
    """What Midway wrote for one order: fulfillment orders, tasks and events."""

    fulfillment_orders: int
    tasks: int
    events: int


def order_shapes(db: Database, external_prefix: str, sample: int = 3000) -> dict[str, Shape]:
    """The shape of FO, task and event rows Midway wrote for each order whose external id
    starts with ``external_prefix`` (the first ``sample`` of them), counted from the database
    after a Midway run; keyed by external id."""
    query = text("""
        WITH o AS (SELECT id, external_id FROM orders WHERE external_id LIKE :prefix
                    ORDER BY external_id LIMIT :sample),
             fo AS (SELECT f.id, f.order_id FROM fulfillment_orders f JOIN o ON o.id = f.order_id),
             t AS (SELECT t.id, fo.order_id FROM tasks t
                     JOIN fo ON fo.id = t.fulfillment_order_id),
             subject AS (SELECT id, id AS order_id FROM o
                         UNION ALL SELECT id, order_id FROM fo
                         UNION ALL SELECT id, order_id FROM t),
             ev AS (SELECT subject.order_id, count(*) AS n FROM events e
                      JOIN subject ON subject.id = e.subject_id GROUP BY subject.order_id),
             fc AS (SELECT order_id, count(*) AS n FROM fo GROUP BY order_id),
             tc AS (SELECT order_id, count(*) AS n FROM t GROUP BY order_id)
        SELECT o.external_id, coalesce(fc.n, 0), coalesce(tc.n, 0), coalesce(ev.n, 0)
          FROM o LEFT JOIN fc ON fc.order_id = o.id LEFT JOIN tc ON tc.order_id = o.id
                 LEFT JOIN ev ON ev.order_id = o.id
    """)
    with db.transaction(write=False) as session:
        rows = session.execute(query, {"prefix": external_prefix + "%", "sample": sample}).all()
    return {external_id: Shape(int(f), int(t), int(e)) for external_id, f, t, e in rows}


def shape_cycle(measured: Iterable[Shape], length: int = 1000) -> list[Shape]:
    """A deterministic list of ``length`` shapes in the measured proportions."""
    shapes = Counter(measured)
    total = sum(shapes.values())
    if total == 0:
        raise ValueError("no orders to take the shape from")
    cycle: list[Shape] = []
    for shape, count in shapes.most_common():
        cycle += [shape] * max(1, round(length * count / total))
    random.Random(3).shuffle(cycle)
    return cycle
