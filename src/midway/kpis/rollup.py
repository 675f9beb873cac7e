"""Bulk KPI recompute for large histories: DuckDB over an Arrow/Parquet export of the facts.

The API computes KPIs row by row in Python (exact, drillable, fine for one agreement's month).
Recomputing every merchant x facility x week at once over tens of millions of rows needs a
columnar engine, so this module exports the fact tables to Parquet and aggregates them with
DuckDB, with the same definitions as :mod:`midway.kpis.compute`:

* on-time ship: rows shipped with a deadline, placed by the UTC ISO week (Monday) of the
  hand-off; numerator = handed over at or before the deadline. Kept as integer numerator and
  denominator, so weekly figures add up exactly.
* dock-to-stock: stopped (met or breached) dock-to-stock clocks, placed by the UTC day they
  stopped; p50 and p95 of stop - start by linear interpolation (numpy's default, as
  :func:`midway.core.kpi.percentile`), in microseconds.

:meth:`KpiRollup.add` folds in a batch of new rows (a new day) without a full recompute:
on-time ratios are additive; the percentiles of only the days the batch touches are redone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from midway.kpis.models import OrderFact
from midway.sla.models import SlaClock

ORDER_SCHEMA = pa.schema(
    [
        ("merchant_id", pa.string()),
        ("facility_id", pa.string()),
        ("status", pa.string()),
        ("handed_at", pa.timestamp("us")),
        ("ship_by", pa.timestamp("us")),
    ]
)
DOCK_SCHEMA = pa.schema(
    [
        ("facility_id", pa.string()),
        ("status", pa.string()),
        ("started_at", pa.timestamp("us")),
        ("stopped_at", pa.timestamp("us")),
    ]
)
_BATCH = 50_000

_WEEKLY = """
    SELECT merchant_id, facility_id, date_trunc('week', handed_at)::DATE AS week,
           count(*) FILTER (WHERE handed_at <= ship_by) AS numerator,
           count(*) AS denominator
    FROM {source}
    WHERE status = 'shipped' AND handed_at IS NOT NULL AND ship_by IS NOT NULL
    GROUP BY ALL
"""
_DOCK_RAW = """
    SELECT facility_id, stopped_at::DATE AS day,
           epoch_us(stopped_at) - epoch_us(started_at) AS duration_us
    FROM {source}
    WHERE status IN ('met', 'breached') AND stopped_at IS NOT NULL
"""
_DAILY = """
    SELECT facility_id, day, count(*) AS count,
           round(quantile_cont(duration_us, 0.5))::BIGINT AS p50_us,
           round(quantile_cont(duration_us, 0.95))::BIGINT AS p95_us
    FROM {source}
    GROUP BY ALL
"""


def _naive(value: Any) -> Any:
    return None if value is None else value.replace(tzinfo=None)


def export_facts(session: Session, directory: Path, merchant_id: str | None = None) -> Path:
    """Write ``orders.parquet`` and ``dock.parquet`` (times as naive UTC) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    orders = select(
        OrderFact.merchant_id,
        OrderFact.facility_id,
        OrderFact.status,
        OrderFact.handed_at,
        OrderFact.ship_by,
    )
    docks = select(SlaClock.facility_id, SlaClock.status, SlaClock.started_at, SlaClock.stopped_at)
    docks = docks.where(SlaClock.kind == "dock_to_stock")
    if merchant_id is not None:
        orders = orders.where(OrderFact.merchant_id == merchant_id)
        docks = docks.where(SlaClock.merchant_id == merchant_id)
    for name, query, schema in (
        ("orders.parquet", orders, ORDER_SCHEMA),
        ("dock.parquet", docks, DOCK_SCHEMA),
    ):
        with pq.ParquetWriter(directory / name, schema) as writer:
            rows = session.execute(query.execution_options(yield_per=_BATCH))
            for chunk in rows.partitions(_BATCH):
                columns: list[Sequence[Any]] = [list(c) for c in zip(*chunk, strict=True)]
                if not columns:
                    continue
                arrays = [
                    pa.array(
                        [_naive(v) for v in col] if field.type != pa.string() else col, field.type
                    )
                    for col, field in zip(columns, schema, strict=True)
                ]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
    return directory


