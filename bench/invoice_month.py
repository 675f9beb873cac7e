"""Invoice generation: the draft invoice of one agreement for a month of 1,000,000 orders
(quick: 50,000), on SQLite and on PostgreSQL.

The record is seeded directly with bulk inserts (what the services would have written): one
merchant, one provider facility (time zone UTC, so a local day is a UTC day) under an
agreement with a full rate card, 1,000 SKUs (quick: 200) with opening stock on 1 September
and four replenishments in October; per order one fulfillment order with 1-3 lines, a
parcel (1 % of orders split, the first parcel on 30 September), ledger reservation and
shipment rows, picking, labeling, kitting and branded-insert tasks, a shipment event, and
for 1 % of orders a ``return.received`` event. About 11 rows per order in all. The orders are
written in the order they ship (a live hub appends its records as things happen); an earlier
version cycled the ship day with the order number, which no live system does and which
scatters every time-range index read across the whole table.

Measured: ``billing.service.create_invoice`` in one transaction, end to end: metering every
source (storage replayed first in, first out from the whole ledger), rating, SLA credits, and
storing the invoice with every source id on its lines. Target ≤ 30 s for 1,000,000 orders
(the quick run is held to its share, 1.5 s for 50,000).

Baseline, same run: the same quantities by one hand-written SQL aggregation per database
(window functions over a daily calendar for storage; first in, first out in closed form:
units older than N days = max(0, on hand − units received in the last N days)). Both must
agree line by line; a mismatch fails the benchmark.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, select

from bench.common import FAIL, INFO, row, verdict
from bench.network import PG_HOST, PG_PORT, PG_USER, fresh_sqlite, temp_folder
from midway.agreements import service as agreements
from midway.billing import models as _billing_models  # noqa: F401  (registers the tables)
from midway.billing import service as billing
from midway.billing.models import InvoiceLine
from midway.catalog import service as catalog
from midway.db import Database, clock_at
from midway.facilities import service as facilities
from midway.models import metadata
from midway.parties import service as parties
from midway.principal import Principal
from midway.schema import upgrade

BENCH = "invoice_month"
TARGET_SECONDS = 30.0  # for FULL_ORDERS
FULL_ORDERS = 1_000_000
PG_DATABASE = "midway_bench_invoice"
PERIOD = "2026-10"
START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
CHUNK = 20_000
D = Decimal

RATE_CARD: dict[str, Any] = {
    "currency": "USD",
    "receiving": {"per": "unit", "price": "0.25"},
    "storage": {
        "per": "m3_day",
        "price": "0.80",
        "free_days": 30,
        "aged_tiers": [{"from_day": 45, "to_day": None, "price": "0.40"}],
    },
    "fulfillment": {"per_order": "2.50", "included_units": 1, "per_extra_unit": "0.50"},
    "branded_inserts": {"per": "order", "price": "0.35"},
    "kitting": {"per": "unit", "price": "0.90"},
    "labeling": {"per": "order", "price": "0.20"},
    "returns": {"per_return": "3.00", "per_unit": "0.60"},
    "special_handling": {"fragile": {"per": "unit", "price": "0.40"}},
    "carrier_markup_percent": "8",
    "monthly_minimum": "1000.00",
}


@dataclass
class World:
    """The parties, facility, agreement and SKUs created through the services."""

    merchant: str
    provider: str
    facility: str
    agreement: str
    skus: list[tuple[str, list[str]]] = field(default_factory=list)


def _setup(db: Database, sku_count: int) -> World:
    with clock_at(datetime(2026, 8, 1, 12, tzinfo=UTC)), db.transaction() as session:
        merchant, _ = parties.create_party(session, kind="merchant", name="Bench Goods")
        provider, _ = parties.create_party(session, kind="provider", name="Bench 3PL")
        m = Principal(merchant.id, "merchant", "admin")
        p = Principal(provider.id, "provider", "admin")
        facility = facilities.create_facility(
            session,
            p,
            facilities.FacilityInput(code="BX-1", name="Bench DC", country="US", timezone="UTC"),
        )
        terms = agreements.Terms(facility_codes=["BX-1"], rate_card=RATE_CARD)
        agreement, _ = agreements.propose(session, m, provider_id=provider.id, terms=terms)
        agreements.decide(session, p, agreement.id, accept=True)
        rng = random.Random(7)
        skus = []
        for i in range(sku_count):
            tags = (
                ["kit"] if i % 20 == 0 else ["fragile"] if i % 10 == 3 else
                ["premium"] if i % 20 == 7 else []
            )  # fmt: skip
            skus.append((f"SKU-{i:04d}", tags))
        catalog.upsert_many(
            session,
            m,
            [
                catalog.SkuInput(
                    sku,
                    sku,
                    200,
                    rng.randint(50, 400),
                    rng.randint(50, 400),
                    rng.randint(20, 300),
                    tags,
                )
                for sku, tags in skus
            ],
        )
        return World(merchant.id, provider.id, facility.id, agreement.id, skus)


# --- seeding ---------------------------------------------------------------------------------


@dataclass
class Rows:
    """One chunk of rows per table, as tuples in the column order of ``COLUMNS``."""

    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def add(self, table: str, values: tuple[Any, ...]) -> None:
        self.tables.setdefault(table, []).append(values)


COLUMNS = {
    "fulfillment_orders": (
        "id merchant_id order_id facility_id provider_id agreement_id agreement_version status "
        "request_status status_before_hold rejection_reason rejection_message created_at "
        "updated_at"
    ),
    "fulfillment_order_lines": (
        "id fulfillment_order_id merchant_id order_line_id sku components quantity "
        "shipped_quantity released_quantity"
    ),
    "shipments": (
        "id fulfillment_order_id merchant_id carrier tracking_number lines carrier_charge "
        "currency created_by shipped_at delivered_at"
    ),
    "stock_movements": (
        "merchant_id facility_id sku kind on_hand_delta reserved_delta reason reference "
        "actor_party_id created_at"
    ),
    "tasks": (
        "id merchant_id provider_id fulfillment_order_id process owner owner_party_id status "
        "due_at decision skus created_at completed_at completed_by"
    ),
    "events": (
        "id type merchant_id provider_id subject_type subject_id actor_party_id data dispatched "
        "created_at"
    ),
}


class Writer:
    """Bulk writes for one database: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.postgres = url.startswith("postgresql")
        if self.postgres:
            self.pg = psycopg.connect(_dsn(PG_DATABASE))
            # Seeding skips the foreign keys to orders and order lines, which the meter
            # never reads (superuser only; the benchmark database is its own).
            self.pg.execute("SET session_replication_role = replica")
        else:
            self.lite = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            self.lite.execute("PRAGMA journal_mode=WAL")
            self.lite.execute("PRAGMA synchronous=OFF")
            self.lite.execute("BEGIN")

    def when(self, value: datetime) -> Any:
        return value if self.postgres else value.strftime("%Y-%m-%d %H:%M:%S.%f")

    def json(self, value: Any) -> str:
        return json.dumps(value)

    def money(self, value: Decimal) -> Any:
        return value if self.postgres else str(value)

    def flag(self, value: bool) -> Any:
        return value if self.postgres else int(value)

    def write(self, rows: Rows) -> None:
        for table, values in rows.tables.items():
            columns = COLUMNS[table].split()
            if self.postgres:
                with self.pg.cursor().copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for item in values:
                        copy.write_row(item)
            else:
                marks = ", ".join("?" for _ in columns)
                self.lite.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values
                )

    def close(self) -> None:
        """Commit, with the balances the services keep beside the ledger."""
        balances = (
            "INSERT INTO stock_balances (merchant_id, facility_id, sku, on_hand, reserved) "
            "SELECT merchant_id, facility_id, sku, SUM(on_hand_delta), SUM(reserved_delta) "
            "FROM stock_movements GROUP BY merchant_id, facility_id, sku"
        )
        if self.postgres:
            self.pg.execute(balances)
            self.pg.commit()
            self.pg.close()
        else:
            self.lite.execute(balances)
            self.lite.execute("COMMIT")
            self.lite.close()


