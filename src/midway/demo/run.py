"""``midway demo``: a fresh SQLite database, a seeded scenario, then the API and the worker."""

from __future__ import annotations

import importlib
import json
import threading
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from midway.db import Database
from midway.demo.seed import SeedResult, seed
from midway.demo.world import DemoKey
from midway.schema import upgrade
from midway.settings import Settings

SQLITE_HEADER = b"SQLite format 3\x00"
KEYS_FILE = "demo-keys.json"
PARTY_ROLES = {"merchant": "merchant", "us_provider": "US provider", "eu_provider": "EU provider"}


class DemoError(Exception):
    """The demo cannot start (for example: the path is not a database it may replace)."""


def fresh_database(path: Path) -> str:
    """Delete the SQLite file at ``path`` (and its WAL files), recreate it, migrate it; return
    its URL. Refuses to delete anything that is not a SQLite database."""
    if path.is_dir():
        raise DemoError(f"{path} is a directory; give the path of a SQLite file")
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as handle:
            if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                raise DemoError(f"{path} exists and is not a SQLite database; not replacing it")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


def write_keys(target: Path, keys: list[DemoKey], base_url: str) -> None:
    """Write the demo keys as JSON (readable by the owner only): label -> party and key."""
    body: dict[str, Any] = {"base_url": base_url}
    for key in keys:
        body[key.label] = {
            "party_id": key.party_id,
            "name": key.party_name,
            "role": key.role,
            "api_key": key.secret,
        }
    target.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    target.chmod(0o600)


def _seed_with_progress(db: Database, days: int, console: Console) -> SeedResult:
    columns = (
        TextColumn("seeding the demo history"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("days", total=days)
        result = seed(db, days=days, on_day=lambda n: progress.update(task, completed=n))
        progress.update(task, completed=days)
    return result


def _summary(result: SeedResult, days: int) -> Table:
    counts = result.counts
    table = Table(
        title=f"Seeded {days} days of history in {result.seconds:.1f} s",
        show_header=False,
        title_justify="left",
    )
    table.add_column("what")
    table.add_column("count", justify="right")
    open_fos = sum(v for k, v in counts.items() if k in ("fo.open", "fo.in_progress", "fo.on_hold"))
    for label, value in (
        ("SKUs", counts.get("skus", 0)),
        ("orders", counts.get("orders", 0)),
        ("  shipped", counts.get("orders.shipped", 0)),
        (
            "  still open (incl. backordered)",
            sum(counts.get(f"orders.{s}", 0) for s in ("open", "backordered", "partially_shipped")),
        ),
        ("fulfillment orders", counts.get("fulfillment_orders", 0)),
        ("  open right now", open_fos),
        ("  rejected by a provider", counts.get("fo_request.rejected", 0)),
        ("shipments", counts.get("shipments", 0)),
        ("holds placed", counts.get("holds", 0)),
        ("stock movements", counts.get("stock_movements", 0)),
        ("events", counts.get("events", 0)),
    ):
        table.add_row(label, f"{value:,}")
    return table


def _print_access(
    console: Console, result: SeedResult, base_url: str, keys_file: Path, serve: bool
) -> None:
    console.print(f"API keys (also saved in {keys_file}):", highlight=False)
    width = max(len(k.party_name) for k in result.keys)
    for key in result.keys:
        who = PARTY_ROLES.get(key.label, key.label)
        console.print(
            f"  {who:<12} {key.party_name:<{width}}  {key.role:<6} {key.secret}",
            highlight=False,
            soft_wrap=True,
        )
    merchant = next(k for k in result.keys if k.label == "merchant")
    if serve:
        console.print(f"API       {base_url}\nAPI docs  {base_url}/docs", highlight=False)
    console.print("Try:", highlight=False)
    console.print(
        f'  curl -H "Authorization: Bearer {merchant.secret}" "{base_url}/v1/orders?limit=5"',
        highlight=False,
        soft_wrap=True,
    )


def _start_worker(
    url: str, settings: Settings, console: Console
) -> tuple[threading.Thread, threading.Event] | None:
    try:
        module = importlib.import_module("midway.worker")
    except ModuleNotFoundError as exc:
        if exc.name != "midway.worker":
            raise
        console.print(
            "[yellow]note[/yellow] the background worker (midway.worker) is not "
            "available; webhooks will not be delivered"
        )
        return None
    stop = threading.Event()
    thread = threading.Thread(
        target=module.run_worker,
        args=(Database(url, pool_size=2), settings),
        kwargs={"stop": stop},
        name="midway-worker",
        daemon=True,
    )
    thread.start()
    return thread, stop


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def run_demo(*, host: str, port: int, path: Path, serve: bool, days: int, console: Console) -> None:
    """Recreate the SQLite database at ``path``, seed ``days`` days of history, write the
    demo keys beside it, then (when ``serve``) run the worker in a thread and the API here
    until interrupted."""
    try:
        if days < 1:
            raise DemoError("days must be at least 1")
        url = fresh_database(path)
    except DemoError as exc:
        console.print(f"[red]error[/red] {exc}", highlight=False)
        raise SystemExit(2) from None
    db = Database(url)
    try:
        result = _seed_with_progress(db, days, console)
    finally:
        db.dispose()
    base_url = f"http://{_display_host(host)}:{port}"
    keys_file = path.parent / KEYS_FILE
    write_keys(keys_file, result.keys, base_url)
    console.print(_summary(result, days))
    if result.failures:
        console.print(
            f"[yellow]note[/yellow] {len(result.failures)} simulated step(s) were "
            f"refused by the services and skipped; first: {result.failures[0]}",
            highlight=False,
        )
    _print_access(console, result, base_url, keys_file, serve)
    if not serve:
        console.print(
            f"Serve it with: midway serve --database-url {url}  (webhooks: midway worker "
            f"--database-url {url})",
            highlight=False,
        )
        return
    settings = Settings(database_url=url, base_url=base_url)
    worker = _start_worker(url, settings, console)
    import uvicorn

    from midway.app import create_app

    try:
        uvicorn.run(create_app(settings), host=host, port=port)
    finally:
        if worker is not None:
            thread, stop = worker
            stop.set()
            thread.join(timeout=5)
