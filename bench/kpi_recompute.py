"""KPI recompute over synthetic history: on-time ship rate per merchant x facility x week and
dock-to-stock p50/p95 per facility x day.

Data: ``events`` synthetic events (10 million; quick: 1 million) over one year: 80 % of them
are order events (created + shipped: two per order fact), 20 % inbound events (arrived +
received: two per dock-to-stock clock), so 4 million order facts and 1 million clocks for the
full run. 200 merchants, 27 facilities. The facts are written to Parquet first (the export
Midway's bulk path reads), outside the timings.

Midway: :class:`midway.kpis.rollup.KpiRollup` (DuckDB over the Parquet export, keeping exact
numerators and denominators and per-day percentile tables so a new day can be folded in).
Baseline, same run, same files: the two aggregations written directly as DuckDB queries.
Both on 2 threads; best of 3 warm runs each. Incremental: one new day of rows folded into
the rollups with :meth:`KpiRollup.add`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from bench.common import row, verdict
from midway.kpis.rollup import KpiRollup

BENCH = "kpi_recompute"
THREADS = 2
REPEAT = 3
MERCHANTS = 200
FACILITIES = 27
YEAR_US = 365 * 86_400 * 1_000_000
TARGET_SECONDS = 2.0
TARGET_RATIO = 1.5
TARGET_INCREMENTAL_MS = 100.0

_ORDERS = """
    SELECT 'mer_' || (hash(i) % {merchants}) AS merchant_id,
           'fac_' || (hash(i * 7 + 1) % {facilities}) AS facility_id,
           'shipped' AS status,
           make_timestamp(({start} + i * {step} + (hash(i * 13 + 2) % 108000) * 1000000)::BIGINT)
               AS handed_at,
           make_timestamp(({start} + i * {step} + 72000000000)::BIGINT) AS ship_by
    FROM range({count}) t(i)
"""
_DOCKS = """
    SELECT 'fac_' || (hash(i * 5 + 3) % {facilities}) AS facility_id,
           CASE WHEN hash(i * 11 + 4) % 50 = 0 THEN 'breached' ELSE 'met' END AS status,
           make_timestamp(({start} + i * {step})::BIGINT) AS started_at,
           make_timestamp(
               ({start} + i * {step} + (3600 + hash(i * 17 + 5) % 259200) * 1000000)::BIGINT
           ) AS stopped_at
    FROM range({count}) t(i)
"""
_BASE_WEEKLY = """
    SELECT merchant_id, facility_id, date_trunc('week', handed_at)::DATE AS week,
           sum(CASE WHEN handed_at <= ship_by THEN 1 ELSE 0 END) AS on_time, count(*) AS shipped
    FROM read_parquet('{path}') WHERE status = 'shipped' GROUP BY 1, 2, 3
"""
_BASE_DAILY = """
    SELECT facility_id, stopped_at::DATE AS day, count(*) AS n,
           quantile_cont(epoch_us(stopped_at) - epoch_us(started_at), [0.5, 0.95]) AS q
    FROM read_parquet('{path}') WHERE status IN ('met', 'breached') GROUP BY 1, 2
"""


def _generate(folder: Path, events: int) -> tuple[Path, Path, int, int]:
    orders, docks = events * 2 // 5, events // 10
    start = 1_767_225_600 * 1_000_000  # 2026-01-01T00:00:00Z in microseconds
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    for name, sql, count in (("orders", _ORDERS, orders), ("dock", _DOCKS, docks)):
        query = sql.format(
            merchants=MERCHANTS,
            facilities=FACILITIES,
            start=start,
            step=YEAR_US // count,
            count=count,
        )
        con.execute(f"COPY ({query}) TO '{folder / name}.parquet' (FORMAT parquet)")
    con.close()
    return folder / "orders.parquet", folder / "dock.parquet", orders, docks


def _new_day(orders: int, docks: int) -> tuple[Any, Any]:
    """One more day after the year: the same per-day volume."""
    con = duckdb.connect()
    start = 1_767_225_600 * 1_000_000 + YEAR_US
    day = 86_400 * 1_000_000
    o, d = max(1, orders // 365), max(1, docks // 365)
    new_orders = con.sql(
        _ORDERS.format(
            merchants=MERCHANTS, facilities=FACILITIES, start=start, step=day // o, count=o
        )
    ).to_arrow_table()
    new_docks = con.sql(
        _DOCKS.format(facilities=FACILITIES, start=start, step=day // d, count=d)
    ).to_arrow_table()
    con.close()
    return new_orders, new_docks


def _baseline(orders: Path, docks: Path) -> tuple[float, int, int]:
    con = duckdb.connect()
    con.execute(f"SET threads = {THREADS}")
    con.execute("SET TimeZone = 'UTC'")
    clock = time.perf_counter()
    weekly = con.sql(_BASE_WEEKLY.format(path=orders)).to_arrow_table()
    daily = con.sql(_BASE_DAILY.format(path=docks)).to_arrow_table()
    took = time.perf_counter() - clock
    con.close()
    return took, weekly.num_rows, daily.num_rows


def _midway(orders: Path, docks: Path) -> tuple[float, KpiRollup, int, int]:
    rollup = KpiRollup(threads=THREADS)
    clock = time.perf_counter()
    rollup.recompute(orders, docks)
    weekly, daily = rollup.weekly(), rollup.daily()
    return time.perf_counter() - clock, rollup, weekly.num_rows, daily.num_rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Recompute both KPIs (Midway and baseline), then fold in one new day."""
    events = 1_000_000 if quick else 10_000_000
    with tempfile.TemporaryDirectory() as tmp:
        orders, docks, n_orders, n_docks = _generate(Path(tmp), events)
        _baseline(orders, docks)  # warm the file cache
        base_times, mid_times = [], []
        rollup = None
        groups: tuple[int, int] = (0, 0)
        for _ in range(REPEAT):
            took, weekly_rows, daily_rows = _baseline(orders, docks)
            base_times.append(took)
            if rollup is not None:
                rollup.close()
            took, rollup, m_weekly, m_daily = _midway(orders, docks)
            mid_times.append(took)
            groups = (m_weekly, m_daily)
            if (m_weekly, m_daily) != (weekly_rows, daily_rows):
                raise AssertionError("Midway and the baseline found different groups")
        assert rollup is not None
        new_orders, new_docks = _new_day(n_orders, n_docks)
        clock = time.perf_counter()
        rollup.add(new_orders, new_docks)
        incremental_ms = (time.perf_counter() - clock) * 1000
        rollup.close()
    midway, baseline = min(mid_times), min(base_times)
    notes = (
        f"{events:,} events: {n_orders:,} order facts, {n_docks:,} dock-to-stock clocks; "
        f"{groups[0]:,} merchant x facility x week groups, {groups[1]:,} facility x day groups; "
        f"DuckDB {duckdb.__version__}, {THREADS} threads"
    )
    return [
        row(
            BENCH,
            "full recompute (both KPIs)",
            midway,
            "s",
            baseline=baseline,
            target=f"≤ {TARGET_SECONDS:.0f} s and ≤ {TARGET_RATIO}× baseline",
            verdict=verdict(midway <= TARGET_SECONDS and midway <= TARGET_RATIO * baseline),
            notes=notes,
        ),
        row(
            BENCH,
            "incremental: one new day",
            incremental_ms,
            "ms",
            target=f"≤ {TARGET_INCREMENTAL_MS:.0f} ms",
            verdict=verdict(incremental_ms <= TARGET_INCREMENTAL_MS),
            notes=f"{new_orders.num_rows:,} order facts and {new_docks.num_rows:,} clocks added",
        ),
    ]