def _receipts(w: Writer, world: World, orders: int) -> Rows:
    rows = Rows()
    # Enough opening stock for every order (about 3 units an order) and some to spare.
    opening = orders * 3 // len(world.skus) + 1_000
    days = [(datetime(2026, 9, 1, 8, tzinfo=UTC), opening)] + [
        (datetime(2026, 10, d, 7, tzinfo=UTC), 300) for d in (5, 12, 19, 26)
    ]
    for when, quantity in days:
        for sku, _ in world.skus:
            rows.add(
                "stock_movements",
                (world.merchant, world.facility, sku, "receipt", quantity, 0, "ASN",
                 f"ASN-{when:%m%d}", world.provider, w.when(when)),
            )  # fmt: skip
    return rows


def _orders(w: Writer, world: World, count: int) -> Iterator[Rows]:
    rng = random.Random(11)
    tags = dict(world.skus)
    names = [sku for sku, _ in world.skus]
    m, p, f, a = world.merchant, world.provider, world.facility, world.agreement
    rows = Rows()
    for i in range(count):
        shipped = START + timedelta(days=i % 31, seconds=(i * 7919) % 86_400)
        split = i % 100 == 0
        # a split order was placed in September: its first parcel left on 30 September
        placed = datetime(2026, 9, 30, 9, tzinfo=UTC) if split else shipped - timedelta(hours=2)
        picked = rng.sample(names, 2 if split else rng.randint(1, 3))
        lines = [(sku, rng.randint(1, 2)) for sku in picked]
        fo = f"fo_{i:010d}"
        rows.add(
            "fulfillment_orders",
            (fo, m, f"ord_{i:010d}", f, p, a, 1, "closed", "accepted", None, None, None,
             w.when(placed), w.when(shipped)),
        )  # fmt: skip
        for j, (sku, qty) in enumerate(lines):
            rows.add(
                "fulfillment_order_lines",
                (f"fol_{i:010d}_{j}", fo, m, f"orl_{i:010d}_{j}", sku, w.json([]), qty, qty, 0),
            )
            rows.add(
                "stock_movements",
                (m, f, sku, "reservation", 0, qty, "order_sourced", fo, m, w.when(placed)),
            )
        parcels = [(shipped, lines)]
        if split:
            parcels = [(datetime(2026, 9, 30, 12, tzinfo=UTC), lines[:1]), (shipped, lines[1:])]
        for k, (when, content) in enumerate(parcels):
            shipment = f"shp_{i:010d}_{k}"
            charge = D(rng.randint(400, 999)).scaleb(-2)
            rows.add(
                "shipments",
                (shipment, fo, m, "UPS", f"1Z{i:010d}{k}",
                 w.json([{"sku": s, "quantity": q} for s, q in content]), w.money(charge),
                 "USD", p, w.when(when), None),
            )  # fmt: skip
            for sku, qty in content:
                rows.add(
                    "stock_movements",
                    (m, f, sku, "shipment", -qty, -qty, "shipped", fo, p, w.when(when)),
                )
            rows.add(
                "events",
                (f"evt_s{i:010d}{k}", "fulfillment_order.shipment_created", m, p,
                 "fulfillment_order", fo, p, w.json({"shipment_id": shipment}), w.flag(True),
                 w.when(when)),
            )  # fmt: skip
        done = parcels[-1][0]
        tasks = [("picking", "provider", picked), ("labeling", "provider", picked)]
        kits = [s for s in picked if "kit" in tags[s]]
        if kits:
            tasks.append(("kitting", "provider", kits))
        premium = [s for s in picked if "premium" in tags[s]]
        if premium:
            tasks.append(("branded_inserts", "merchant", premium))
        for process, owner, skus in tasks:
            rows.add(
                "tasks",
                (f"tsk_{i:010d}_{process[:4]}", m, p, fo, process, owner,
                 p if owner == "provider" else m, "done", w.when(shipped), w.json({}),
                 w.json(sorted(skus)), w.when(placed), w.when(done), p),
            )  # fmt: skip
        if i % 100 == 50:
            received = shipped + timedelta(days=3)
            rows.add(
                "events",
                (f"evt_r{i:010d}", "return.received", m, p, "return", f"ret_{i:010d}", p,
                 w.json({"return_id": f"ret_{i:010d}", "facility_id": f, "agreement_id": a,
                         "received_at": received.isoformat(), "units": 1}),
                 w.flag(True), w.when(received)),
            )  # fmt: skip
        if (i + 1) % CHUNK == 0:
            yield rows
            rows = Rows()
    yield rows


