"""Order intake over HTTP: ``POST /v1/orders`` against ``midway serve --workers 2``.

Set-up (:mod:`bench.prepare`): a generated network (1 merchant with its stockroom, 2 providers
with 5 warehouses each under active agreements, 2,000 SKUs stocked at ~80 % of the 11
facilities, stock that cannot run out) and 10,000 past orders. The server runs as a subprocess
on a free loopback port; N concurrent clients (keep-alive connections of
:mod:`bench.loadgen`, one process) POST 3-line orders with unique external ids for a fixed
time after a warm-up. Reported: orders/s, p50 and
p99 latency, seen from the client.

Baseline, same run, same database engine: raw SQL doing the same writes per order in one
transaction (see :mod:`bench.rawsql`), from 2 processes (the server's worker count) with N/2
threads each and one connection per thread, on separate tables: the ``baseline`` schema on
PostgreSQL, a copy of the seeded file on SQLite (``sqlite3``, ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing as mp
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import loadgen, network, rawsql
from bench.common import (
    FAIL,
    CpuWindow,
    TrackedCpu,
    free_port,
    percentile,
    process_tree,
    row,
    verdict,
)
from bench.prepare import HISTORY, prepare
from midway.db import Database

BENCH = "intake_http"
TARGET_RATE = 1000.0
TARGET_SHARE = 0.40
WORKERS = 2
TARGET = f"≥ {TARGET_RATE:,.0f}/s and ≥ {TARGET_SHARE:.0%} of baseline"
CORES = os.cpu_count() or 1


@dataclass
class Run:
    """What one measured run did inside its window."""

    orders: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    client_cpu: float = 0.0  # the load generator (seconds)
    app_cpu: float = 0.0  # the server's processes, or the baseline's (seconds)
    db_cpu: float = 0.0  # the PostgreSQL backends serving them (seconds)
    machine_busy: float = 0.0  # share of all cores busy during the window
    others_busy: float = 0.0  # share of all cores busy with processes not ours
    db_processes: int = 0  # distinct database backends seen in the window

    def cpu_ms_per_order(self) -> float | None:
        """Application plus database CPU per order, in milliseconds."""
        if not self.orders:
            return None
        return (self.app_cpu + self.db_cpu) / self.orders * 1000

    def account(self, app: CpuWindow, db: TrackedCpu) -> None:
        """Take the CPU readings of a finished window."""
        self.app_cpu, self.db_cpu, self.machine_busy = app.processes, db.seconds, app.machine
        self.db_processes = db.processes
        ours = (self.app_cpu + self.db_cpu + self.client_cpu) / (app.elapsed * CORES)
        self.others_busy = max(0.0, self.machine_busy - ours)

    @property
    def rate(self) -> float:
        """Orders completed per second."""
        return self.orders / self.seconds if self.seconds else 0.0

    def latency_ms(self, q: float) -> float | None:
        """A latency percentile in milliseconds."""
        value = percentile(self.latencies, q)
        return None if value is None else value * 1000


class Server:
    """``midway serve`` in a subprocess on a free loopback port; stopped on exit."""

    def __init__(self, url: str, folder: Path, workers: int = WORKERS) -> None:
        self.url = url
        self.folder = folder
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder / f"server-{self.port}.log"

    def __enter__(self) -> Server:
        env = dict(os.environ, MIDWAY_DATABASE_URL=self.url)
        command = [
            sys.executable,
            "-m",
            "midway.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                command,
                env=env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"midway serve exited early:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    time.sleep(1.0)  # the other worker may still be importing; the warm-up
                    # phase of each run absorbs the rest
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"midway serve not ready after {timeout:.0f} s:\n{self.tail()}")

    def pids(self) -> list[int]:
        """The server process and its workers."""
        return process_tree(self.proc.pid) if self.proc else []

    def tail(self, lines: int = 30) -> str:
        """The end of the server log."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the server (and, if it lingers, every process of its session)."""
        proc = self.proc
        if proc is None:
            return
        workers = self.pids()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for pid in workers:
            if pid != proc.pid and _in_group(pid, proc.pid):
                os.kill(pid, signal.SIGKILL)
        self.proc = None


def _in_group(pid: int, group: int) -> bool:
    try:
        return os.getpgid(pid) == group
    except OSError:
        return False


