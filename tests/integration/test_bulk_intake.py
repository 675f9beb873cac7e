"""Batch intake (``midway orders import``): the same records as placing orders one by one,
bad orders refused alone, and no oversell or duplicate when imports race, on both databases."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from midway.db import Database
from midway.errors import MidwayError
from midway.events.models import Event
from midway.fulfillment import batch, bulk, intake
from midway.fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from midway.inventory import service as inventory
from midway.inventory.models import StockBalance, StockMovement
from midway.orders.models import Order, OrderLine
from midway.orders.schemas import OrderIn
from midway.principal import Principal
from midway.tasks.models import Task
from tests.integration.support_network import build_network

# Twelve orders for the standard network (10 units of each SKU): the later ones find the
# stock gone, so the batch must source each against what the earlier ones took.
ORDERS = [
    ("1", [("TEE-BLK-M", 3), ("MUG-GLD", 1)]),
    ("2", [("CANDLE", 4)]),
    ("3", [("MUG-GLD", 6), ("GIFT-BOX", 2)]),
    ("4", [("TEE-BLK-M", 5)]),
    ("5", [("MUG-GLD", 4)]),  # 3 left: 3 reserved, 1 backordered
    ("6", [("CANDLE", 6), ("TEE-BLK-M", 2)]),  # candle exactly used up; 2 tees, 0 left
    ("7", [("CANDLE", 1)]),  # none left: backordered
    ("8", [("GIFT-BOX", 8)]),
    ("9", [("GIFT-BOX", 1), ("MUG-GLD", 1)]),
    ("10", [("TEE-BLK-M", 1)]),
    ("11", [("CANDLE", 2)], "DE"),  # another country, still the only facility
    ("12", [("MUG-GLD", 2)]),
]


def _bodies(network: Any) -> list[dict[str, Any]]:
    bodies = []
    for external_id, lines, *country in ORDERS:
        bodies.append(network.order(external_id, lines, country=country[0] if country else "US"))
    return bodies


def _inputs(bodies: list[dict[str, Any]]) -> list[Any]:
    return [OrderIn.model_validate(b).to_input() for b in bodies]


def _record(db: Database, merchant_id: str) -> dict[str, Any]:
    """What placing wrote for a merchant, keyed by external id and free of ids and times."""
    with db.transaction(write=False) as session:
        orders = {
            o.id: o for o in session.scalars(select(Order).where(Order.merchant_id == merchant_id))
        }
        result: dict[str, Any] = {}
        for order in orders.values():
            lines = session.scalars(
                select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.line_no)
            ).all()
            fos = session.scalars(
                select(FulfillmentOrder).where(FulfillmentOrder.order_id == order.id)
            ).all()
            fo_lines = session.scalars(
                select(FulfillmentOrderLine).where(
                    FulfillmentOrderLine.fulfillment_order_id.in_([f.id for f in fos])
                )
            ).all()
            tasks = session.scalars(
                select(Task).where(Task.fulfillment_order_id.in_([f.id for f in fos]))
            ).all()
            ledger = session.scalars(
                select(StockMovement).where(StockMovement.reference == order.id)
            ).all()
            subjects = {order.id, *(f.id for f in fos), *(t.id for t in tasks)}
            events = session.scalars(
                select(Event).where(Event.subject_id.in_(subjects)).order_by(Event.seq)
            ).all()
            result[order.external_id] = {
                "status": order.status,
                "reason": re.sub(r"fac_\w+", "FACILITY", order.sourcing[0]["reason"]),
                "lines": [(ln.sku, ln.quantity) for ln in lines],
                "fos": sorted((f.status, f.request_status) for f in fos),
                "fo_lines": sorted((fl.sku, fl.quantity) for fl in fo_lines),
                "tasks": sorted((t.process, t.owner) for t in tasks),
                "ledger": sorted(
                    (m.kind, m.sku, m.on_hand_delta, m.reserved_delta) for m in ledger
                ),
                "events": [e.type for e in events],
            }
        balances = session.execute(
            select(StockBalance.sku, StockBalance.on_hand, StockBalance.reserved).where(
                StockBalance.merchant_id == merchant_id
            )
        ).all()
        result["balances"] = sorted(tuple(b) for b in balances)
        assert inventory.ledger_matches_balances(session, merchant_id) == []
    return result


def _place_one_by_one(db: Database, network: Any) -> None:
    alone = Principal(network.merchant.id, "merchant", "admin")
    for data in _inputs(_bodies(network)):
        with db.transaction() as session:
            intake.place(session, alone, data)


def test_a_batch_writes_what_placing_one_by_one_writes(db, make_actor):
    one_by_one = build_network(make_actor)
    together = build_network(make_actor)

    _place_one_by_one(db, one_by_one)
    with db.transaction() as session:
        outcomes = batch.place_many(
            session,
            Principal(together.merchant.id, "merchant", "admin"),
            _inputs(_bodies(together)),
        )
    assert all(isinstance(o, intake.Placed) for o in outcomes), outcomes

    expected = _record(db, one_by_one.merchant.id)
    got = _record(db, together.merchant.id)
    assert got == expected
    # Hand-worked from ORDERS and 10 units of each SKU.
    assert got["5"]["status"] == "backordered" and got["5"]["ledger"] == [
        ("reservation", "MUG-GLD", 0, 3)
    ]
    assert got["7"]["status"] == "backordered" and got["7"]["ledger"] == []
    assert got["7"]["fos"] == [] and got["7"]["events"] == ["order.created"]
    assert got["6"]["status"] == "open"
    assert got["balances"] == [
        ("CANDLE", 10, 10),
        ("GIFT-BOX", 10, 10),
        ("MUG-GLD", 10, 10),
        ("TEE-BLK-M", 10, 10),
    ]


def test_a_batch_refuses_bad_orders_alone(db, make_actor):
    network = build_network(make_actor)
    network.place("existing", [("CANDLE", 1)])
    bodies = [
        network.order("good-1", [("TEE-BLK-M", 1)]),
        network.order("bad-sku", [("NOPE", 1)]),
        network.order("existing", [("CANDLE", 1)]),
        network.order("twice", [("MUG-GLD", 1)]),
        network.order("twice", [("MUG-GLD", 1)]),
        network.order("bad-country", [("MUG-GLD", 1)], country="XX"),
        network.order("good-2", [("GIFT-BOX", 2)]),
    ]
    principal = Principal(network.merchant.id, "merchant", "admin")
    with db.transaction() as session:
        outcomes = batch.place_many(session, principal, _inputs(bodies))
    refused = {
        bodies[i]["external_id"] + f"#{i}": (
            o.code,
            o.extra.get("field") if isinstance(o, MidwayError) else o.field,
        )
        for i, o in enumerate(outcomes)
        if not isinstance(o, intake.Placed)
    }
    assert refused == {
        "bad-sku#1": ("unknown_sku", "lines[0].sku"),
        "existing#2": ("duplicate_order", None),
        "twice#4": ("duplicate_order", None),
        "bad-country#5": ("unknown_country", "ship_to.country"),
    }
    with db.transaction(write=False) as session:
        mine = select(Order.external_id).where(Order.merchant_id == network.merchant.id)
        external = Counter(session.scalars(mine))
        assert external == Counter({"existing": 1, "good-1": 1, "twice": 1, "good-2": 1})
        assert inventory.ledger_matches_balances(session, network.merchant.id) == []


def _records(bodies: list[dict[str, Any]]) -> list[bulk.Record]:
    return [bulk.Record(i + 1, b) for i, b in enumerate(bodies)]


def test_racing_imports_never_oversell_nor_duplicate(db, make_actor):
    network = build_network(make_actor, stock=0)
    network.stock("MUG-GLD", 30)
    principal = Principal(network.merchant.id, "merchant", "admin")
    # Two files of 40 one-unit orders; 20 external ids appear in both.
    files = [
        [network.order(f"{name}-{i}", [("MUG-GLD", 1)]) for i in range(20)]
        + [network.order(f"both-{i}", [("MUG-GLD", 1)]) for i in range(20)]
        for name in ("a", "b")
    ]
    start = threading.Barrier(2)

    def run(bodies: list[dict[str, Any]]) -> bulk.ImportReport:
        start.wait()
        return bulk.import_orders(db, principal, _records(bodies), batch_size=7)

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(run, files))

    assert sum(r.accepted for r in reports) == 60
    assert Counter(x.code for r in reports for x in r.rejected) == Counter({"duplicate_order": 20})
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 60
        balance = session.scalars(select(StockBalance).where(StockBalance.sku == "MUG-GLD")).one()
        assert (balance.on_hand, balance.reserved) == (30, 30)
        assert inventory.ledger_matches_balances(session, network.merchant.id) == []


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_stock_taken_mid_batch_falls_back_to_one_by_one(db, make_actor):
    """Another writer reserves between the batch's read and its update: the batch rolls back
    to its savepoint and its orders are placed one by one against the real balance."""
    network = build_network(make_actor, stock=0)
    network.stock("MUG-GLD", 5)
    principal = Principal(network.merchant.id, "merchant", "admin")
    competitor_done: list[bool] = []

    def take_stock(conn, cursor, statement, parameters, context, executemany):
        update = statement.lstrip().upper().startswith("UPDATE STOCK_BALANCES")
        if update and not competitor_done:
            competitor_done.append(True)
            with db.engine.connect() as other:
                other.execute(
                    text(
                        "UPDATE stock_balances SET reserved = reserved + 2 "
                        "WHERE merchant_id = :m AND sku = 'MUG-GLD'"
                    ),
                    {"m": network.merchant.id},
                )
                other.commit()

    bodies = [network.order(f"o-{i}", [("MUG-GLD", 1)]) for i in range(5)]
    event.listen(db.engine, "before_cursor_execute", take_stock)
    try:
        report = bulk.import_orders(db, principal, _records(bodies), batch_size=5)
    finally:
        event.remove(db.engine, "before_cursor_execute", take_stock)

    assert competitor_done == [True]
    assert report.accepted == 5 and report.rejected == []
    with db.transaction(write=False) as session:
        statuses = Counter(
            session.scalars(select(Order.status).where(Order.merchant_id == network.merchant.id))
        )
        assert statuses == Counter({"open": 3, "backordered": 2})
        balance = session.scalars(select(StockBalance).where(StockBalance.sku == "MUG-GLD")).one()
        assert (balance.on_hand, balance.reserved) == (5, 5)


def _many_skus(network: Any, count: int, stock: int) -> list[str]:
    skus = [f"PART-{i:02d}" for i in range(count)]
    for sku in skus:
        r = network.merchant.put(f"/v1/skus/{sku}", json={"name": sku, "weight_g": 100})
        assert r.status_code == 200, r.text
        network.stock(sku, stock)
    return skus


def _statements(db: Database) -> tuple[list[str], Any]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split())[:60])

    return seen, record


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_batch_with_many_balances_reserves_them_in_two_statements(db, make_actor):
    """Thirty SKUs in one batch: the rows are locked in key order by one statement and
    reserved by another; every order gets its units and the ledger agrees."""
    network = build_network(make_actor, stock=0)
    skus = _many_skus(network, inventory.SET_BASED_FROM_KEYS + 6, stock=3)
    bodies = [network.order(f"m-{i}", [(sku, 2)]) for i, sku in enumerate(skus)]
    bodies.append(network.order("late", [(skus[0], 2)]))  # 1 left of PART-00
    principal = Principal(network.merchant.id, "merchant", "admin")
    seen, record = _statements(db)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        report = bulk.import_orders(db, principal, _records(bodies), batch_size=len(bodies))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    assert report.accepted == len(bodies) and report.rejected == []
    assert sum("FROM stock_balances AS b JOIN unnest" in s for s in seen) == 1
    assert sum(s.startswith("UPDATE stock_balances AS b") for s in seen) == 1
    with db.transaction(write=False) as session:
        balances = {
            b.sku: (b.on_hand, b.reserved)
            for b in session.scalars(
                select(StockBalance).where(StockBalance.merchant_id == network.merchant.id)
            )
        }
        statuses = Counter(
            session.scalars(select(Order.status).where(Order.merchant_id == network.merchant.id))
        )
        assert inventory.ledger_matches_balances(session, network.merchant.id) == []
    assert balances[skus[0]] == (3, 3)
    assert all(balances[sku] == (3, 2) for sku in skus[1:])
    assert statuses == Counter({"open": len(skus), "backordered": 1})


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_stock_taken_before_a_many_balance_batch_locks_falls_back(db, make_actor):
    """Another writer takes stock of one SKU after the batch read the balances but before it
    locked them: the update finds one balance short, the batch rolls back to its savepoint
    and its orders are placed one by one against the real stock."""
    network = build_network(make_actor, stock=0)
    skus = _many_skus(network, inventory.SET_BASED_FROM_KEYS + 2, stock=3)
    bodies = [network.order(f"m-{i}", [(sku, 2)]) for i, sku in enumerate(skus)]
    principal = Principal(network.merchant.id, "merchant", "admin")
    competitor_done: list[bool] = []

    def take_stock(conn, cursor, statement, parameters, context, executemany):
        if "FOR UPDATE OF b" in statement and not competitor_done:
            competitor_done.append(True)
            with db.engine.connect() as other:
                other.execute(
                    text(
                        "UPDATE stock_balances SET reserved = reserved + 2 "
                        "WHERE merchant_id = :m AND sku = :s"
                    ),
                    {"m": network.merchant.id, "s": skus[5]},
                )
                other.commit()

    event.listen(db.engine, "before_cursor_execute", take_stock)
    try:
        report = bulk.import_orders(db, principal, _records(bodies), batch_size=len(bodies))
    finally:
        event.remove(db.engine, "before_cursor_execute", take_stock)

    assert competitor_done == [True]
    assert report.accepted == len(bodies) and report.rejected == []
    with db.transaction(write=False) as session:
        lines = {
            line.sku: line
            for line in session.scalars(
                select(OrderLine).where(OrderLine.merchant_id == network.merchant.id)
            )
        }
        reserved = {
            b.sku: b.reserved
            for b in session.scalars(
                select(StockBalance).where(StockBalance.merchant_id == network.merchant.id)
            )
        }
        ours = dict(
            session.execute(
                select(StockMovement.sku, func.sum(StockMovement.reserved_delta))
                .where(
                    StockMovement.merchant_id == network.merchant.id,
                    StockMovement.kind == "reservation",
                )
                .group_by(StockMovement.sku)
            ).all()
        )
    assert set(lines) == set(skus)
    assert ours[skus[5]] == 1 and lines[skus[5]].quantity == 2  # 1 reserved, 1 backordered
    assert reserved[skus[5]] == 3  # the competitor's 2 and the 1 unit left for our order
    assert all(reserved[sku] == 2 for sku in skus if sku != skus[5])


def test_an_import_in_small_batches_writes_what_placing_one_by_one_writes(db, make_actor):
    """Each batch is sourced while the one before it is being written: the later batches must
    count the earlier ones' reservations whether or not those are committed yet, so no batch
    finds its stock gone (no fallback to one by one) and the records are those of placing
    the orders one at a time."""
    one_by_one = build_network(make_actor)
    imported = build_network(make_actor)
    _place_one_by_one(db, one_by_one)

    savepoints: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SAVEPOINT"):
            savepoints.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        report = bulk.import_orders(
            db,
            Principal(imported.merchant.id, "merchant", "admin"),
            _records(_bodies(imported)),
            batch_size=3,
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    assert report.accepted == len(ORDERS) and report.rejected == []
    assert len(savepoints) == len(ORDERS) // 3  # one per batch: none fell back
    assert _record(db, imported.merchant.id) == _record(db, one_by_one.merchant.id)


def test_a_batch_planned_behind_an_unwritten_one_leaves_it_its_stock(db, make_actor):
    """Batch B is sourced while batch A, which takes 9 of the 10 mugs, is not written yet:
    given A as unseen, B plans with the 1 mug left and both write without falling back. A
    batch planned after A committed reads A's reservations from the database instead."""
    network = build_network(make_actor, stock=0)
    network.stock("MUG-GLD", 10)
    principal = Principal(network.merchant.id, "merchant", "admin")
    first = _inputs([network.order(f"a-{i}", [("MUG-GLD", 3)]) for i in range(3)])
    second = _inputs([network.order("b-0", [("MUG-GLD", 3)])])
    later = _inputs([network.order("c-0", [("MUG-GLD", 1)])])

    with db.transaction(write=False, snapshot=True) as session:
        a = batch.plan_batch(session, principal, first)
        b = batch.plan_batch(session, principal, second, unseen=[a])
    assert sum(a.totals.values()) == 9 and sum(b.totals.values()) == 1
    with db.transaction() as session:
        assert all(isinstance(o, intake.Placed) for o in batch.write_batch(session, principal, a))
    with db.transaction() as session:
        assert all(isinstance(o, intake.Placed) for o in batch.write_batch(session, principal, b))
    with db.transaction(write=False, snapshot=True) as session:
        c = batch.plan_batch(session, principal, later)  # A and B are in its snapshot
    assert c.totals == {} and c.together

    with db.transaction(write=False) as session:
        balance = session.scalars(select(StockBalance).where(StockBalance.sku == "MUG-GLD")).one()
        statuses = dict(
            session.execute(
                select(Order.external_id, Order.status).where(
                    Order.merchant_id == network.merchant.id
                )
            ).all()
        )
    assert (balance.on_hand, balance.reserved) == (10, 10)
    assert statuses == {"a-0": "open", "a-1": "open", "a-2": "open", "b-0": "backordered"}