def _seed(url: str, world: World, count: int) -> float:
    """Bulk-load the month; the secondary indexes are built once at the end (faster than
    keeping them up to date row by row)."""
    started = time.perf_counter()
    engine = create_engine(url)
    indexes = [index for name in COLUMNS for index in metadata.tables[name].indexes]
    with engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
    writer = Writer(url)
    writer.write(_receipts(writer, world, count))
    for chunk in _orders(writer, world, count):
        writer.write(chunk)
    writer.close()
    with engine.begin() as conn:
        for index in indexes:
            index.create(conn)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


# --- the baseline: one SQL aggregation -------------------------------------------------------

BASELINE = """
WITH RECURSIVE
days(day) AS (SELECT :hist_day UNION ALL SELECT {next_day} FROM days WHERE day < :last_day),
recv AS (
  SELECT COALESCE(SUM(on_hand_delta), 0) AS units FROM stock_movements
  WHERE merchant_id = :m AND facility_id = :f AND kind = 'receipt'
    AND created_at >= :start AND created_at < :end),
fo_units AS (
  SELECT sm.reference AS fo,
         SUM(CASE WHEN sm.created_at < :start THEN -sm.on_hand_delta ELSE 0 END) AS before,
         SUM(CASE WHEN sm.created_at >= :start THEN -sm.on_hand_delta ELSE 0 END) AS now
  FROM stock_movements sm JOIN fulfillment_orders fo ON fo.id = sm.reference
  WHERE sm.merchant_id = :m AND sm.facility_id = :f AND sm.kind = 'shipment'
    AND sm.created_at < :end AND fo.agreement_id = :a
  GROUP BY sm.reference HAVING SUM(CASE WHEN sm.created_at >= :start THEN 1 ELSE 0 END) > 0),
extra AS (
  SELECT COALESCE(SUM({greatest}(0, before + now - 1) - {greatest}(0, before - 1)), 0) AS units
  FROM fo_units),
firsts AS (
  SELECT s.fulfillment_order_id, MIN(s.shipped_at) AS first
  FROM shipments s JOIN fulfillment_orders fo ON fo.id = s.fulfillment_order_id
  WHERE fo.agreement_id = :a AND s.shipped_at < :end GROUP BY s.fulfillment_order_id),
orders AS (SELECT COUNT(*) AS n FROM firsts WHERE first >= :start),
labels AS (
  SELECT COUNT(*) AS n FROM tasks t JOIN fulfillment_orders fo ON fo.id = t.fulfillment_order_id
  WHERE fo.agreement_id = :a AND t.process = 'labeling' AND t.owner = 'provider'
    AND t.status = 'done' AND t.completed_at >= :start AND t.completed_at < :end),
kits AS (
  SELECT COALESCE(SUM(l.shipped_quantity), 0) AS units
  FROM tasks t JOIN fulfillment_orders fo ON fo.id = t.fulfillment_order_id
  JOIN fulfillment_order_lines l ON l.fulfillment_order_id = t.fulfillment_order_id
  JOIN skus k ON k.merchant_id = :m AND k.sku = l.sku
  WHERE fo.agreement_id = :a AND t.process = 'kitting' AND t.owner = 'provider'
    AND t.status = 'done' AND t.completed_at >= :start AND t.completed_at < :end
    AND {kit_tag}),
fragile AS (
  SELECT COALESCE(SUM(-sm.on_hand_delta), 0) AS units
  FROM stock_movements sm JOIN skus k ON k.merchant_id = :m AND k.sku = sm.sku
  JOIN fulfillment_orders fo ON fo.id = sm.reference
  WHERE sm.merchant_id = :m AND sm.facility_id = :f AND sm.kind = 'shipment'
    AND sm.created_at >= :start AND sm.created_at < :end AND fo.agreement_id = :a
    AND {fragile_tag}),
rets AS (
  SELECT COUNT(*) AS n, COALESCE(SUM({units}), 0) AS units FROM events
  WHERE merchant_id = :m AND type = 'return.received' AND {agreement_of_event} = :a
    AND {received} >= :start_iso AND {received} < :end_iso),
carrier AS (
  SELECT COUNT(*) AS n, COALESCE(SUM({cents}), 0) AS cents
  FROM shipments s JOIN fulfillment_orders fo ON fo.id = s.fulfillment_order_id
  WHERE fo.agreement_id = :a AND s.shipped_at >= :start AND s.shipped_at < :end
    AND s.carrier_charge IS NOT NULL AND s.currency = 'USD'),
deltas AS (
  SELECT sku, {day} AS day, SUM(on_hand_delta) AS net,
         SUM(CASE WHEN on_hand_delta > 0 THEN on_hand_delta ELSE 0 END) AS rec
  FROM stock_movements
  WHERE merchant_id = :m AND facility_id = :f AND on_hand_delta <> 0 AND created_at < :end
  GROUP BY sku, {day}),
opening AS (SELECT sku, SUM(net) AS n FROM deltas WHERE day < :hist_day GROUP BY sku),
grid AS (SELECT k.sku, d.day FROM (SELECT DISTINCT sku FROM deltas) k CROSS JOIN days d),
daily AS (
  SELECT g.sku, g.day,
    COALESCE(o.n, 0) + SUM(COALESCE(x.net, 0)) OVER (
      PARTITION BY g.sku ORDER BY g.day ROWS UNBOUNDED PRECEDING) AS onhand,
    SUM(COALESCE(x.rec, 0)) OVER (
      PARTITION BY g.sku ORDER BY g.day ROWS BETWEEN 29 PRECEDING AND CURRENT ROW) AS young30,
    SUM(COALESCE(x.rec, 0)) OVER (
      PARTITION BY g.sku ORDER BY g.day ROWS BETWEEN 43 PRECEDING AND CURRENT ROW) AS young44
  FROM grid g LEFT JOIN deltas x ON x.sku = g.sku AND x.day = g.day
  LEFT JOIN opening o ON o.sku = g.sku),
storage AS (
  SELECT COALESCE(SUM({greatest}(0, d.onhand - d.young30)
                      * k.length_mm * k.width_mm * k.height_mm), 0) AS base_mm3,
         COALESCE(SUM({greatest}(0, d.onhand - d.young44)
                      * k.length_mm * k.width_mm * k.height_mm), 0) AS aged_mm3
  FROM daily d JOIN skus k ON k.merchant_id = :m AND k.sku = d.sku
  WHERE d.day >= :first_day)
SELECT (SELECT units FROM recv), (SELECT n FROM orders), (SELECT units FROM extra),
       (SELECT n FROM labels), (SELECT units FROM kits), (SELECT units FROM fragile),
       (SELECT n FROM rets), (SELECT units FROM rets), (SELECT n FROM carrier),
       (SELECT cents FROM carrier), (SELECT base_mm3 FROM storage),
       (SELECT aged_mm3 FROM storage)
"""

