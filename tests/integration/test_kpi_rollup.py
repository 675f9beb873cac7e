"""The bulk path (Parquet export + DuckDB) gives the same figures as the KPI service."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import select

from midway.core.kpi import percentile
from midway.events.service import NewEvent, emit
from midway.facilities.models import Facility
from midway.kpis import history, service
from midway.kpis.rollup import DOCK_SCHEMA, ORDER_SCHEMA, KpiRollup, export_facts
from midway.principal import Principal
from midway.sla.service import tick

# (order, handed at, ship-by): weeks of 5 Oct (2 of 3 on time) and 12 Oct (1 of 1).
ORDERS = [
    ("R-1", "2026-10-05T10:00:00Z", "2026-10-05T19:00:00Z"),
    ("R-2", "2026-10-06T20:00:00Z", "2026-10-06T19:00:00Z"),
    ("R-3", "2026-10-11T23:00:00Z", "2026-10-12T19:00:00Z"),
    ("R-4", "2026-10-12T09:00:00Z", "2026-10-12T19:00:00Z"),
]
# Inbound (arrived, received): received on 8 Oct after 5 h, 7 h and 30 h.
DOCKS = [
    ("2026-10-08T08:00:00Z", "2026-10-08T13:00:00Z"),
    ("2026-10-08T09:00:00Z", "2026-10-08T16:00:00Z"),
    ("2026-10-07T14:00:00Z", "2026-10-08T20:00:00Z"),
]


def _micros(value: timedelta | None) -> int:
    assert value is not None
    return value // timedelta(microseconds=1)


def test_rollup_matches_the_service(db, network, tmp_path):
    merchant = Principal(network.merchant.id, "merchant", "admin")
    rows = [
        (n, {"order_id": ref, "handed_at": at, "ship_by": due})
        for n, (ref, at, due) in enumerate(ORDERS)
    ]
    with db.transaction() as session:
        report = history.import_history(
            session, merchant, rows, agreement_id=network.agreement_id, facility_code="KS-CHI"
        )
        assert report.errors == []
        facility_id = session.scalar(select(Facility.id).where(Facility.code == "KS-CHI"))
        events = []
        for n, (arrived, received) in enumerate(DOCKS):
            base = {
                "inbound_id": f"asn_{n}",
                "facility_id": facility_id,
                "agreement_id": network.agreement_id,
            }
            events += [
                NewEvent(
                    "inbound.arrived",
                    network.merchant.id,
                    "inbound_shipment",
                    f"asn_{n}",
                    {**base, "arrived_at": arrived},
                    provider_id=network.provider.id,
                ),
                NewEvent(
                    "inbound.received",
                    network.merchant.id,
                    "inbound_shipment",
                    f"asn_{n}",
                    {**base, "received_at": received, "lines": []},
                    provider_id=network.provider.id,
                ),
            ]
        emit(session, events)
    with db.transaction() as session:
        tick(session, datetime(2026, 10, 31, tzinfo=UTC))
    with db.transaction(write=False) as session:
        folder = export_facts(session, tmp_path / "export", network.merchant.id)
        weekly_service = service.kpi_report(
            session, merchant, start=date(2026, 10, 5), end=date(2026, 10, 18), group_by="week"
        )["periods"]
    rollup = KpiRollup(threads=1)
    rollup.recompute(folder / "orders.parquet", folder / "dock.parquet")
    weekly = {r["week"]: (r["numerator"], r["denominator"]) for r in rollup.weekly().to_pylist()}
    assert weekly == {date(2026, 10, 5): (2, 3), date(2026, 10, 12): (1, 1)}
    assert [
        (p["kpis"]["on_time_ship"]["numerator"], p["kpis"]["on_time_ship"]["denominator"])
        for p in weekly_service
    ] == [weekly[date(2026, 10, 5)], weekly[date(2026, 10, 12)]]
    (day,) = rollup.daily().to_pylist()
    hours = [timedelta(hours=h) for h in (5, 7, 30)]
    assert (day["day"], day["count"]) == (date(2026, 10, 8), 3)
    assert day["p50_us"] == _micros(percentile(hours, 50))
    assert day["p95_us"] == _micros(percentile(hours, 95))  # 27.7 h

    # One more day: an order in the week of 12 Oct (late) and a receipt on 8 Oct after 1 h.
    new_orders = pa.Table.from_pylist(
        [
            {
                "merchant_id": network.merchant.id,
                "facility_id": facility_id,
                "status": "shipped",
                "handed_at": datetime(2026, 10, 13, 20),
                "ship_by": datetime(2026, 10, 13, 19),
            }
        ],
        schema=ORDER_SCHEMA,
    )
    new_docks = pa.Table.from_pylist(
        [
            {
                "facility_id": facility_id,
                "status": "met",
                "started_at": datetime(2026, 10, 8, 21),
                "stopped_at": datetime(2026, 10, 8, 22),
            }
        ],
        schema=DOCK_SCHEMA,
    )
    rollup.add(new_orders, new_docks)
    weekly = {r["week"]: (r["numerator"], r["denominator"]) for r in rollup.weekly().to_pylist()}
    assert weekly == {date(2026, 10, 5): (2, 3), date(2026, 10, 12): (1, 2)}
    (day,) = rollup.daily().to_pylist()
    hours.append(timedelta(hours=1))
    assert day["count"] == 4
    assert day["p50_us"] == _micros(percentile(hours, 50))  # 6 h
    rollup.close()
