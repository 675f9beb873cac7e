"""Helpers shared by the benchmarks: result rows, percentiles, CPU accounting, machine facts."""

from __future__ import annotations

import os
import platform
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PASS = "pass"
FAIL = "FAIL"
INFO = "info"


def row(
    benchmark: str,
    metric: str,
    value: float | None,
    unit: str,
    *,
    baseline: float | None = None,
    target: str = "",
    verdict: str = INFO,
    notes: str = "",
) -> dict[str, Any]:
    """One row of the results table; ``ratio`` is value / baseline when both are known."""
    ratio = value / baseline if value is not None and baseline else None
    return {
        "benchmark": benchmark,
        "metric": metric,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "ratio": ratio,
        "target": target,
        "verdict": verdict,
        "notes": notes,
    }


def verdict(ok: bool) -> str:
    """``pass`` or ``FAIL``."""
    return PASS if ok else FAIL


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def free_port() -> int:
    """A TCP port on the loopback interface that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces; fields follow the last ")".
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it (Linux /proc; just ``root`` elsewhere)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat_fields(int(entry.name))
        if fields:
            parents[int(entry.name)] = int(fields[1])
    tree = [root]
    frontier = [root]
    while frontier:
        current = frontier.pop()
        children = [pid for pid, parent in parents.items() if parent == current]
        tree += children
        frontier += children
    return tree


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by these processes (those still alive)."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    values = [int(v) for v in first]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / _TICKS, total / _TICKS


class CpuWindow:
    """CPU used by the machine and by given processes between ``start()`` and ``stop()``."""

    def __init__(self, pids: Sequence[int] = ()) -> None:
        self.pids = list(pids)
        self.machine = 0.0
        self.processes = 0.0
        self.elapsed = 0.0
        self._start = (0.0, 0.0, 0.0, 0.0)

    def start(self) -> None:
        """Take the first reading."""
        busy, total = machine_busy()
        self._start = (busy, total, cpu_seconds(self.pids), time.perf_counter())

    def stop(self) -> None:
        """Take the second reading: ``machine`` is the busy share of all cores (0-1),
        ``processes`` the CPU seconds the given processes used."""
        busy, total = machine_busy()
        busy0, total0, procs0, wall0 = self._start
        self.machine = (busy - busy0) / (total - total0) if total > total0 else 0.0
        self.processes = cpu_seconds(self.pids) - procs0
        self.elapsed = time.perf_counter() - wall0


class TrackedCpu:
    """CPU used by a changing set of processes (database backends that come and go) between
    ``start()`` and ``stop()``: the set is sampled every ``interval`` seconds from a thread,
    and a process first seen after the start counts from zero. A process that exits between
    two samples loses at most one interval of its CPU."""

    def __init__(self, pids: Callable[[], list[int]], interval: float = 0.25) -> None:
        self._pids = pids
        self._interval = interval
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.seconds = 0.0
        self.processes = 0  # how many distinct processes were seen

    def _sample(self, initial: bool = False) -> None:
        for pid in self._pids():
            used = cpu_seconds([pid])
            if pid not in self._first:
                self._first[pid] = used if initial else 0.0
            if used >= self._last.get(pid, 0.0):
                self._last[pid] = used

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def start(self) -> None:
        """Take the first sample and keep sampling in the background."""
        self._sample(initial=True)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Take the last sample; ``seconds`` is the CPU the processes used in between."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        self.seconds = sum(self._last[pid] - self._first[pid] for pid in self._first)
        self.processes = len(self._first)


def machine_facts() -> dict[str, Any]:
    """What the numbers were measured on (no host names or paths)."""
    facts: dict[str, Any] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        facts["memory_gib"] = round(int(mem) / 2**20, 1)
    except OSError:
        pass
    return facts