DIALECT = {
    "sqlite": {
        "next_day": "date(day, '+1 day')",
        "greatest": "max",
        "kit_tag": "EXISTS (SELECT 1 FROM json_each(k.tags) WHERE value = 'kit')",
        "fragile_tag": "EXISTS (SELECT 1 FROM json_each(k.tags) WHERE value = 'fragile')",
        "units": "json_extract(data, '$.units')",
        "agreement_of_event": "json_extract(data, '$.agreement_id')",
        "received": "json_extract(data, '$.received_at')",
        "cents": "CAST(ROUND(CAST(s.carrier_charge AS REAL) * 100) AS INTEGER)",
        "day": "substr(created_at, 1, 10)",
    },
    "postgres": {
        "next_day": "day + 1",
        "greatest": "GREATEST",
        "kit_tag": "k.tags @> '[\"kit\"]'",
        "fragile_tag": "k.tags @> '[\"fragile\"]'",
        "units": "(data->>'units')::int",
        "agreement_of_event": "data->>'agreement_id'",
        "received": "(data->>'received_at')::timestamptz",
        "cents": "s.carrier_charge * 100",
        "day": "(created_at AT TIME ZONE 'UTC')::date",
    },
}


def _baseline(url: str, world: World) -> tuple[float, dict[str, Decimal]]:
    backend = "postgres" if url.startswith("postgresql") else "sqlite"
    sql = BASELINE.format(**DIALECT[backend])
    hist = (START - timedelta(days=44)).date()
    last = (END - timedelta(days=1)).date()
    params: dict[str, Any] = {
        "m": world.merchant,
        "f": world.facility,
        "a": world.agreement,
        "hist_day": hist,
        "last_day": last,
        "first_day": START.date(),
        "start": START,
        "end": END,
        "start_iso": START.isoformat() if backend == "sqlite" else START,
        "end_iso": END.isoformat() if backend == "sqlite" else END,
    }
    if backend == "postgres":
        with psycopg.connect(_dsn(PG_DATABASE)) as conn:
            started = time.perf_counter()
            result = conn.execute(re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql), params).fetchone()
            seconds = time.perf_counter() - started
    else:
        for key in ("hist_day", "last_day", "first_day"):
            params[key] = params[key].isoformat()
        for key in ("start", "end"):
            params[key] = params[key].strftime("%Y-%m-%d %H:%M:%S.%f")
        lite = sqlite3.connect(url.removeprefix("sqlite:///"))
        started = time.perf_counter()
        result = lite.execute(sql, params).fetchone()
        seconds = time.perf_counter() - started
        lite.close()
    assert result is not None
    (recv, orders, extra, labels, kits, fragile, rets, ret_units, parcels, cents, base, aged) = (
        result
    )
    return seconds, {
        "receiving": D(recv),
        "fulfillment_order": D(orders),
        "fulfillment_extra_unit": D(extra),
        "labeling": D(labels),
        "kitting": D(kits),
        "special_handling:fragile": D(fragile),
        "returns_return": D(rets),
        "returns_unit": D(ret_units),
        "carrier_charges": D(parcels),
        "carrier_charges_amount": D(int(cents)).scaleb(-2),
        "storage": (D(base).scaleb(-9)).quantize(D("0.000001")),
        "storage_aged_45": (D(aged).scaleb(-9)).quantize(D("0.000001")),
    }


