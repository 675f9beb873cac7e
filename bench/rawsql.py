"""The baseline's writes: what Midway stores for an order, as plain SQL rows.

For each order the baseline writes the order and its lines, one guarded reservation per line
(``UPDATE stock_balances ... WHERE on_hand - reserved >= q``, in key order), one ledger row
per reservation, and as many fulfillment orders, FO lines, tasks and events as Midway wrote
for an order of the same shape (counted from Midway's own tables after its run). Payloads
(addresses, sourcing decision, task decisions, event data) are of similar size to Midway's.
It reads nothing: no validation, no network, no sourcing; that is what makes it a floor.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bench.network import Network, Shape
from midway.db import new_id

INSERT_ORDER = (
    "INSERT INTO orders (id, merchant_id, channel, external_id, status, ship_to, currency,"
    " order_value, sourcing, placed_at, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
INSERT_LINE = (
    "INSERT INTO order_lines (id, order_id, merchant_id, line_no, sku, quantity,"
    " cancelled_quantity, unit_price) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
RESERVE = (
    "UPDATE stock_balances SET reserved = reserved + %s WHERE merchant_id = %s"
    " AND facility_id = %s AND sku = %s AND on_hand - reserved >= %s"
)
INSERT_LEDGER = (
    "INSERT INTO stock_movements (merchant_id, facility_id, sku, kind, on_hand_delta,"
    " reserved_delta, reason, reference, actor_party_id, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
INSERT_FO = (
    "INSERT INTO fulfillment_orders (id, merchant_id, order_id, facility_id, provider_id,"
    " agreement_id, agreement_version, status, request_status, status_before_hold,"
    " rejection_reason, rejection_message, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
INSERT_FO_LINE = (
    "INSERT INTO fulfillment_order_lines (id, fulfillment_order_id, merchant_id, order_line_id,"
    " sku, components, quantity, shipped_quantity, released_quantity)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
INSERT_TASK = (
    "INSERT INTO tasks (id, merchant_id, provider_id, fulfillment_order_id, process, owner,"
    " owner_party_id, status, due_at, decision, skus, created_at, completed_at, completed_by)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
INSERT_EVENT = (
    "INSERT INTO events (id, type, merchant_id, provider_id, subject_type, subject_id,"
    " actor_party_id, data, dispatched, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
PROCESSES = ("picking", "branded_inserts", "packing", "labeling", "carrier_handoff", "kitting")


def _id(prefix: str) -> str:
    # The same ids as Midway's (time first, then random): where a row lands in each index
    # decides how many pages a commit writes, so the baseline must not differ here.
    return new_id(prefix)


class Dialect:
    """How values are bound: PostgreSQL (psycopg) or SQLite (the ``sqlite3`` module)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def sql(self, statement: str) -> str:
        """The statement with this driver's placeholders."""
        return statement if self.name == "postgresql" else statement.replace("%s", "?")

    def json(self, value: Any) -> Any:
        """A JSON column value."""
        return Jsonb(value) if self.name == "postgresql" else json.dumps(value)

    def when(self, value: datetime) -> Any:
        """A UTC timestamp column value (SQLite keeps SQLAlchemy's text format)."""
        if self.name == "postgresql":
            return value
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    def money(self, value: Decimal | None) -> Any:
        """A Money column value (text on SQLite)."""
        if value is None or self.name == "postgresql":
            return value
        return str(value)

    def flag(self, value: bool) -> Any:
        """A boolean column value."""
        return value if self.name == "postgresql" else int(value)


@dataclass
class Rows:
    """Rows to write, by table, for one order or a batch of orders."""

    orders: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    reserve: list[tuple[Any, ...]] = field(default_factory=list)
    ledger: list[tuple[Any, ...]] = field(default_factory=list)
    fos: list[tuple[Any, ...]] = field(default_factory=list)
    fo_lines: list[tuple[Any, ...]] = field(default_factory=list)
    tasks: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)


