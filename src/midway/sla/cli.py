"""``midway sla``: SLA terms, clocks, scorecards and the engine's tick, from the command line.

Also holds the small helpers the KPI commands share (database, errors, acting party).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from midway.clierrors import friendly
from midway.db import Database, utcnow
from midway.errors import InvalidInput
from midway.principal import Principal
from midway.settings import get_settings

app = typer.Typer(help="SLA terms, clocks and monthly scorecards.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()
F = TypeVar("F", bound=Callable[..., Any])
DbUrl = Annotated[str | None, typer.Option("--database-url", help="overrides MIDWAY_DATABASE_URL")]
AsParty = Annotated[
    str | None,
    typer.Option("--as", help="party id to act as (default: the agreement's merchant)"),
]


@contextmanager
def database(url: str | None) -> Iterator[Database]:
    """The database named on the command line, or the configured one; closed afterwards."""
    db = Database(url or get_settings().database_url)
    try:
        yield db
    finally:
        db.dispose()


def acting_party(db: Database, party_id: str | None, agreement_id: str | None) -> Principal:
    """The party a command acts for: ``--as``, else the merchant of the agreement."""
    from midway.agreements.models import Agreement
    from midway.parties import service as parties

    with db.transaction(write=False) as session:
        if party_id is None:
            if agreement_id is None:
                raise InvalidInput("give --agreement or --as PARTY", field="as")
            agreement = session.get(Agreement, agreement_id)
            if agreement is None:
                raise InvalidInput(f"no agreement {agreement_id}", field="agreement")
            party_id = agreement.merchant_id
        party = parties.get_party(session, party_id)
        return Principal(party_id=party.id, kind=party.kind, role="admin")


def print_json(data: Any) -> None:
    """Print a document as JSON (dates and decimals as strings)."""
    out.print_json(json.dumps(data, default=str))


@app.command("terms")
@friendly
def terms(
    agreement: Annotated[str, typer.Option(help="agreement id")],
    version: Annotated[int | None, typer.Option(help="version (default: active)")] = None,
    as_party: AsParty = None,
    database_url: DbUrl = None,
) -> None:
    """Print an agreement's SLA terms, with defaults filled in."""
    from midway.sla import service

    with database(database_url) as db:
        principal = acting_party(db, as_party, agreement)
        with db.transaction(write=False) as session:
            print_json(service.terms_of(session, principal, agreement, version))


@app.command("clocks")
@friendly
def clocks(
    agreement: Annotated[str, typer.Option(help="agreement id")],
    status: Annotated[str | None, typer.Option(help="running, met, breached or void")] = None,
    kind: Annotated[str | None, typer.Option(help="clock kind, e.g. on_time_ship")] = None,
    limit: int = 50,
    as_party: AsParty = None,
    database_url: DbUrl = None,
) -> None:
    """List SLA clocks of an agreement."""
    from midway.sla import service

    with database(database_url) as db:
        principal = acting_party(db, as_party, agreement)
        with db.transaction(write=False) as session:
            rows = service.list_clocks(
                session, principal, agreement_id=agreement, status=status, kind=kind, limit=limit
            )
            table = Table("clock", "kind", "subject", "deadline", "stopped", "status")
            for c in rows:
                table.add_row(
                    c.id,
                    c.kind,
                    f"{c.subject_type} {c.subject_id}",
                    c.deadline.isoformat(timespec="minutes"),
                    c.stopped_at.isoformat(timespec="minutes") if c.stopped_at else "",
                    c.status,
                )
        out.print(table)


@app.command("scorecard")
@friendly
def scorecard(
    agreement: Annotated[str, typer.Option(help="agreement id")],
    period: Annotated[str, typer.Option(help="month, YYYY-MM")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart", help="also write an SVG chart of each term's monthly result and target"
        ),
    ] = None,
    as_party: AsParty = None,
    database_url: DbUrl = None,
) -> None:
    """The monthly scorecard of an agreement: results, pass/fail, credits and rewards."""
    from midway.sla import scorecard as cards
    from midway.sla.chart import trend_svg

    with database(database_url) as db:
        principal = acting_party(db, as_party, agreement)
        with db.transaction(write=False) as session:
            card = cards.scorecard(session, principal, agreement, period)
        if chart is not None:
            try:
                chart.write_text(trend_svg(card), encoding="utf-8")
            except OSError as exc:
                raise InvalidInput(
                    f"cannot write the chart to {chart}: {exc.strerror}", field="chart"
                ) from None
            console.print(f"chart written to {chart}")
        if as_json:
            print_json(card)
            return
        table = Table(
            "term",
            "result",
            "target",
            "passed",
            "credit",
            "reward",
            "trend",
            title=f"{agreement} {period}",
        )
        for term in card["terms"]:
            result = term["result"]
            shown = (
                f"{result['percent']} % ({result['numerator']}/{result['denominator']})"
                if result["percent"] is not None
                else "no data"
            )
            trend = " ".join(str(t["percent"] or "-") for t in reversed(term["trend"]))
            table.add_row(
                term["code"],
                shown,
                f"{term['target']} %"
                + (" (default)" if term["target_source"] == "default" else ""),
                {True: "yes", False: "NO", None: "-"}[term["passed"]],
                f"{term['credit']} {term['currency']}",
                f"{term['reward']} {term['currency']}",
                trend,
            )
        out.print(table)


@app.command("tick")
@friendly
def tick(database_url: DbUrl = None) -> None:
    """Run the SLA engine until it is idle: apply new events, raise due alerts."""
    from midway.sla import service

    with database(database_url) as db:
        total = 0
        while True:
            with db.transaction() as session:
                done = service.tick(session, utcnow())
            total += done
            if not done:
                break
        console.print(f"SLA engine: {total} event(s) and alert(s) processed")
