"""Orders posted at the same time are placed together (``midway.fulfillment.group``): one
transaction for the group, the records of placing each alone, and every order accepted or
refused on its own, on both databases."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from midway.db import Database
from midway.errors import Conflict, InvalidInput, PermissionDenied
from midway.fulfillment import intake
from midway.fulfillment.group import GroupPlacer, _Request
from midway.orders.models import Order
from midway.orders.service import OrderInput
from midway.principal import Principal
from tests.integration.support_network import build_network
from tests.integration.test_bulk_intake import ORDERS, _bodies, _inputs, _place_one_by_one, _record


class _Callers:
    """Callers of one placer queued in a known order behind a group being placed: while the
    test holds the placer's turn, each caller joins the waiting list before the next starts,
    so that the first to get the turn places them all, in that order."""

    def __init__(self, placer: GroupPlacer) -> None:
        self.placer = placer
        self.results: dict[int, Any] = {}
        self.threads: list[threading.Thread] = []

    def queue(self, principal: Principal, inputs: list[OrderInput]) -> None:
        for data in inputs:
            number = len(self.threads)
            thread = threading.Thread(target=self._call, args=(number, principal, data))
            self.threads.append(thread)
            thread.start()
            deadline = time.monotonic() + 10
            while self.placer.waiting < len(self.threads):
                assert time.monotonic() < deadline, "a caller never joined the waiting list"
                time.sleep(0.001)

    def _call(self, number: int, principal: Principal, data: OrderInput) -> None:
        try:
            self.results[number] = self.placer.place(principal, data)
        except Exception as exc:
            self.results[number] = exc

    def join(self) -> dict[int, Any]:
        for thread in self.threads:
            thread.join(30)
            assert not thread.is_alive()
        return self.results


def _commits(db: Database) -> tuple[list[int], Any]:
    seen: list[int] = []

    def count(_conn: Any) -> None:
        seen.append(1)

    event.listen(db.engine, "commit", count)
    return seen, count


def test_orders_waiting_together_are_placed_in_one_transaction(db, make_actor):
    one_by_one = build_network(make_actor)
    grouped = build_network(make_actor)
    _place_one_by_one(db, one_by_one)
    placer = GroupPlacer(db)
    callers = _Callers(placer)
    seen, count = _commits(db)
    try:
        with placer.paused():  # a group is being placed: the callers queue behind it
            callers.queue(
                Principal(grouped.merchant.id, "merchant", "admin"), _inputs(_bodies(grouped))
            )
        results = callers.join()
    finally:
        event.remove(db.engine, "commit", count)

    # the twelve orders in one transaction (on SQLite, planned in a read transaction before it)
    assert len(seen) == (2 if db.serial_writes else 1)
    assert all(isinstance(results[i], intake.Placed) for i in range(len(ORDERS))), results
    assert [results[i].order.external_id for i in range(len(ORDERS))] == [o[0] for o in ORDERS]
    assert _record(db, grouped.merchant.id) == _record(db, one_by_one.merchant.id)
    fifth = results[4]  # 3 mugs left for 4: as placing it alone answers
    assert fifth.order.status == "backordered"
    assert sorted(fifth.reserved.values()) == [3]
    assert [fo["status"] for fo in fifth.fulfillment_orders] == ["open"]
    assert set(fifth.facility_codes.values()) == {"KS-CHI"}


def test_a_refused_order_fails_alone_in_its_group(db, make_actor):
    network = build_network(make_actor)
    network.place("existing", [("CANDLE", 1)])
    merchant = Principal(network.merchant.id, "merchant", "admin")
    viewer = Principal(network.merchant.id, "merchant", "viewer")
    placer = GroupPlacer(db)
    callers = _Callers(placer)
    with placer.paused():
        callers.queue(
            merchant,
            _inputs(
                [
                    network.order("good-1", [("TEE-BLK-M", 1)]),
                    network.order("bad-sku", [("NOPE", 1)]),
                    network.order("existing", [("CANDLE", 1)]),
                ]
            ),
        )
        callers.queue(viewer, _inputs([network.order("viewer", [("MUG-GLD", 1)])]))
        callers.queue(merchant, _inputs([network.order("good-2", [("GIFT-BOX", 2)])]))
    results = callers.join()

    assert isinstance(results[0], intake.Placed) and results[0].order.external_id == "good-1"
    assert isinstance(results[4], intake.Placed) and results[4].order.external_id == "good-2"
    assert isinstance(results[1], InvalidInput)
    assert (results[1].code, results[1].extra["field"]) == ("unknown_sku", "lines[0].sku")
    assert isinstance(results[2], Conflict) and results[2].code == "duplicate_order"
    assert isinstance(results[3], PermissionDenied) and results[3].code == "role_too_low"
    assert _external_ids(db, network.merchant.id) == {"existing", "good-1", "good-2"}


def test_a_lone_caller_is_placed_at_once(db, make_actor):
    network = build_network(make_actor)
    placer = GroupPlacer(db)
    placed = placer.place(
        Principal(network.merchant.id, "merchant", "admin"),
        _inputs([network.order("alone", [("MUG-GLD", 2)])])[0],
    )
    assert placed.order.status == "open" and placer.waiting == 0


class _Overtaken(GroupPlacer):
    """A placer whose groups are overtaken: another writer runs after a group was planned and
    before it is written."""

    def __init__(self, db: Database, meanwhile: Any) -> None:
        super().__init__(db)
        self.meanwhile = meanwhile

    def _plan(self, *args: Any, **kwargs: Any) -> Any:
        plans = super()._plan(*args, **kwargs)
        self.meanwhile()
        return plans


def test_stock_taken_between_planning_and_writing_is_never_oversold(db, make_actor):
    """The group saw 10 mugs and planned 4; another order takes 8 before the group writes.
    The guarded reservation notices, and the order is placed again with fresh reads: 2 mugs
    reserved, 2 backordered, and the balance never goes below zero."""
    network = build_network(make_actor)
    placer = _Overtaken(db, lambda: network.place("first", [("MUG-GLD", 8)]))
    late = placer.place(
        Principal(network.merchant.id, "merchant", "admin"),
        _inputs([network.order("late", [("MUG-GLD", 4)])])[0],
    )
    assert late.order.status == "backordered"
    assert sorted(late.reserved.values()) == [2]
    assert [(line.sku, line.quantity) for line in late.lines] == [("MUG-GLD", 4)]
    balance = network.merchant.get("/v1/inventory", params={"sku": "MUG-GLD"}).json()
    assert [(b["on_hand"], b["reserved"], b["available"]) for b in balance] == [(10, 10, 0)]


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_group_that_cannot_commit_fails_every_caller(db, make_actor):
    """The group's transaction fails as a whole (here PostgreSQL refuses it at commit): no
    order of it is kept and every caller gets the error."""
    network = build_network(make_actor)
    placer = GroupPlacer(db)
    callers = _Callers(placer)

    def refuse(conn: Any) -> None:
        conn.exec_driver_sql("SET LOCAL statement_timeout = 1")
        conn.exec_driver_sql("SELECT pg_sleep(0.05)")

    event.listen(db.engine, "commit", refuse)
    try:
        with placer.paused():
            callers.queue(
                Principal(network.merchant.id, "merchant", "admin"),
                _inputs([network.order(f"o-{i}", [("MUG-GLD", 1)]) for i in range(3)]),
            )
        results = callers.join()
    finally:
        event.remove(db.engine, "commit", refuse)
    assert len(results) == 3
    assert all(isinstance(r, OperationalError) for r in results.values()), results
    assert _external_ids(db, network.merchant.id) == set()


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_failed_group_does_not_fail_a_placer_whose_order_was_not_in_it(db, make_actor):
    """The thread placing a group may have joined too late to be in it (groups have a
    maximum size). When that group fails, its members get the error, and the thread goes on
    to place its own order instead of raising an error that is not its own (which left its
    order waiting, to be placed later for a caller already told it failed)."""
    network = build_network(make_actor)
    principal = Principal(network.merchant.id, "merchant", "admin")
    placer = GroupPlacer(db, most=2)
    early = [
        _Request(principal, data)
        for data in _inputs([network.order(f"early-{i}", [("MUG-GLD", 1)]) for i in range(2)])
    ]
    placer._waiting += early  # two callers queued before this one: the first group is theirs
    commits = iter([True])

    def refuse_first(conn: Any) -> None:
        if next(commits, False):
            conn.exec_driver_sql("SET LOCAL statement_timeout = 1")
            conn.exec_driver_sql("SELECT pg_sleep(0.05)")

    event.listen(db.engine, "commit", refuse_first)
    try:
        late = placer.place(principal, _inputs([network.order("late", [("MUG-GLD", 1)])])[0])
    finally:
        event.remove(db.engine, "commit", refuse_first)
    assert late.order.external_id == "late"
    assert all(isinstance(r.failure, OperationalError) for r in early)
    assert placer.waiting == 0
    assert _external_ids(db, network.merchant.id) == {"late"}


def _external_ids(db: Database, merchant_id: str) -> set[str]:
    with db.transaction(write=False) as session:
        return set(
            session.scalars(select(Order.external_id).where(Order.merchant_id == merchant_id))
        )
