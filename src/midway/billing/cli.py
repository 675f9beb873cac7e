"""``midway billing``: draft invoices, invoice audits and rate card checks from the shell.

The commands act for a party of the agreement: the merchant unless ``--as provider``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from midway.clierrors import exit_for
from midway.db import Database
from midway.errors import MidwayError, NotFound
from midway.principal import Principal
from midway.settings import get_settings

app = typer.Typer(help="Rate cards, draft invoices and invoice audits.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()

AgreementOption = Annotated[str, typer.Option("--agreement", help="agreement id")]
PeriodOption = Annotated[str, typer.Option("--period", help="month YYYY-MM")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]
AsOption = Annotated[str, typer.Option("--as", help="act as the merchant or the provider")]
DbUrl = Annotated[str | None, typer.Option("--database-url", help="overrides MIDWAY_DATABASE_URL")]


def _database(url: str | None) -> Database:
    return Database(url or get_settings().database_url)


def _principal(db: Database, agreement_id: str, side: str) -> Principal:
    from midway.agreements.models import Agreement

    if side not in ("merchant", "provider"):
        raise typer.BadParameter("--as must be merchant or provider")
    with db.transaction(write=False) as session:
        agreement = session.get(Agreement, agreement_id)
        if agreement is None:
            raise NotFound(f"no agreement {agreement_id}")
        party = agreement.merchant_id if side == "merchant" else agreement.provider_id
    return Principal(party_id=party, kind=side, role="admin")


def _dump(value: Any) -> str:
    return json.dumps(value, default=lambda v: str(v) if isinstance(v, Decimal) else v.isoformat())


@app.command("invoice")
def invoice(
    agreement: AgreementOption,
    period: PeriodOption,
    as_json: JsonOption = False,
    side: AsOption = "merchant",
    database_url: DbUrl = None,
) -> None:
    """Meter the month, store the draft invoice and print it (JSON lists every source id)."""
    from midway.billing import service
    from midway.billing.schemas import invoice_out
    from midway.core.errors import DomainError

    db = _database(database_url)
    try:
        principal = _principal(db, agreement, side)
        with db.transaction() as session:
            stored = service.create_invoice(session, principal, agreement, period)
            row, lines = service.get_invoice(session, principal, agreement, stored.id)
            shown = invoice_out(row, lines)
            full_refs = {ln.id: ln.refs for ln in lines}
    except (MidwayError, DomainError) as exc:
        raise exit_for(exc) from None
    finally:
        db.dispose()
    if as_json:
        data = shown.model_dump(mode="json")
        for line in data["lines"]:
            line["refs"] = full_refs[line["id"]]
            line["refs_complete"] = True
        out.print(_dump(data), soft_wrap=True, highlight=False)
        return
    table = Table("#", "code", "description", "quantity", "unit price", "amount", "sources")
    for line in shown.lines:
        table.add_row(
            str(line.position),
            line.code,
            line.description,
            f"{line.quantity} {line.unit}",
            "" if line.unit_price is None else str(line.unit_price),
            str(line.amount),
            ", ".join(f"{n} {k}" for k, n in line.ref_counts.items()),
        )
    out.print(
        f"Draft invoice {shown.id}: agreement {shown.agreement_id} v{shown.agreement_version}, "
        f"{shown.period}, {shown.currency}",
        highlight=False,
    )
    out.print(table)
    out.print(
        f"subtotal {shown.subtotal}  credits {shown.credits_total}  total {shown.total} "
        f"{shown.currency}",
        highlight=False,
    )
    for note in shown.notes:
        out.print(f"- {note}", highlight=False)


@app.command("audit")
def audit(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    agreement: AgreementOption,
    period: PeriodOption,
    as_json: JsonOption = False,
    database_url: DbUrl = None,
) -> None:
    """Check the provider's invoice (CSV) against the record and explain every difference.

    Exit code 0 when the invoice matches, 1 when there are findings, 2 for a bad file.
    """
    from midway.billing import audit as audits
    from midway.billing.schemas import audit_out
    from midway.core.errors import DomainError

    db = _database(database_url)
    try:
        principal = _principal(db, agreement, "merchant")
        text = file.read_text(encoding="utf-8-sig")
        with db.transaction() as session:
            stored = audits.run_audit(
                session, principal, agreement, period, csv_text=text, source_name=file.name
            )
            shown = audit_out(*audits.get_audit(session, principal, agreement, stored.id))
    except (MidwayError, DomainError) as exc:
        raise exit_for(exc) from None
    except UnicodeDecodeError:
        console.print("[red]error[/red] the file is not UTF-8 text", highlight=False)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    if as_json:
        out.print(_dump(shown.model_dump(mode="json")), soft_wrap=True, highlight=False)
    else:
        out.print(
            f"Audit {shown.id} of {file.name}: billed {shown.billed_total}, expected "
            f"{shown.expected_total}, difference {shown.difference} {shown.currency} "
            f"(explained {shown.explained_total})",
            highlight=False,
        )
        table = Table("kind", "code", "rows", "difference", "explanation")
        for f in shown.findings:
            table.add_row(
                f.kind,
                f.charge_code or "",
                ", ".join(map(str, f.rows)),
                str(f.difference),
                f.explanation,
            )
        out.print(table)
    if shown.findings:
        raise typer.Exit(1)


@app.command("check-card")
def check_card(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Validate a rate card (JSON) without saving it; lists its charges when it is valid."""
    from midway.core.errors import DomainError
    from midway.core.rating import parse_rate_card

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        card = parse_rate_card(data)
    except json.JSONDecodeError as exc:
        console.print(f"[red]error[/red] not JSON: {exc}", highlight=False)
        raise typer.Exit(2) from None
    except DomainError as exc:
        raise exit_for(exc) from None
    out.print(f"valid rate card in {card.currency}", highlight=False)
    for charge in card.charges.values():
        prices = ", ".join(
            f"{t.from_quantity}-{'' if t.to_quantity is None else t.to_quantity}: {t.unit_price}"
            for t in charge.tiers
        )
        out.print(f"  {charge.code} per {charge.unit}: {prices}", highlight=False)
