"""Conformance on real data: the Olist orders go through Midway's history importer and KPI
code, and the on-time hand-off and on-time delivery rates must equal, numerator and
denominator, month by month, an independent calculation made here straight from the CSVs.

Olist's files are independent head slices of the full tables: every order has its delivery
dates, but only the orders whose items are in the items slice have a hand-off deadline
(``shipping_limit_date``), so the hand-off rate covers far fewer orders.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest

from midway.kpis import history, service
from midway.kpis.olist import read_olist
from midway.parties import service as parties
from midway.principal import Principal

OLIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "olist"
ZONE = "America/Sao_Paulo"

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def olist() -> Path:
    if not (OLIST / "olist_orders_dataset.csv").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("the Olist data set is missing from shared/data")
        pytest.skip("shared/data/olist is not available")
    return OLIST


def _stamp(text: str) -> datetime | None:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S") if text else None


def independent(folder: Path) -> dict[str, Counter[str]]:
    """Counts by month straight from the CSVs, in local Olist time, without Midway's code."""
    limits: dict[str, datetime] = {}
    with (folder / "olist_order_items_dataset.csv").open(newline="") as handle:
        for item in csv.DictReader(handle):
            limit = _stamp(item["shipping_limit_date"])
            order = item["order_id"]
            if limit is not None and (order not in limits or limit < limits[order]):
                limits[order] = limit
    counts: dict[str, Counter[str]] = {
        name: Counter() for name in ("ship_n", "ship_d", "deliv_n", "deliv_d")
    }
    with (folder / "olist_orders_dataset.csv").open(newline="") as handle:
        for order in csv.DictReader(handle):
            handed = _stamp(order["order_delivered_carrier_date"])
            if handed is not None and order["order_id"] in limits:
                month = f"{handed.year}-{handed.month:02d}"
                counts["ship_d"][month] += 1
                counts["ship_n"][month] += handed <= limits[order["order_id"]]
            delivered = _stamp(order["order_delivered_customer_date"])
            promised = _stamp(order["order_estimated_delivery_date"])
            if delivered is not None and promised is not None:
                month = f"{delivered.year}-{delivered.month:02d}"
                counts["deliv_d"][month] += 1
                # "Delivered by the estimated date": any time on that day is in time.
                counts["deliv_n"][month] += delivered.date() <= promised.date()
    return counts


def test_on_time_rates_match_an_independent_calculation(db, olist):
    with db.transaction() as session:
        party, _key = parties.create_party(session, kind="merchant", name="Olist seller")
    merchant = Principal(party_id=party.id, kind="merchant", role="admin")
    with db.transaction() as session:
        report = history.import_history(session, merchant, read_olist(olist), timezone=ZONE)
    assert report.errors == []
    assert report.imported == 4071  # every order of the slice
    with db.transaction(write=False) as session:
        kpis = service.kpi_report(
            session,
            merchant,
            start=date(2016, 9, 1),
            end=date(2018, 10, 31),
            group_by="month",
            tz=ZONE,
        )
    expected = independent(olist)
    months = {p["period"]: p["kpis"] for p in kpis["periods"]}
    assert set(expected["deliv_d"]) <= set(months)
    total_ship = total_deliv = 0
    for month, figures in months.items():
        ship, deliv = figures["on_time_ship"], figures["on_time_delivery"]
        assert (ship["numerator"], ship["denominator"]) == (
            expected["ship_n"][month],
            expected["ship_d"][month],
        ), month
        assert (deliv["numerator"], deliv["denominator"]) == (
            expected["deliv_n"][month],
            expected["deliv_d"][month],
        ), month
        total_ship += ship["denominator"]
        total_deliv += deliv["denominator"]
    # The slices: nearly every order was delivered, only a few hundred have a deadline.
    assert total_deliv == sum(expected["deliv_d"].values()) > 3800
    assert 0 < total_ship == sum(expected["ship_d"].values()) < 300


def test_reimport_replaces_and_the_whole_range_agrees(db, olist):
    with db.transaction() as session:
        party, _key = parties.create_party(session, kind="merchant", name="Olist seller")
    merchant = Principal(party_id=party.id, kind="merchant", role="admin")
    for _ in range(2):
        with db.transaction() as session:
            report = history.import_history(session, merchant, read_olist(olist), timezone=ZONE)
    assert (report.imported, report.replaced) == (4071, 4071)
    with db.transaction(write=False) as session:
        whole = service.kpi_report(
            session, merchant, start=date(2016, 1, 1), end=date(2018, 12, 31), tz=ZONE
        )["periods"][0]["kpis"]
    expected = independent(olist)
    assert whole["on_time_delivery"]["numerator"] == sum(expected["deliv_n"].values())
    assert whole["on_time_delivery"]["denominator"] == sum(expected["deliv_d"].values())
    assert whole["on_time_ship"]["numerator"] == sum(expected["ship_n"].values())
    # Order accuracy is unknown for imported history: an empty denominator, not 100 %.
    accuracy = whole["order_accuracy"]
    assert (accuracy["numerator"], accuracy["denominator"], accuracy["percent"]) == (0, 0, None)