async def _drive(
    server: Server,
    key: str,
    net: network.Network,
    clients: int,
    warmup: float,
    duration: float,
    prefix: str,
    backends: Callable[[], list[int]],
) -> Run:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    start = time.perf_counter()
    t0, t1 = start + warmup, start + warmup + duration
    run = Run(orders=0, seconds=duration)
    counter = itertools.count()
    app, db = CpuWindow(server.pids()), TrackedCpu(backends)

    async def measure() -> None:
        await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
        app.start()
        db.start()
        cpu = time.process_time()
        await asyncio.sleep(max(0.0, t1 - time.perf_counter()))
        app.stop()
        db.stop()
        run.client_cpu = time.process_time() - cpu

    async def client_loop(number: int) -> None:
        rng = random.Random(number)
        connection = loadgen.Connection(server.base_url, headers)
        try:
            while time.perf_counter() < t1:
                body = network.order_body(rng, net, f"{prefix}-{next(counter):07d}")
                sent = time.perf_counter()
                try:
                    status, answer = await connection.post("/v1/orders", json.dumps(body).encode())
                    ok, detail = status == 201, f"{status} {answer[:300]!r}"
                except loadgen.ClientError as exc:
                    ok, detail = False, str(exc)
                done = time.perf_counter()
                if not ok:
                    run.errors += 1
                    run.first_error = run.first_error or detail
                elif t0 <= done <= t1:
                    run.orders += 1
                    run.latencies.append(done - sent)
        finally:
            await connection.close()

    await asyncio.gather(measure(), *(client_loop(n) for n in range(clients)))
    run.account(app, db)
    return run


def _baseline_thread(
    backend: str,
    target: str,
    net: network.Network,
    shapes: list[network.Shape],
    seed: int,
    start_at: float,
    t0: float,
    t1: float,
    out: list[Any],
) -> None:
    rng = random.Random(seed)
    tag = secrets.token_hex(4)
    latencies: list[float] = []
    errors = 0
    first_error = ""
    dialect = rawsql.Dialect("postgresql" if backend == "postgres" else "sqlite")
    pg: psycopg.Connection[Any] | None = None
    lite = None
    if backend == "postgres":
        pg = psycopg.connect(
            target, autocommit=True, options=f"-c search_path={network.BASELINE_SCHEMA}"
        )
    else:
        lite = rawsql.sqlite_connect(target)
    time.sleep(max(0.0, start_at - time.time()))
    count = 0
    try:
        while time.time() < t1:
            body = network.order_body(rng, net, f"{tag}-{seed}-{count:07d}")
            rows = rawsql.Rows()
            rawsql.add_order(rows, dialect, net, body, shapes[count % len(shapes)], rng)
            count += 1
            sent = time.perf_counter()
            try:
                if pg is not None:
                    with pg.transaction(), pg.cursor() as cur:
                        rawsql.write_pg(cur, rows)
                else:
                    assert lite is not None
                    lite.execute("BEGIN IMMEDIATE")
                    try:
                        rawsql.write_sqlite(lite, rows)
                        lite.execute("COMMIT")
                    except BaseException:
                        lite.execute("ROLLBACK")
                        raise
            except Exception as exc:
                errors += 1
                first_error = first_error or repr(exc)
                continue
            took = time.perf_counter() - sent
            if t0 <= time.time() <= t1:
                latencies.append(took)
    finally:
        if pg is not None:
            pg.close()
        if lite is not None:
            lite.close()
    out.append((latencies, errors, first_error))


