"""An order's reservation is all or nothing, and the transaction it runs in goes on."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from midway.db import Database
from midway.facilities.models import Facility
from midway.inventory import service as inventory
from midway.inventory.models import StockBalance
from tests.integration.support_network import build_network


def _balances(db, merchant_id: str) -> dict[str, tuple[int, int]]:
    with db.transaction(write=False) as session:
        return {
            b.sku: (b.on_hand, b.reserved)
            for b in session.scalars(
                select(StockBalance).where(StockBalance.merchant_id == merchant_id)
            )
        }


def _facility_id(db: Database, code: str) -> str:
    with db.transaction(write=False) as session:
        return session.scalars(select(Facility.id).where(Facility.code == code)).one()


def test_a_refused_reservation_changes_nothing_and_the_transaction_goes_on(db, make_actor):
    network = build_network(make_actor, stock=5)
    merchant_id, site = network.merchant.id, _facility_id(db, "KS-CHI")
    before = _balances(db, merchant_id)

    with db.transaction() as session:
        # The first key fits, the second does not: neither is reserved.
        with pytest.raises(inventory.InsufficientStock):
            inventory.reserve(session, merchant_id, {(site, "CANDLE"): 4, (site, "MUG-GLD"): 6})
        assert session.execute(text("SELECT 1")).scalar_one() == 1
        # A second plan in the same transaction.
        inventory.reserve(session, merchant_id, {(site, "CANDLE"): 4, (site, "MUG-GLD"): 5})

    after = _balances(db, merchant_id)
    assert after["CANDLE"] == (5, 4) and after["MUG-GLD"] == (5, 5)
    assert after["TEE-BLK-M"] == before["TEE-BLK-M"] == (5, 0)


def test_many_refused_reservations_leave_no_savepoint_behind(db, make_actor):
    """Each attempt releases its savepoint: a hundred refusals in one transaction, then a
    rollback of an outer savepoint still undoes exactly what came after it."""
    network = build_network(make_actor, stock=5)
    merchant_id, site = network.merchant.id, _facility_id(db, "KS-CHI")
    with db.transaction() as session:
        for _ in range(100):
            with pytest.raises(inventory.InsufficientStock):
                inventory.reserve(session, merchant_id, {(site, "CANDLE"): 6})
            inventory.reserve(session, merchant_id, {(site, "GIFT-BOX"): 0})  # nothing to do
        outer = session.begin_nested()
        inventory.reserve(session, merchant_id, {(site, "CANDLE"): 2})
        outer.rollback()
        inventory.reserve(session, merchant_id, {(site, "CANDLE"): 1})
    assert _balances(db, merchant_id)["CANDLE"] == (5, 1)


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_reservation_waiting_on_a_row_sees_what_the_other_left(db, make_actor):
    """A reservation blocked by another transaction's lock is checked against the committed
    result: the units the other took are not available any more."""
    network = build_network(make_actor, stock=5)
    merchant_id, site = network.merchant.id, _facility_id(db, "KS-CHI")
    holding, outcome = threading.Event(), {}

    def second() -> None:
        holding.wait(10)
        try:
            with db.transaction() as session:
                inventory.reserve(session, merchant_id, {(site, "CANDLE"): 2})
            outcome["second"] = "reserved"
        except inventory.InsufficientStock:
            outcome["second"] = "refused"

    worker = threading.Thread(target=second)
    worker.start()
    with db.transaction() as session:
        inventory.reserve(session, merchant_id, {(site, "CANDLE"): 4})
        holding.set()
        worker.join(0.5)  # the second one waits for this transaction's row lock
        assert worker.is_alive()
    worker.join(10)
    assert outcome == {"second": "refused"}
    assert _balances(db, merchant_id)["CANDLE"] == (5, 4)
