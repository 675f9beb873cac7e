"""``midway edi-partners``: register trading partners, import a partner's file by hand, and
flush the outbox (the lead CLI mounts :data:`app`; :data:`partner_app`, :func:`import_file`
and :data:`outbox_app` can also be mounted under ``midway edi``)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy import select

from midway.clierrors import friendly
from midway.db import Database, utcnow
from midway.edi import outbound, service, transport, warehouse
from midway.edi.models import EdiPartner
from midway.edi.receiving import Receipt, receive
from midway.errors import InvalidInput
from midway.parties import service as parties
from midway.principal import Principal
from midway.settings import get_settings

app = typer.Typer(help="EDI trading partners, file import and outbox.", no_args_is_help=True)
partner_app = typer.Typer(help="Trading partners.", no_args_is_help=True)
outbox_app = typer.Typer(help="Documents Midway sends.", no_args_is_help=True)
app.add_typer(partner_app, name="partner")
app.add_typer(outbox_app, name="outbox")

F = TypeVar("F", bound=Callable[..., Any])
DbUrl = Annotated[str | None, typer.Option("--database-url", help="overrides MIDWAY_DATABASE_URL")]


@contextmanager
def _db(database_url: str | None) -> Iterator[Database]:
    db = Database(database_url or get_settings().database_url, pool_size=1)
    try:
        yield db
    finally:
        db.dispose()


def _profile(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(
            f"{path.name} is not a readable profile: {exc}", field="profile"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path.name} must hold an object", field="profile")
    return data


@partner_app.command("add")
@friendly
def partner_add(
    party: Annotated[str, typer.Option(help="id of the merchant or provider it belongs to")],
    name: Annotated[str, typer.Option(help="the partner's name")],
    interchange_id: Annotated[str, typer.Option(help="ISA06 the partner sends")],
    interchange_qualifier: Annotated[str, typer.Option(help="ISA05")] = "ZZ",
    our_id: Annotated[str, typer.Option(help="ISA08 the partner sends to Midway")] = "MIDWAY",
    our_qualifier: Annotated[str, typer.Option(help="ISA07")] = "ZZ",
    profile: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="engine profile (.json or .toml)"),
    ] = None,
    channel: Annotated[str, typer.Option(help="channel of its 940 orders")] = "edi",
    facility_code: Annotated[str | None, typer.Option(help="default facility")] = None,
    item_qualifier: Annotated[str, typer.Option(help="qualifier of SKUs in items")] = "VN",
    database_url: DbUrl = None,
) -> None:
    """Register a trading partner for a party and print its id and folders."""
    with _db(database_url) as db, db.transaction() as session:
        owner = parties.get_party(session, party)
        partner = service.create_partner(
            session,
            Principal(owner.id, owner.kind, "admin"),
            service.PartnerInput(
                name=name,
                interchange_id=interchange_id,
                interchange_qualifier=interchange_qualifier,
                our_id=our_id,
                our_qualifier=our_qualifier,
                profile=_profile(profile),
                channel=channel,
                facility_code=facility_code,
                item_qualifier=item_qualifier,
            ),
        )
    typer.echo(f"partner {partner.id} ({partner.name}) for {owner.kind} {owner.name}")
    typer.echo(f"folders: {transport.edi_root() / partner.id}")


@partner_app.command("list")
@friendly
def partner_list(
    party: Annotated[str | None, typer.Option(help="only this party's partners")] = None,
    database_url: DbUrl = None,
) -> None:
    """List trading partners: id, party, interchange ID, state, name."""
    with _db(database_url) as db, db.transaction(write=False) as session:
        query = select(EdiPartner).order_by(EdiPartner.created_at, EdiPartner.id)
        if party:
            query = query.where(EdiPartner.party_id == party)
        for partner in session.scalars(query):
            state = "enabled" if partner.enabled else "disabled"
            typer.echo(
                f"{partner.id}  {partner.party_id}  "
                f"{partner.interchange_qualifier}/{partner.interchange_id}  {state}  "
                f"{partner.name}"
            )


def _print(receipt: Receipt) -> None:
    for outcome in receipt.sets:
        typer.echo(
            f"set {outcome.set_id} ISA13 {outcome.interchange_control} GS06 "
            f"{outcome.group_control} ST02 {outcome.set_control}: {outcome.status}"
            + (f" - {outcome.note}" if outcome.note else "")
        )
        if outcome.status == "rejected":
            for item in outcome.diagnostics:
                if item.get("severity") == "error":
                    typer.echo(
                        f"  offset {item.get('offset')}, segment {item.get('segment_id') or '-'}"
                        f" {item.get('segment_position') or '-'}, element "
                        f"{item.get('element_position') or '-'}: {item.get('code')}: "
                        f"{item.get('message')}"
                    )
    for item in receipt.diagnostics:
        typer.echo(f"{item.get('severity', 'error')} {item.get('code')}: {item.get('message')}")


@friendly
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    partner: Annotated[str, typer.Option(help="id of the partner the file comes from")],
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    database_url: DbUrl = None,
) -> None:
    """Receive a partner's X12 file as the inbox would (997s go to its outbox); print each
    set's result. Exit code 0 only if every set was accepted (or already had been)."""
    with _db(database_url) as db, db.transaction() as session:
        found = service.partner_by_id(session, partner)
        # One transaction per interchange: a large file does not hold the database for long,
        # and importing it again skips the interchanges already committed.
        receipt = receive(
            session, found, file, file_name=file.name, after_interchange=session.commit
        )
        names = transport.queue_acknowledgments(session, found.id, receipt)
    if as_json:
        typer.echo(json.dumps({**receipt.as_dict(), "acknowledgment_files": names}, indent=2))
    else:
        _print(receipt)
        counts = receipt.counts()
        typer.echo(
            f"{counts['accepted']} accepted, {counts['rejected']} rejected, "
            f"{counts['duplicate']} duplicate; acknowledgments: {', '.join(names) or 'none'}"
        )
    if not receipt.ok:
        raise typer.Exit(1)


app.command("import")(import_file)


@friendly
def inventory_advice(
    merchant: Annotated[str, typer.Option(help="id of the merchant whose stock it reports")],
    facility: Annotated[str, typer.Option(help="facility code")],
    partner: Annotated[
        str | None, typer.Option(help="only this partner of the merchant (default: every one)")
    ] = None,
    database_url: DbUrl = None,
) -> None:
    """Send the merchant's partners an 846 of its stock at a facility now (to their outboxes)."""
    with _db(database_url) as db, db.transaction() as session:
        owner = parties.get_party(session, merchant)
        documents = warehouse.advise_inventory(
            session, Principal(owner.id, owner.kind, "operator"), facility, partner_id=partner
        )
        written = [(d.partner_id, d.status, d.file_name) for d in documents]
    for partner_id, status, name in written:
        typer.echo(f"846 for partner {partner_id}: {status}" + (f" ({name})" if name else ""))


app.command("inventory-advice")(inventory_advice)


@outbox_app.command("flush")
@friendly
def outbox_flush(database_url: DbUrl = None) -> None:
    """Turn the events waiting since the last run into outbound documents, once."""
    with _db(database_url) as db, db.transaction() as session:
        read = outbound.run(session, utcnow())
    typer.echo(f"{read} event(s) read")