# --- Midway ----------------------------------------------------------------------------------


def _midway(url: str, world: World) -> tuple[float, str, dict[str, tuple[Decimal, Decimal]], int]:
    db = Database(url)
    principal = Principal(world.merchant, "merchant", "admin")
    try:
        started = time.perf_counter()
        with db.transaction() as session:
            invoice = billing.create_invoice(session, principal, world.agreement, PERIOD)
        seconds = time.perf_counter() - started
        with db.transaction(write=False) as session:
            lines = session.execute(
                select(
                    InvoiceLine.code, InvoiceLine.quantity, InvoiceLine.amount, InvoiceLine.refs
                ).where(InvoiceLine.invoice_id == invoice.id)
            ).all()
    finally:
        db.dispose()
    refs = sum(len(v) for *_, r in lines for v in r.values())
    return seconds, str(invoice.total), {c: (q, a) for c, q, a, _ in lines}, refs


def _compare(midway: dict[str, tuple[Decimal, Decimal]], sql: dict[str, Decimal]) -> list[str]:
    problems = []
    for code, quantity in sql.items():
        if code == "carrier_charges_amount":
            got = midway.get("carrier_charges", (D(0), D(0)))[1]
        else:
            got = midway.get(code, (D(0), D(0)))[0]
        want = quantity
        if got != want:
            problems.append(f"{code}: Midway {got}, SQL {want}")
    return problems


