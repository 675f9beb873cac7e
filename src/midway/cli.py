"""The ``midway`` command: operate the hub (database, parties and keys, server, worker, demo,
bulk imports)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from midway.clierrors import friendly
from midway.db import Database
from midway.principal import Principal
from midway.settings import Settings, get_settings

app = typer.Typer(
    help="Midway: the shared record of a merchant and its 3PLs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
party_app = typer.Typer(help="Merchants and providers.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
orders_app = typer.Typer(help="Orders.", no_args_is_help=True)
skus_app = typer.Typer(help="The catalog.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(party_app, name="party")
app.add_typer(key_app, name="key")
app.add_typer(orders_app, name="orders")
app.add_typer(skus_app, name="skus")

console = Console(stderr=True)
out = Console()
F = TypeVar("F", bound=Callable[..., Any])


def _settings(database_url: str | None) -> Settings:
    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


DbUrl = Annotated[str | None, typer.Option("--database-url", help="overrides MIDWAY_DATABASE_URL")]


@db_app.command("upgrade")
@friendly
def db_upgrade(database_url: DbUrl = None, revision: str = "heads") -> None:
    """Apply the migrations (SQLite or PostgreSQL)."""
    from midway.schema import current, upgrade

    url = _settings(database_url).database_url
    Database(url).dispose()  # creates the SQLite folder when needed
    upgrade(url, revision)
    console.print(f"database at revision {current(url)}")


@db_app.command("current")
def db_current(database_url: DbUrl = None) -> None:
    """Print the revision the database is at."""
    from midway.schema import current

    out.print(current(_settings(database_url).database_url) or "empty")


@party_app.command("create")
@friendly
def party_create(
    kind: Annotated[str, typer.Option(help="merchant or provider")],
    name: Annotated[str, typer.Option(help="display name")],
    role: Annotated[str, typer.Option(help="role of the first key")] = "admin",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    database_url: DbUrl = None,
) -> None:
    """Create a merchant or provider and print its id and first API key (shown once)."""
    from midway.parties import service

    db = Database(_settings(database_url).database_url)
    with db.transaction() as session:
        party, key = service.create_party(session, kind=kind, name=name, role=role)
    result = {
        "id": party.id,
        "kind": party.kind,
        "name": party.name,
        "api_key": key.secret,
        "role": key.role,
    }
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print(
            f"{party.kind} {party.name}: id {party.id}\nAPI key ({key.role}, shown once): "
            f"{key.secret}",
            highlight=False,
        )


@party_app.command("list")
def party_list(database_url: DbUrl = None) -> None:
    """List parties."""
    from midway.parties import service

    db = Database(_settings(database_url).database_url)
    table = Table("id", "kind", "name")
    with db.transaction(write=False) as session:
        for party in service.list_parties(session):
            table.add_row(party.id, party.kind, party.name)
    out.print(table)


@key_app.command("create")
@friendly
def key_create(
    party: Annotated[str, typer.Option(help="party id")],
    role: Annotated[str, typer.Option(help="admin, operator or viewer")] = "operator",
    as_json: Annotated[bool, typer.Option("--json")] = False,
    database_url: DbUrl = None,
) -> None:
    """Issue another API key for a party (shown once)."""
    from midway.parties import service

    db = Database(_settings(database_url).database_url)
    with db.transaction() as session:
        key = service.issue_key(session, party_id=party, role=role)
    if as_json:
        out.print_json(json.dumps({"id": key.id, "api_key": key.secret, "role": key.role}))
    else:
        out.print(f"key {key.id} ({key.role}): {key.secret}", highlight=False)


@key_app.command("revoke")
@friendly
def key_revoke(key_id: str, database_url: DbUrl = None) -> None:
    """Revoke an API key."""
    from midway.parties import service

    db = Database(_settings(database_url).database_url)
    with db.transaction() as session:
        service.revoke_key(session, key_id=key_id)
    console.print(f"revoked {key_id}")


def _merchant(db: Database, merchant_id: str) -> Principal:
    from midway.errors import InvalidInput
    from midway.parties import service

    with db.transaction(write=False) as session:
        party = service.get_party(session, merchant_id)
    if party.kind != "merchant":
        raise InvalidInput(f"{merchant_id} is a {party.kind}, not a merchant", field="merchant")
    return Principal(party_id=party.id, kind="merchant", role="admin")


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


@orders_app.command("import")
@friendly
def orders_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    merchant: Annotated[str, typer.Option(help="merchant id the orders belong to")],
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    database_url: DbUrl = None,
) -> None:
    """Import orders from JSON Lines (one order per line) or CSV (one row per order line).

    Each order is accepted or rejected on its own; rejected ones are listed with their line
    number and reason. Exit code 0 only if every order was accepted.
    """
    from midway.fulfillment import bulk

    db = Database(_settings(database_url).database_url)
    principal = _merchant(db, merchant)
    total = _count_lines(file) - (1 if file.suffix.lower() == ".csv" else 0)
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=as_json,
    ) as progress:
        task = progress.add_task("orders", total=None if file.suffix.lower() == ".csv" else total)
        report = bulk.import_orders(
            db,
            principal,
            bulk.read_orders(file),
            batch_size=batch_size,
            on_progress=lambda n: progress.advance(task, n),
        )
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
    else:
        out.print(f"accepted {report.accepted}, rejected {len(report.rejected)}")
        for r in report.rejected[:200]:
            where = f" {r.field}:" if r.field else ""
            out.print(
                f"line {r.line} ({r.external_id or '?'}): [{r.code}]{where} {r.reason}",
                highlight=False,
            )
    if report.rejected:
        raise typer.Exit(1)


@skus_app.command("import")
@friendly
def skus_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    merchant: Annotated[str, typer.Option(help="merchant id")],
    database_url: DbUrl = None,
) -> None:
    """Create or update SKUs from CSV, all or nothing (bad rows listed with line numbers)."""
    from midway.catalog import service

    db = Database(_settings(database_url).database_url)
    principal = _merchant(db, merchant)
    items = service.parse_csv(file.read_text(encoding="utf-8-sig"))
    with db.transaction() as session:
        created, updated = service.upsert_many(session, principal, items)
    out.print(f"created {created}, updated {updated}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
    database_url: DbUrl = None,
) -> None:
    """Run the API server; with several workers, each listens on its own socket and the
    kernel spreads connections over them (see docs/operate.md)."""
    import os

    from midway.serving import ServeError
    from midway.serving import serve as run_server

    if database_url:
        os.environ["MIDWAY_DATABASE_URL"] = database_url

    def announce() -> None:
        console.print(f"Midway API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")

    try:
        run_server(host, port, workers, announce=announce)
    except ServeError as exc:
        console.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="process what is due, then exit")] = False,
    database_url: DbUrl = None,
) -> None:
    """Run the background worker (webhook delivery from the outbox)."""
    import logging

    from midway.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = _settings(database_url)
    stats = run_worker(Database(settings.database_url), settings, once=once)
    if once:
        console.print(str(stats))


@app.command()
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    path: Annotated[Path, typer.Option(help="SQLite file to (re)create")] = Path("var/demo.db"),
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
    days: Annotated[
        int, typer.Option(help="whole days of history before today (then today until now)")
    ] = 42,
) -> None:
    """Create a fresh demo database, seed a believable scenario, and start API and worker."""
    from midway.demo.run import run_demo

    run_demo(host=host, port=port, path=path, serve=serve_after, days=days, console=console)


def _mount_adapters() -> None:
    from midway.billing.cli import app as billing_app
    from midway.edi.cli import app as edi_partners_app
    from midway.integrations.edi.cli import app as edi_app
    from midway.kpis.cli import app as kpi_app
    from midway.kpis.cli import history_app
    from midway.sla.cli import app as sla_app

    app.add_typer(edi_app, name="edi", help="EDI X12: parse, validate, acknowledge, render.")
    app.add_typer(edi_partners_app, name="edi-partners", help="EDI partners, file import, outbox.")
    app.add_typer(billing_app, name="billing")
    app.add_typer(kpi_app, name="kpi")
    app.add_typer(history_app, name="history")
    app.add_typer(sla_app, name="sla")


_mount_adapters()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="midway")


if __name__ == "__main__":
    main()