def _baseline_process(
    backend: str,
    target: str,
    net: network.Network,
    shapes: list[network.Shape],
    threads: int,
    first_seed: int,
    start_at: float,
    t0: float,
    t1: float,
    queue: Any,
) -> None:
    out: list[Any] = []
    workers = [
        threading.Thread(
            target=_baseline_thread,
            args=(backend, target, net, shapes, first_seed + i, start_at, t0, t1, out),
        )
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(out)


def _baseline(
    backend: str,
    target: str,
    net: network.Network,
    shapes: list[network.Shape],
    clients: int,
    warmup: float,
    duration: float,
    backends: Callable[[], list[int]],
) -> Run:
    context = mp.get_context("fork")
    queue = context.Queue()
    start_at = time.time() + 1.0
    t0, t1 = start_at + warmup, start_at + warmup + duration
    split = [clients // WORKERS + (1 if i < clients % WORKERS else 0) for i in range(WORKERS)]
    processes = [
        context.Process(
            target=_baseline_process,
            args=(backend, target, net, shapes, threads, 1000 * (i + 1), start_at, t0, t1, queue),
        )
        for i, threads in enumerate(split)
    ]
    for proc in processes:
        proc.start()
    app, db = CpuWindow([proc.pid for proc in processes if proc.pid]), TrackedCpu(backends)
    try:
        time.sleep(max(0.0, t0 - time.time()))
        app.start()
        db.start()
        time.sleep(max(0.0, t1 - time.time()))
        app.stop()
        db.stop()
        results = [queue.get(timeout=120) for _ in processes]
    finally:
        for proc in processes:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
                proc.join()
    run = Run(orders=0, seconds=duration)
    run.account(app, db)
    for per_process in results:
        for latencies, errors, first_error in per_process:
            run.latencies += latencies
            run.errors += errors
            run.first_error = run.first_error or first_error
    run.orders = len(run.latencies)
    return run


def _cpu_note(run: Run) -> str:
    db = f" + database {run.db_cpu / run.orders * 1000:.1f}" if run.db_cpu and run.orders else ""
    app = run.app_cpu / run.orders * 1000 if run.orders else 0.0
    return f"app {app:.1f}{db} ms/order"


def _rows(backend: str, clients: int, midway: Run, base: Run, shape: str) -> list[dict[str, Any]]:
    label = f"{backend} N={clients}"
    share = midway.rate / base.rate if base.rate else 0.0
    ok = midway.rate >= TARGET_RATE and share >= TARGET_SHARE and not midway.errors
    notes = (
        f"{midway.orders:,} orders in {midway.seconds:.0f} s (baseline {base.orders:,} in "
        f"{base.seconds:.0f} s); machine busy {midway.machine_busy:.0%}, of which other "
        f"processes {midway.others_busy:.0%} (baseline run {base.machine_busy:.0%} / "
        f"{base.others_busy:.0%}); load generator {midway.client_cpu / midway.seconds:.0%} of "
        f"a core; writes per order: {shape}"
    )
    if midway.errors:
        notes += f"; {midway.errors} errors, first: {midway.first_error}"
    if base.errors:
        notes += f"; baseline {base.errors} errors, first: {base.first_error}"
    return [
        row(
            BENCH,
            f"{label} orders/s",
            midway.rate,
            "orders/s",
            baseline=base.rate,
            target=TARGET,
            verdict=verdict(ok),
            notes=notes,
        ),
        row(
            BENCH,
            f"{label} p50 latency",
            midway.latency_ms(50),
            "ms",
            baseline=base.latency_ms(50),
            notes="baseline: one raw transaction, no HTTP",
        ),
        row(
            BENCH, f"{label} p99 latency", midway.latency_ms(99), "ms", baseline=base.latency_ms(99)
        ),
        row(
            BENCH,
            f"{label} CPU per order",
            midway.cpu_ms_per_order(),
            "ms",
            baseline=base.cpu_ms_per_order(),
            notes=f"Midway {_cpu_note(midway)}; baseline {_cpu_note(base)}; "
            "independent of other load on the machine"
            + (
                f"; database connections seen: Midway {midway.db_processes}, baseline "
                f"{base.db_processes} (connections shorter than 0.25 s are missed)"
                if midway.db_processes
                else ""
            ),
        ),
    ]


def _describe(shapes: list[network.Shape]) -> str:
    n = len(shapes)
    fos = sum(s.fulfillment_orders for s in shapes) / n
    tasks = sum(s.tasks for s in shapes) / n
    events = sum(s.events for s in shapes) / n
    return f"{fos:.2f} FOs, {tasks:.2f} tasks, {events:.2f} events (mean)"


def _backend(
    backend: str,
    folder: Path,
    levels: list[int],
    warmup: float,
    duration: float,
    baseline_duration: float,
    history: int,
) -> list[dict[str, Any]]:
    ready = prepare(backend, folder, "intake", history)
    url, target, net = ready.url, ready.baseline, ready.net
    results: list[dict[str, Any]] = []
    shapes: list[network.Shape] | None = None
    backends = network.PgBackends() if backend == "postgres" else None
    with Server(url, folder) as server:
        for clients in levels:
            prefix = f"h{clients}"
            midway = loadgen.run(
                _drive(
                    server,
                    net.merchant_key,
                    net,
                    clients,
                    warmup,
                    duration,
                    prefix,
                    backends or network.no_backends,
                )
            )
            if shapes is None:
                db = Database(url)
                try:
                    counted = network.order_shapes(db, prefix)
                finally:
                    db.dispose()
                shapes = (
                    network.shape_cycle(counted.values()) if counted else [network.Shape(1, 4, 7)]
                )
            base = _baseline(
                backend,
                target,
                net,
                shapes,
                clients,
                min(warmup, 2.0),
                baseline_duration,
                backends or network.no_backends,
            )
            results += _rows(backend, clients, midway, base, _describe(shapes))
    if backends is not None:
        backends.close()
    return results


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure order intake over HTTP on PostgreSQL and SQLite beside the raw-SQL baseline."""
    levels = [16] if quick else [16, 32]
    warmup, duration, baseline_duration = (1.0, 4.0, 3.0) if quick else (3.0, 15.0, 8.0)
    history = 500 if quick else HISTORY
    results: list[dict[str, Any]] = []
    with network.temp_folder() as tmp:
        for backend in ("postgres", "sqlite"):
            try:
                results += _backend(
                    backend, Path(tmp), levels, warmup, duration, baseline_duration, history
                )
            except Exception as exc:
                results.append(
                    row(
                        BENCH,
                        f"{backend}",
                        None,
                        "",
                        verdict=FAIL,
                        notes=f"benchmark failed: {exc!r}"[:500],
                    )
                )
    return results