def _one(backend: str, url: str, orders: int, skus: int) -> list[dict[str, Any]]:
    db = Database(url)
    try:
        world = _setup(db, skus)
    finally:
        db.dispose()
    seeding = _seed(url, world, orders)
    midway_s, total, lines, refs = _midway(url, world)
    baseline_s, quantities = _baseline(url, world)
    problems = _compare(lines, quantities)
    name = f"invoice for {orders:,} orders ({backend})"
    # The target is for a month of 1,000,000 orders; a smaller run gets its share of it.
    target = TARGET_SECONDS * orders / FULL_ORDERS
    notes = (
        f"seeded in {seeding:.0f} s; {len(lines)} lines, {refs:,} source ids stored; total "
        f"{total} USD; baseline = one SQL aggregation of the same quantities"
    )
    rows = [
        row(
            BENCH,
            name,
            midway_s,
            "s",
            baseline=baseline_s,
            target=f"≤ {target:g} s" + ("" if orders == FULL_ORDERS else " (pro rata)"),
            verdict=verdict(midway_s <= target),
            notes=notes,
        ),
        row(
            BENCH,
            f"lines agree with the SQL baseline ({backend})",
            float(len(problems)),
            "mismatches",
            target="0",
            verdict=FAIL if problems else verdict(True),
            notes="; ".join(problems)[:500],
        ),
    ]
    return rows


def _dsn(database: str) -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def _fresh_postgres() -> str | None:
    try:
        with psycopg.connect(_dsn("postgres"), autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    except psycopg.OperationalError:
        return None
    url = f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}"
    upgrade(url)
    return url


def run(quick: bool = False) -> list[dict[str, Any]]:
    """The benchmark rows: SQLite, then PostgreSQL when a local server answers."""
    orders = 50_000 if quick else FULL_ORDERS
    skus = 200 if quick else 1_000
    rows: list[dict[str, Any]] = []
    with temp_folder() as folder:
        rows += _one("sqlite", fresh_sqlite(Path(folder)), orders, skus)
    url = _fresh_postgres()
    if url is None:
        rows.append(row(BENCH, "postgres", None, "", verdict=INFO, notes="no local PostgreSQL"))
    else:
        rows += _one("postgres", url, orders, skus)
    return rows
