"""Paging through lists with ``after``: every item once, in the list's order, even when many
items share the value the list is sorted by (orders placed together share their creation
time; tasks of one fulfillment order share their due time)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from midway.db import Database
from midway.inbound.models import InboundShipment
from midway.incidents.models import Incident
from midway.orders.models import Order
from midway.returns.models import ReturnAuthorization
from midway.sla import engine as sla_engine
from midway.sla.models import SlaClock
from midway.tasks.models import Task
from midway.webhooks import service as webhooks
from midway.webhooks.models import WebhookDelivery


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


def _inbound(network: Any, n: int) -> None:
    body = {"facility_code": "KS-CHI", "reference": f"ASN-{n}"}
    r = network.merchant.post(
        "/v1/inbound-shipments", json=body | {"lines": [{"sku": "CANDLE", "quantity": 1}]}
    )
    assert r.status_code == 201, r.text


def _return(network: Any, n: int) -> None:
    body = {"facility_code": "KS-CHI", "rma_number": f"RMA-{n}", "reason": "too small"}
    r = network.merchant.post(
        "/v1/returns", json=body | {"lines": [{"sku": "CANDLE", "quantity": 1}]}
    )
    assert r.status_code == 201, r.text


def _incident(network: Any, n: int) -> None:
    fo = network.place(f"inc-{n}", lines=[("CANDLE", 1)])["fulfillment_orders"][0]
    body = {"kind": "mis_pick", "summary": "wrong item", "fulfillment_order_id": fo["id"]}
    r = network.merchant.post("/v1/incidents", json=body)
    assert r.status_code == 201, r.text


def _deliveries(network: Any, db: Database) -> str:
    r = network.merchant.post(
        "/v1/webhook-endpoints", json={"url": "https://hooks.example.com/in", "event_types": ["*"]}
    )
    assert r.status_code == 201, r.text
    for n in range(3):
        network.place(f"hook-{n}", lines=[("CANDLE", 1)])
    with db.transaction() as session:
        assert webhooks.dispatch(session) > 7
    return f"/v1/webhook-endpoints/{r.json()['id']}/deliveries?status=pending"


def _clocks(network: Any, db: Database) -> str:
    for n in range(8):
        network.place(f"clock-{n}", lines=[("CANDLE", 1)])
    with db.transaction() as session:
        assert sla_engine.process_events(session) > 0
    return "/v1/sla/clocks?kind=on_time_ship"


MADE_BY_API = [
    ("/v1/inbound-shipments?status=expected", _inbound, InboundShipment, "created_at"),
    ("/v1/returns?status=authorized", _return, ReturnAuthorization, "created_at"),
    ("/v1/incidents?status=open", _incident, Incident, "opened_at"),
]


@pytest.mark.parametrize(("url", "make", "model", "column"), MADE_BY_API)
def test_lists_made_at_one_instant_page_newest_first_each_once(
    network: Any, db: Database, url: str, make: Any, model: Any, column: str
) -> None:
    network.stock("CANDLE", 100)
    for n in range(7):
        make(network, n)
    with db.transaction() as session:
        session.execute(update(model).values({column: datetime(2026, 11, 2, 9, tzinfo=UTC)}))
    _pages_newest_first(network.merchant, url, count=7)


@pytest.mark.parametrize("made", [_deliveries, _clocks])
def test_deliveries_and_clocks_page_newest_first_each_once(
    network: Any, db: Database, made: Any
) -> None:
    network.stock("CANDLE", 100)
    url = made(network, db)
    model, column = (
        (WebhookDelivery, "created_at") if made is _deliveries else (SlaClock, "deadline")
    )
    with db.transaction() as session:
        session.execute(update(model).values({column: datetime(2026, 11, 2, 9, tzinfo=UTC)}))
    count = len(network.merchant.get(url + "&limit=500").json())
    assert count > 7
    _pages_newest_first(network.merchant, url, count=count)


def _pages_newest_first(actor: Any, url: str, count: int) -> None:
    whole = [item["id"] for item in actor.get(url + "&limit=500").json()]
    assert len(whole) == count
    assert whole == sorted(whole, reverse=True)  # one instant: ids decide, newest first
    pages = _pages(actor, url, limit=3)
    assert [item for page in pages for item in page] == whole
    r = actor.get(url + "&after=nope_0")
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["field"]) == ("invalid_input", "after")


def test_an_item_that_left_the_filter_still_anchors_the_next_page(network: Any) -> None:
    """A client pages through open orders while one of them is cancelled: the cancelled one,
    the last of its page, still says where the next page starts."""
    network.stock("CANDLE", 100)
    placed = [network.place(f"left-{n}", lines=[("CANDLE", 1)])["id"] for n in range(5)]
    first = network.merchant.get("/v1/orders?status=open&limit=2").json()
    anchor = first[-1]["id"]
    assert network.merchant.post(f"/v1/orders/{anchor}/cancel").status_code == 200
    r = network.merchant.get(f"/v1/orders?status=open&limit=10&after={anchor}")
    assert r.status_code == 200, r.text
    rest = [order["id"] for order in r.json()]
    assert rest == sorted(placed, reverse=True)[2:]