class KpiRollup:
    """On-time ship per merchant x facility x week and dock-to-stock per facility x day."""

    def __init__(self, threads: int | None = None) -> None:
        self.con = duckdb.connect()
        self.docks = "dock_added"
        self.con.execute("SET TimeZone = 'UTC'")
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")

    def recompute(self, orders: Path | pa.Table, docks: Path | pa.Table) -> None:
        """Rebuild both rollups from scratch."""
        self.docks = self._src(docks, "d")
        self.con.execute(
            f"CREATE OR REPLACE TABLE weekly AS {_WEEKLY.format(source=self._src(orders, 'o'))}"
        )
        raw = f"({_DOCK_RAW.format(source=self.docks)})"
        self.con.execute(f"CREATE OR REPLACE TABLE daily AS {_DAILY.format(source=raw)}")
        # Rows added later live here; the export stays the store of everything before.
        self.con.execute(
            "CREATE OR REPLACE TABLE dock_added (facility_id VARCHAR, day DATE, duration_us BIGINT)"
        )

    def add(self, orders: pa.Table, docks: pa.Table) -> None:
        """Fold a batch of new rows (typically one new day) into the rollups."""
        self.con.register("new_orders", orders)
        self.con.register("new_docks", docks)
        try:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE delta AS {_WEEKLY.format(source='new_orders')}"
            )
            self.con.execute(
                """
                UPDATE weekly SET numerator = weekly.numerator + delta.numerator,
                                  denominator = weekly.denominator + delta.denominator
                FROM delta
                WHERE weekly.merchant_id = delta.merchant_id
                  AND weekly.facility_id = delta.facility_id AND weekly.week = delta.week
                """
            )
            self.con.execute(
                """
                INSERT INTO weekly SELECT delta.* FROM delta ANTI JOIN weekly
                USING (merchant_id, facility_id, week)
                """
            )
            self.con.execute(f"INSERT INTO dock_added {_DOCK_RAW.format(source='new_docks')}")
            first, last = self.con.sql(
                "SELECT min(stopped_at), max(stopped_at) FROM new_docks"
            ).fetchall()[0]
            if first is not None:
                # Only the touched days are redone: the export's rows of those days (found by
                # the Parquet row-group statistics on stopped_at) plus every row added since.
                days = f"stopped_at >= '{first:%Y-%m-%d}'::TIMESTAMP AND stopped_at < "
                days += f"'{last:%Y-%m-%d}'::TIMESTAMP + INTERVAL 1 DAY"
                old = _DOCK_RAW.format(source=f"(SELECT * FROM {self.docks} WHERE {days})")
                touched = f"day BETWEEN '{first:%Y-%m-%d}' AND '{last:%Y-%m-%d}'"
                source = f"({old} UNION ALL SELECT * FROM dock_added WHERE {touched})"
                self.con.execute(f"DELETE FROM daily WHERE {touched}")
                self.con.execute(f"INSERT INTO daily {_DAILY.format(source=source)}")
        finally:
            self.con.unregister("new_orders")
            self.con.unregister("new_docks")

    def weekly(self) -> pa.Table:
        """merchant_id, facility_id, week, numerator, denominator."""
        return self.con.sql("SELECT * FROM weekly").to_arrow_table()

    def daily(self) -> pa.Table:
        """facility_id, day, count, p50_us, p95_us."""
        return self.con.sql("SELECT * FROM daily").to_arrow_table()

    def close(self) -> None:
        """Release the DuckDB connection."""
        self.con.close()

    def _src(self, source: Path | pa.Table, name: str) -> str:
        if isinstance(source, Path):
            return f"read_parquet('{source.as_posix()}')"
        self.con.register(f"src_{name}", source)
        return f"src_{name}"
