"""Run the benchmarks: ``python -m bench [--quick] [NAME ...]``.

Prints one Rich table (benchmark, metric, value, baseline, ratio, target, verdict), the notes
under it, and writes everything to ``bench/results/latest.json``. The exit status is 1 when a
benchmark missed its target or failed to run, 0 otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.common import FAIL, PASS, machine_busy, machine_facts, row

BENCHMARKS = ("sourcing", "edi_parse", "bulk_import", "intake_http", "kpi_recompute", "edi_import")
OPTIONAL = frozenset({"edi_parse"})  # written separately; skipped when absent
HELPERS = frozenset({"common", "network", "rawsql", "prepare"})  # modules that are no benchmark
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

console = Console()
if not console.is_terminal:  # piped or under make: wide enough for the table
    console = Console(width=170)


def _number(value: Any, unit: str = "") -> str:
    if value is None:
        return ""
    if not isinstance(value, int | float):
        return str(value)
    size = abs(value)
    text = f"{value:,.0f}" if size >= 100 else f"{value:.1f}" if size >= 10 else f"{value:.2f}"
    return f"{text} {unit}".strip()


def _ratio(value: Any) -> str:
    if not isinstance(value, int | float):
        return "" if value is None else str(value)
    return f"{value:.3f}×" if value < 0.1 else f"{value:.2f}×"


def _verdict(value: str) -> str:
    colour = {PASS: "green", FAIL: "bold red"}.get(value, "dim")
    return f"[{colour}]{value}[/{colour}]"


def background_load(seconds: float = 1.0) -> float:
    """Share of the machine's CPU busy (with others' work) just before the run."""
    busy0, total0 = machine_busy()
    time.sleep(seconds)
    busy1, total1 = machine_busy()
    return (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0


def normalize(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A result row in this runner's keys, from a row that may use other names (``name`` for
    the metric, ``baseline_value``, a numeric ``target`` meaning a minimum ratio)."""
    result = dict(raw)
    result.setdefault("benchmark", name)
    if "metric" not in result:
        result["metric"] = result.pop("name", "")
    if "baseline" not in result and "baseline_value" in result:
        result["baseline"] = result.pop("baseline_value")
    if result.get("ratio") is None and isinstance(result.get("value"), int | float):
        baseline = result.get("baseline")
        if isinstance(baseline, int | float) and baseline:
            result["ratio"] = result["value"] / baseline
    target = result.get("target")
    if isinstance(target, int | float) and not isinstance(target, bool):
        result["target"] = f"≥ {target:.0%} of baseline"
        if "verdict" not in result:
            ratio = result.get("ratio")
            result["verdict"] = PASS if isinstance(ratio, int | float) and ratio >= target else FAIL
    result.setdefault("verdict", "info")
    return result


def available() -> list[str]:
    """Every benchmark: the known ones in their order, then any other module of this package
    (not a helper, not starting with ``_``), by name."""
    here = Path(__file__).resolve().parent
    found = sorted(
        p.stem for p in here.glob("*.py") if not p.stem.startswith("_") and p.stem not in HELPERS
    )
    return [n for n in BENCHMARKS if n in found or n in OPTIONAL] + [
        n for n in found if n not in BENCHMARKS
    ]


def run_benchmark(name: str, quick: bool) -> tuple[str, list[dict[str, Any]]]:
    """Import and run one benchmark; returns its status (ok, skipped, error) and rows."""
    try:
        module = importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as exc:
        if name in OPTIONAL and exc.name == f"bench.{name}":
            return "skipped", []
        return "error", [row(name, "import", None, "", verdict=FAIL, notes=repr(exc))]
    if not callable(getattr(module, "run", None)):
        return "error", [row(name, "import", None, "", verdict=FAIL, notes="no run() function")]
    try:
        return "ok", [normalize(name, r) for r in module.run(quick=quick)]
    except Exception as exc:
        return "error", [row(name, "run", None, "", verdict=FAIL, notes=repr(exc)[:500])]


def render(results: list[dict[str, Any]], title: str) -> None:
    """Print the results table and the notes under it."""
    table = Table(title=title, title_justify="left")
    for column, justify in (
        ("benchmark", "left"),
        ("metric", "left"),
        ("value", "right"),
        ("baseline", "right"),
        ("ratio", "right"),
        ("target", "left"),
        ("verdict", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    notes = []
    for result in results:
        unit = str(result.get("unit") or "")
        table.add_row(
            str(result.get("benchmark", "")),
            str(result.get("metric", "")),
            _number(result.get("value"), unit),
            _number(result.get("baseline"), unit),
            _ratio(result.get("ratio")),
            str(result.get("target") or ""),
            _verdict(str(result.get("verdict") or "")),
        )
        if result.get("notes"):
            notes.append(f"{result.get('benchmark')} / {result.get('metric')}: {result['notes']}")
    console.print(table)
    for note in notes:
        console.print(f"  - {note}", highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks (all by default); print and save the results."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all): {', '.join(available())}",
    )
    parser.add_argument("--quick", action="store_true", help="small version, under 2 minutes")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)
    known = available()
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(known)}")
    names = args.names or known
    started = datetime.now(UTC)
    facts = machine_facts()
    load = background_load()
    console.print(
        f"Midway benchmarks{' (quick)' if args.quick else ''}: {started:%Y-%m-%d %H:%M} "
        f"UTC, {facts.get('cores')} cores, Python {facts.get('python')}; machine "
        f"busy {load:.0%} before the start",
        highlight=False,
    )
    results: list[dict[str, Any]] = []
    status: dict[str, dict[str, Any]] = {}
    for name in names:
        console.print(f"[bold]{name}[/bold] ...")
        clock = time.perf_counter()
        state, rows = run_benchmark(name, args.quick)
        took = time.perf_counter() - clock
        status[name] = {"status": state, "seconds": round(took, 1)}
        console.print(f"  {state} in {took:.0f} s", highlight=False)
        results += rows
    render(results, f"Midway benchmarks, {started:%Y-%m-%d}{' (quick)' if args.quick else ''}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "date": started.isoformat(timespec="seconds"),
                "quick": args.quick,
                "machine": facts,
                "busy_before_start": round(load, 3),
                "benchmarks": status,
                "results": results,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    console.print(
        f"results written to {args.output.name} in the bench/results folder", highlight=False
    )
    failed = any(r.get("verdict") == FAIL for r in results) or any(
        s["status"] == "error" for s in status.values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