def add_order(
    rows: Rows,
    dialect: Dialect,
    net: Network,
    body: dict[str, Any],
    shape: Shape,
    rng: random.Random,
) -> None:
    """Append the rows of one order of the given shape."""
    d = dialect
    now = datetime.now(UTC)
    stamp = d.when(now)
    merchant = net.merchant_id
    provider = net.provider_ids[0]
    order_id = _id("ord")
    lines = body["lines"]
    picks = [
        (rng.choice(net.stocked_at[ln["sku"]]), ln["sku"], int(ln["quantity"])) for ln in lines
    ]
    value = sum((Decimal(ln["unit_price"]) * int(ln["quantity"]) for ln in lines), Decimal(0))
    fo_count = max(1, min(shape.fulfillment_orders, len(lines)))
    fo_ids = [_id("fo") for _ in range(fo_count)]
    decision = {
        "allocations": [
            {"line_id": _id("oln"), "facility_id": f, "quantity": q} for f, _, q in picks
        ],
        "backordered": {},
        "facilities": [f for f, _, _ in picks[:fo_count]],
        "reason": f"{picks[0][0]} covers the whole order (the cheapest of 4 that could)",
        "steps": [
            f"{f} covers all {len(lines)} lines (cost 3.{i}0)"
            for i, f in enumerate(net.facility_ids[:8])
        ],
        "estimated_cost": "4.10",
    }
    ship_to = dict(body["ship_to"])
    rows.orders.append(
        (
            order_id,
            merchant,
            body["channel"],
            body["external_id"],
            "open",
            d.json(ship_to),
            body.get("currency"),
            d.money(value),
            d.json([decision]),
            stamp,
            stamp,
            stamp,
        )
    )
    line_ids = []
    for number, (ln, (_facility, sku, quantity)) in enumerate(zip(lines, picks, strict=True), 1):
        line_id = _id("oln")
        line_ids.append(line_id)
        rows.lines.append(
            (
                line_id,
                order_id,
                merchant,
                number,
                sku,
                quantity,
                0,
                d.money(Decimal(ln["unit_price"])),
            )
        )
    for facility, sku, quantity in sorted(picks):
        rows.reserve.append((quantity, merchant, facility, sku, quantity))
        rows.ledger.append(
            (
                merchant,
                facility,
                sku,
                "reservation",
                0,
                quantity,
                "order_sourced",
                order_id,
                merchant,
                stamp,
            )
        )
    for index, fo_id in enumerate(fo_ids):
        rows.fos.append(
            (
                fo_id,
                merchant,
                order_id,
                picks[index][0],
                provider,
                None,
                1,
                "open",
                "submitted",
                None,
                None,
                None,
                stamp,
                stamp,
            )
        )
    for index, (line_id, (_, sku, quantity)) in enumerate(zip(line_ids, picks, strict=True)):
        rows.fo_lines.append(
            (
                _id("fol"),
                fo_ids[index % fo_count],
                merchant,
                line_id,
                sku,
                d.json([{"sku": sku, "quantity": 1}]),
                quantity,
                0,
                0,
            )
        )
    due = d.when(now + timedelta(days=1))
    task_ids = []
    for index in range(shape.tasks):
        task_id = _id("tsk")
        task_ids.append(task_id)
        process = PROCESSES[index % len(PROCESSES)]
        rows.tasks.append(
            (
                task_id,
                merchant,
                provider,
                fo_ids[index % fo_count],
                process,
                "provider",
                provider,
                "open",
                due,
                d.json(
                    {
                        "process": process,
                        "owner": "provider",
                        "rule_id": None,
                        "reason": f"no rule for {process} matched; default owner provider",
                        "facility": None,
                        "sla_target": None,
                        "cost_bearer": None,
                    }
                ),
                d.json(sorted({sku for _, sku, _ in picks})),
                stamp,
                None,
                None,
            )
        )
    subjects = (
        [("order", order_id)]
        + [("fulfillment_order", f) for f in fo_ids] * 2
        + [("task", t) for t in task_ids]
    )
    for index in range(shape.events):
        kind, subject = subjects[index % len(subjects)]
        rows.events.append(
            (
                _id("evt"),
                f"{kind}.created",
                merchant,
                provider,
                kind,
                subject,
                merchant,
                d.json(
                    {
                        "order_id": order_id,
                        "subject": subject,
                        "status": "open",
                        "due_at": now.isoformat(),
                    }
                ),
                d.flag(False),
                stamp,
            )
        )


class InsufficientStock(Exception):
    """A guarded reservation matched fewer rows than asked (should not happen here)."""


def write_pg(cur: psycopg.Cursor[Any], rows: Rows) -> None:
    """Write ``rows`` with psycopg inside the caller's transaction."""
    if len(rows.orders) == 1:
        cur.execute(INSERT_ORDER, rows.orders[0])
    else:
        cur.executemany(INSERT_ORDER, rows.orders)
    cur.executemany(INSERT_LINE, rows.lines)
    if len(rows.reserve) <= 5:
        for params in rows.reserve:
            cur.execute(RESERVE, params)
            if cur.rowcount != 1:
                raise InsufficientStock(str(params))
    else:
        cur.executemany(RESERVE, rows.reserve)
        if cur.rowcount != len(rows.reserve):
            raise InsufficientStock(f"{cur.rowcount} of {len(rows.reserve)} reserved")
    cur.executemany(INSERT_LEDGER, rows.ledger)
    cur.executemany(INSERT_FO, rows.fos)
    cur.executemany(INSERT_FO_LINE, rows.fo_lines)
    if rows.tasks:
        cur.executemany(INSERT_TASK, rows.tasks)
    if rows.events:
        cur.executemany(INSERT_EVENT, rows.events)


_SQLITE = Dialect("sqlite")


def write_sqlite(conn: sqlite3.Connection, rows: Rows) -> None:
    """Write ``rows`` with ``sqlite3`` inside the caller's transaction."""
    sql = _SQLITE.sql
    conn.executemany(sql(INSERT_ORDER), rows.orders)
    conn.executemany(sql(INSERT_LINE), rows.lines)
    cur = conn.executemany(sql(RESERVE), rows.reserve)
    if cur.rowcount != len(rows.reserve):
        raise InsufficientStock(f"{cur.rowcount} of {len(rows.reserve)} reserved")
    conn.executemany(sql(INSERT_LEDGER), rows.ledger)
    conn.executemany(sql(INSERT_FO), rows.fos)
    conn.executemany(sql(INSERT_FO_LINE), rows.fo_lines)
    conn.executemany(sql(INSERT_TASK), rows.tasks)
    conn.executemany(sql(INSERT_EVENT), rows.events)


def sqlite_connect(path: str) -> sqlite3.Connection:
    """A connection with Midway's pragmas (WAL, synchronous NORMAL, foreign keys, busy
    timeout, temporary storage in memory), in autocommit mode so transactions begin
    explicitly."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
        "temp_store=MEMORY",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn
