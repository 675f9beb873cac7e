"""Read the public Olist marketplace data set as history-import rows (``--format olist``).

Mapping: ``order_purchase_timestamp`` → placed_at, ``order_approved_at`` → released_at,
``order_delivered_carrier_date`` → handed_at, ``order_delivered_customer_date`` →
delivered_at, the date of ``order_estimated_delivery_date`` → promised_delivery (by the end of
that day), the earliest ``shipping_limit_date`` of the order's items → ship_by, the number of
item rows → units, and the latest review's ``review_score`` → rating (at
``review_answer_timestamp``). Olist's times are local times without a zone; the importer reads
them in the time zone it is given.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ORDERS = "olist_orders_dataset.csv"
ITEMS = "olist_order_items_dataset.csv"
REVIEWS = "olist_order_reviews_dataset.csv"


def _table(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def read_olist(directory: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line of the orders file, import row) for every order of the Olist files in ``directory``."""
    ship_by: dict[str, str] = {}
    units: dict[str, int] = {}
    items = directory / ITEMS
    if items.exists():
        for item in _table(items):
            order = item["order_id"]
            units[order] = units.get(order, 0) + 1
            limit = item["shipping_limit_date"]
            # Same fixed-width format throughout, so the text order is the time order.
            if limit and (order not in ship_by or limit < ship_by[order]):
                ship_by[order] = limit
    ratings: dict[str, tuple[str, int]] = {}
    reviews = directory / REVIEWS
    if reviews.exists():
        for review in _table(reviews):
            order, answered = review["order_id"], review["review_answer_timestamp"]
            if answered and (order not in ratings or answered > ratings[order][0]):
                ratings[order] = (answered, int(review["review_score"]))
    with (directory / ORDERS).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for raw in reader:
            order = raw["order_id"]
            estimated = raw["order_estimated_delivery_date"]
            row: dict[str, Any] = {
                "order_id": order,
                "channel": "olist",
                "placed_at": raw["order_purchase_timestamp"] or None,
                "released_at": raw["order_approved_at"] or None,
                "handed_at": raw["order_delivered_carrier_date"] or None,
                "delivered_at": raw["order_delivered_customer_date"] or None,
                "promised_delivery": estimated[:10] if estimated else None,
                "ship_by": ship_by.get(order),
            }
            if order in units:
                row["units"] = units[order]
            if order in ratings:
                row["rated_at"], row["rating"] = ratings[order]
            yield reader.line_num, row
