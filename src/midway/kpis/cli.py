"""``midway kpi`` (KPIs of an agreement or party) and ``midway history import``."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from midway.clierrors import friendly
from midway.sla.cli import (
    AsParty,
    DbUrl,
    acting_party,
    console,
    database,
    out,
    print_json,
)

app = typer.Typer(help="KPIs with numerators and denominators, per period.")
history_app = typer.Typer(help="Order history from other systems.", no_args_is_help=True)


def _day(value: datetime) -> date:
    return value.date()


@app.callback(invoke_without_command=True)
@friendly
def kpi(
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="first date")],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="last date")],
    agreement: Annotated[str | None, typer.Option(help="agreement id")] = None,
    facility: Annotated[str | None, typer.Option(help="facility code")] = None,
    channel: Annotated[str | None, typer.Option(help="sales channel")] = None,
    group_by: Annotated[str | None, typer.Option(help="week or month")] = None,
    tz: Annotated[str, typer.Option(help="time zone of the dates")] = "UTC",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    as_party: AsParty = None,
    database_url: DbUrl = None,
) -> None:
    """KPIs over a date range (inclusive), whole or per week/month."""
    from midway.kpis import service

    with database(database_url) as db:
        principal = acting_party(db, as_party, agreement)
        with db.transaction(write=False) as session:
            report = service.kpi_report(
                session,
                principal,
                start=_day(start),
                end=_day(end),
                agreement_id=agreement,
                facility_code=facility,
                channel=channel,
                group_by=group_by,
                tz=tz,
            )
        if as_json:
            print_json(report)
            return
        for period in report["periods"]:
            table = Table(
                "KPI", "value", "numerator / denominator", "target", title=period["period"]
            )
            for name, figure in period["kpis"].items():
                if "denominator" in figure:
                    value = f"{figure['percent']} %" if figure["percent"] is not None else "no data"
                    counts = f"{figure['numerator']} / {figure['denominator']}"
                elif "within_target" in figure:
                    within = figure["within_target"]
                    value = f"p50 {figure['p50_hours']} h, p90 {figure['p90_hours']} h"
                    counts = f"{within['numerator']} / {within['denominator']} within"
                elif "mean" in figure:
                    value, counts = f"mean {figure['mean']}", f"{figure['count']} ratings"
                else:
                    value, counts = str(figure.get("percent") or figure.get("value") or "n/a"), ""
                table.add_row(name, value, counts, figure.get("target", ""))
            out.print(table)


@history_app.command("import")
@friendly
def history_import(
    file: Annotated[Path, typer.Argument(exists=True, readable=True, help="file or Olist folder")],
    merchant: Annotated[str, typer.Option(help="merchant id the orders belong to")],
    agreement: Annotated[
        str | None, typer.Option(help="agreement they were fulfilled under")
    ] = None,
    facility: Annotated[str | None, typer.Option(help="facility code they shipped from")] = None,
    file_format: Annotated[
        str | None, typer.Option("--format", help="jsonl, csv or olist (default: by suffix)")
    ] = None,
    timezone: Annotated[str, typer.Option(help="zone of times written without one")] = "UTC",
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    database_url: DbUrl = None,
) -> None:
    """Import completed orders (JSON Lines or CSV, see docs/sla.md); all or nothing."""
    from midway.kpis import history
    from midway.kpis.olist import read_olist

    with database(database_url) as db:
        principal = acting_party(db, merchant, None)
        kind = file_format or ("olist" if file.is_dir() else file.suffix.lower().lstrip("."))
        if kind == "olist":
            rows = read_olist(file)
        elif kind in ("jsonl", "json", "csv"):
            rows = history.read_rows(file)
        else:
            console.print(f"[red]error[/red] unknown format '{kind}'; use jsonl, csv or olist")
            raise typer.Exit(2)
        with (
            Progress(
                TextColumn("importing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=as_json,
            ) as progress,
            db.transaction() as session,
        ):
            task = progress.add_task("orders", total=None)
            report = history.import_history(
                session,
                principal,
                rows,
                agreement_id=agreement,
                facility_code=facility,
                timezone=timezone,
                on_progress=lambda n: progress.advance(task, n),
            )
        if as_json:
            print_json(report.as_dict())
        else:
            out.print(f"imported {report.imported} order(s), replaced {report.replaced}")
            for error in report.errors[:200]:
                out.print(str(error), highlight=False)
        if report.errors:
            raise typer.Exit(1)
