"""No oversell and no duplicate orders under concurrent clients, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import func, select

from midway.inventory import service as inventory
from midway.inventory.models import StockBalance
from midway.orders.models import Order
from tests.integration.support_network import build_network

CLIENTS = 32


def test_32_clients_race_for_the_last_units(db, make_actor, live_server):
    network = build_network(make_actor, stock=0)
    network.stock("MUG-GLD", 10)

    def buy(i: int) -> dict[str, Any]:
        body = network.order(f"race-{i}", [("MUG-GLD", 1)])
        r = httpx.post(
            f"{live_server.url}/v1/orders", json=body, headers=network.merchant.headers, timeout=60
        )
        assert r.status_code == 201, r.text
        placed: dict[str, Any] = r.json()
        return placed

    with ThreadPoolExecutor(CLIENTS) as pool:
        orders = list(pool.map(buy, range(CLIENTS)))

    reserved = sum(o["lines"][0]["reserved_quantity"] for o in orders)
    backordered = sum(o["lines"][0]["backordered_quantity"] for o in orders)
    assert (reserved, backordered) == (10, CLIENTS - 10)
    assert sum(o["status"] == "open" for o in orders) == 10
    with db.transaction(write=False) as session:
        (balance,) = session.scalars(select(StockBalance).where(StockBalance.sku == "MUG-GLD"))
        assert (balance.on_hand, balance.reserved) == (10, 10)
        assert inventory.ledger_matches_balances(session, network.merchant.id) == []


def test_multi_line_orders_racing_in_opposite_key_order_never_deadlock(db, make_actor, live_server):
    network = build_network(make_actor, stock=0)
    network.stock("CANDLE", 12)
    network.stock("TEE-BLK-M", 12)

    def buy(i: int) -> int:
        lines = [("CANDLE", 1), ("TEE-BLK-M", 1)] if i % 2 else [("TEE-BLK-M", 1), ("CANDLE", 1)]
        r = httpx.post(
            f"{live_server.url}/v1/orders",
            json=network.order(f"mix-{i}", lines),
            headers=network.merchant.headers,
            timeout=60,
        )
        return r.status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = list(pool.map(buy, range(CLIENTS)))
    assert statuses == [201] * CLIENTS
    with db.transaction(write=False) as session:
        rows = {b.sku: b for b in session.scalars(select(StockBalance))}
        assert rows["CANDLE"].reserved == 12 and rows["TEE-BLK-M"].reserved == 12
        assert inventory.ledger_matches_balances(session, network.merchant.id) == []


def test_concurrent_duplicates_with_one_idempotency_key_make_one_order(db, make_actor, live_server):
    network = build_network(make_actor)
    body = network.order("dup-1", [("CANDLE", 1)])
    headers = network.merchant.headers | {"Idempotency-Key": "key-123"}

    def send(_: int) -> httpx.Response:
        return httpx.post(f"{live_server.url}/v1/orders", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(send, range(16)))
    codes = sorted(r.status_code for r in replies)
    assert set(codes) <= {201, 409}
    created = {r.json()["id"] for r in replies if r.status_code == 201}
    assert len(created) == 1
    # once settled, a retry replays the very same answer
    again = send(0)
    assert again.status_code == 201 and again.json()["id"] in created
    assert again.headers.get("idempotent-replayed") == "true"
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1


def test_concurrent_same_channel_order_without_keys_makes_one_order(db, make_actor, live_server):
    network = build_network(make_actor)
    body = network.order("same-ext", [("CANDLE", 1)])

    def send(_: int) -> int:
        return httpx.post(
            f"{live_server.url}/v1/orders", json=body, headers=network.merchant.headers, timeout=60
        ).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(send, range(16)))
    assert codes.count(201) == 1 and codes.count(409) == 15
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        balance = session.scalars(select(StockBalance).where(StockBalance.sku == "CANDLE")).one()
        assert balance.reserved == 1