def _lines_by_order(db: Database, merchant_id: str) -> dict[str, list[tuple[str, int, Any]]]:
    with db.transaction(write=False) as session:
        rows = session.execute(
            select(Order.external_id, OrderLine.sku, OrderLine.quantity, OrderLine.unit_price)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.merchant_id == merchant_id)
            .order_by(Order.external_id, OrderLine.line_no)
        ).all()
    lines: dict[str, list[tuple[str, int, Any]]] = {}
    for external_id, sku, quantity, unit_price in rows:
        lines.setdefault(external_id, []).append((sku, quantity, unit_price))
    return lines


@pytest.mark.parametrize("quantity", ["2", 2.0, True])
def test_a_json_lines_import_refuses_a_quantity_that_is_not_an_integer(
    db, make_actor, tmp_path, quantity
):
    network = build_network(make_actor)
    bad = network.order("j-2", [("CANDLE", 1)])
    bad["lines"][0]["quantity"] = quantity
    bodies = [network.order("j-1"), bad, network.order("j-3")]
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(b) + "\n" for b in bodies))

    principal = Principal(network.merchant.id, "merchant", "admin")
    report = bulk.import_orders(db, principal, bulk.read_orders(path))

    assert report.accepted == 2
    assert [(r.line, r.external_id, r.code, r.field, r.reason) for r in report.rejected] == [
        (2, "j-2", "invalid_input", "lines[0].quantity", "Input should be a valid integer")
    ]
    assert set(_lines_by_order(db, network.merchant.id)) == {"j-1", "j-3"}


