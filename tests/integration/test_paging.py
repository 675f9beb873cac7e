"""Paging through lists with ``after``: every item once, in the list's order, even when many
items share the value the list is sorted by (orders placed together share their creation
time; tasks of one fulfillment order share their due time)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from midway.db import Database
from midway.orders.models import Order
from midway.tasks.models import Task


def _pages(actor: Any, url: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    after = ""
    while True:
        r = actor.get(url + f"&limit={limit}" + (f"&after={after}" if after else ""))
        assert r.status_code == 200, r.text
        ids = [item["id"] for item in r.json()]
        if not ids:
            return pages
        pages.append(ids)
        assert len(pages) < 100, "paging does not end"
        after = ids[-1]


def test_orders_placed_at_the_same_time_are_each_listed_once(network: Any, db: Database) -> None:
    network.stock("CANDLE", 100)
    placed = [network.place(f"same-{n}", lines=[("CANDLE", 1)])["id"] for n in range(13)]
    with db.transaction() as session:
        session.execute(update(Order).values(created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC)))
    pages = _pages(network.merchant, "/v1/orders?channel=web", limit=4)
    listed = [order_id for page in pages for order_id in page]
    assert sorted(listed) == sorted(placed)
    assert listed == sorted(placed, reverse=True)  # newest first: within a time, by id
    assert [len(page) for page in pages] == [4, 4, 4, 1]


def test_tasks_page_by_due_time_with_undated_ones_last(network: Any, db: Database) -> None:
    network.stock("CANDLE", 100)
    for n in range(4):
        network.place(f"due-{n}", lines=[("CANDLE", 1)])
    whole = network.provider.get("/v1/tasks?mine=true&limit=1000").json()
    assert len(whole) > 8
    undated = [task["id"] for task in whole[:3]]
    with db.transaction() as session:
        session.execute(update(Task).where(Task.id.in_(undated)).values(due_at=None))
    whole = network.provider.get("/v1/tasks?mine=true&limit=1000").json()
    assert [t["id"] for t in whole[-3:]] == sorted(undated)
    dated = [(t["due_at"], t["id"]) for t in whole[:-3]]
    assert dated == sorted(dated) and all(due for due, _ in dated)
    pages = _pages(network.provider, "/v1/tasks?mine=true", limit=3)
    assert [task_id for page in pages for task_id in page] == [t["id"] for t in whole]


def test_a_task_cursor_must_be_a_task_the_caller_sees(network: Any, make_actor: Any) -> None:
    network.place("cursor-1", lines=[("CANDLE", 1)])
    task_id = network.provider.get("/v1/tasks?mine=true").json()[0]["id"]
    stranger = make_actor("provider", "Unrelated Logistics")
    for actor, after in ((network.provider, "tsk_nope"), (stranger, task_id)):
        r = actor.get(f"/v1/tasks?after={after}")
        assert r.status_code == 422, r.text
        assert (r.json()["code"], r.json()["field"]) == ("invalid_input", "after")