CSV_HEADER = (
    "channel,external_id,ship_to_name,ship_to_address1,ship_to_city,ship_to_postal_code,"
    "ship_to_country,sku,quantity,unit_price\n"
)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("two", "line 5, column quantity: 'two' is not a whole number"),
        ("1.5", "line 5, column quantity: '1.5' is not a whole number"),
        ("", "line 5, column quantity: is empty"),
    ],
)
def test_a_csv_import_reads_quantities_and_names_a_bad_cell(db, make_actor, tmp_path, cell, reason):
    network = build_network(make_actor)
    to = "Ada,1 Main St,Austin,78701,US"
    path = tmp_path / "orders.csv"
    path.write_text(
        CSV_HEADER
        + f"web,c-1,{to},TEE-BLK-M,2,19.90\n"
        + f"web,c-1,{to},CANDLE, 1 ,\n"
        + f"web,c-2,{to},MUG-GLD,1,\n"
        + f"web,c-2,{to},CANDLE,{cell},\n"
        + f"web,c-3,{to},GIFT-BOX,3,\n"
    )

    principal = Principal(network.merchant.id, "merchant", "admin")
    report = bulk.import_orders(db, principal, bulk.read_orders(path))

    assert report.accepted == 2
    assert [(r.line, r.external_id, r.code, r.field, r.reason) for r in report.rejected] == [
        (4, "c-2", "invalid_input", "lines[1].quantity", reason)
    ]
    assert _lines_by_order(db, network.merchant.id) == {
        "c-1": [("TEE-BLK-M", 2, Decimal("19.90")), ("CANDLE", 1, None)],
        "c-3": [("GIFT-BOX", 3, None)],
    }
