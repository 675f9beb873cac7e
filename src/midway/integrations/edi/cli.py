"""``midway edi``: parse, validate, acknowledge and render X12 files from the command line.

The lead CLI mounts :data:`app` as the ``edi`` sub-command. Every command reads files and
writes to standard output; findings go to standard error, one per line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from midway.integrations.edi.acks import acknowledge_document
from midway.integrations.edi.diagnostics import Diagnostic, Severity
from midway.integrations.edi.jsonform import document_to_json, find_sets, set_from_json
from midway.integrations.edi.midway_json import (
    KINDS,
    ORDER,
    SET_OF,
    SHIPMENT,
    TYPED,
    MidwayJsonError,
    inbound_943,
    kind_of,
    order_940,
    shipment_945,
)
from midway.integrations.edi.models import FunctionalGroup, TransactionSet
from midway.integrations.edi.profiles import ControlNumberCounter, PartnerProfile, ProfileError
from midway.integrations.edi.reader import parse, validate
from midway.integrations.edi.serializer import render
from midway.integrations.edi.spec import ElementOverride

app = typer.Typer(help="X12 EDI: parse, validate, acknowledge and render.", no_args_is_help=True)

FileArgument = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="An X12 file.")
]
PartnerOption = Annotated[
    Path | None,
    typer.Option(
        "--partner", exists=True, dir_okay=False, help="Partner profile (.json or .toml)."
    ),
]
StateOption = Annotated[
    Path | None,
    typer.Option("--state", dir_okay=False, help="JSON file keeping the control numbers."),
]


def _profile(path: Path | None) -> PartnerProfile | None:
    if path is None:
        return None
    try:
        return PartnerProfile.load(path)
    except ProfileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _overrides(profile: PartnerProfile | None) -> tuple[ElementOverride, ...]:
    return profile.overrides if profile is not None else ()


def _counter(path: Path | None) -> ControlNumberCounter:
    if path is None or not path.exists():
        return ControlNumberCounter()
    try:
        return ControlNumberCounter.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError) as exc:
        typer.echo(f"error: cannot read control numbers from {path.name}: {exc}", err=True)
        raise typer.Exit(2) from None


def _save(counter: ControlNumberCounter, path: Path | None) -> None:
    if path is not None:
        path.write_text(json.dumps(counter.to_dict()) + "\n", encoding="utf-8")


def _report(found: list[Diagnostic]) -> None:
    for item in found:
        typer.echo(item.line(), err=True)


def _echo_group(group: FunctionalGroup, indent: str) -> None:
    typer.echo(f"{indent}group {group.functional_id} {group.control_number} ({group.version})")
    for tset in group.sets:
        verdict = "accepted" if tset.accepted else "rejected"
        typer.echo(f"{indent}  set {tset.id} {tset.control_number}: {verdict}")


@app.command("parse")
def parse_command(
    file: FileArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print every set as typed JSON.")] = False,
    partner: PartnerOption = None,
) -> None:
    """Parse a file: a summary, or with --json the typed form of every set."""
    document = parse(file, overrides=_overrides(_profile(partner)))
    if as_json:
        typer.echo(json.dumps(document_to_json(document), indent=2, ensure_ascii=False))
        return
    found = document.all_diagnostics()
    for interchange in document.interchanges:
        typer.echo(f"interchange {interchange.control_number} from {interchange.sender[1]}")
        for group in interchange.groups:
            _echo_group(group, "  ")
    for group in document.groups:
        _echo_group(group, "")
    for tset in document.fragments:
        typer.echo(f"set {tset.id} {tset.control_number} (no envelope)")

    errors = sum(d.severity is Severity.ERROR for d in found)
    typer.echo(f"{errors} error(s), {len(found) - errors} warning(s)")


@app.command("validate")
def validate_command(
    file: FileArgument,
    partner: PartnerOption = None,
    allow_warnings: Annotated[
        bool, typer.Option("--allow-warnings", help="Exit 0 when only warnings are found.")
    ] = False,
) -> None:
    """Print one line per finding (offset, segment, element, code, message).

    Exits 0 only when the file is clean (with --allow-warnings: when it has no error).
    """
    found = validate(file, overrides=_overrides(_profile(partner)))
    for item in found:
        typer.echo(item.line())
    errors = [d for d in found if d.severity is Severity.ERROR]
    if errors or (found and not allow_warnings):
        raise typer.Exit(1)


@app.command("ack")
def ack_command(
    file: FileArgument, partner: PartnerOption = None, state: StateOption = None
) -> None:
    """Print the 997 (and TA1 when requested) answering every interchange of a file."""
    profile = _profile(partner)
    document = parse(file, overrides=_overrides(profile))
    counter = _counter(state)
    rendered = acknowledge_document(document, profile=profile, counter=counter)
    _report(rendered.diagnostics)
    if not rendered.text:
        typer.echo("nothing to acknowledge: no interchange with a functional group", err=True)
        raise typer.Exit(1)
    _save(counter, state)
    typer.echo(rendered.text, nl=False)


@app.command("render")
def render_command(
    set_id: Annotated[str, typer.Option("--set", help="Transaction set to render (940...).")],
    source: Annotated[
        Path,
        typer.Option(
            "--from",
            exists=True,
            dir_okay=False,
            help="Typed JSON (from parse --json), or Midway JSON: an order (940), an inbound "
            "shipment (943), a fulfillment order with its shipment (945).",
        ),
    ],
    partner: Annotated[
        Path, typer.Option("--partner", dir_okay=False, help="Partner profile (.toml or .json).")
    ],
    state: StateOption = None,
    input_kind: Annotated[
        str,
        typer.Option(
            "--input",
            help="What --from holds: auto (detect), typed, order, inbound or shipment.",
        ),
    ] = "auto",
    item_qualifier: Annotated[
        str, typer.Option(help="Product ID qualifier of SKUs from Midway JSON.")
    ] = "VN",
) -> None:
    """Serialize sets for a partner, from their typed JSON form or from Midway's order,
    inbound shipment or shipment JSON, then check the result."""
    if not partner.is_file():
        typer.echo(
            f"error: no partner profile {str(partner)!r}: give the path of the partner's "
            ".toml or .json profile",
            err=True,
        )
        raise typer.Exit(2)
    profile = _profile(partner)
    assert profile is not None
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        typer.echo(f"error: {source.name} is not readable JSON: {exc}", err=True)
        raise typer.Exit(2) from None
    sets = _sets(data, source.name, set_id, input_kind, item_qualifier)
    counter = _counter(state)
    rendered = render(sets, profile, counter)
    _report(rendered.diagnostics)
    if not rendered.ok:
        raise typer.Exit(1)
    found = validate(rendered.text.encode("utf-8"), overrides=profile.overrides)
    _report(found)
    _save(counter, state)
    typer.echo(rendered.text, nl=False)
    if any(d.severity is Severity.ERROR for d in found):
        raise typer.Exit(1)


def _sets(
    data: object, name: str, set_id: str, input_kind: str, item_qualifier: str
) -> list[TransactionSet]:
    """The sets to render from the JSON of ``--from``."""
    if input_kind not in ("auto", *KINDS):
        typer.echo(f"error: --input is auto, {', '.join(KINDS)}; not {input_kind!r}", err=True)
        raise typer.Exit(2)
    kind = kind_of(data) if input_kind == "auto" else input_kind
    if kind is None:
        typer.echo(
            f"error: {name} is neither typed X12 JSON (the output of parse --json: sets with "
            "'id' and 'segments') nor a Midway order (channel, external_id, ship_to, lines), "
            "inbound shipment (facility_code, reference, lines) or shipment "
            "(fulfillment_order, shipment)",
            err=True,
        )
        raise typer.Exit(2)
    if kind != TYPED:
        if SET_OF[kind] != set_id:
            typer.echo(
                f"error: a Midway {kind} renders as a {SET_OF[kind]}, not {set_id}", err=True
            )
            raise typer.Exit(2)
        try:
            if kind == SHIPMENT:
                return shipment_945(data, item_qualifier)
            build = order_940 if kind == ORDER else inbound_943
            return [build(data, item_qualifier)]
        except MidwayJsonError as exc:
            typer.echo(f"error: {name} is not a usable Midway {kind}: field {exc}", err=True)
            raise typer.Exit(2) from None
    chosen = [s for s in find_sets(data) if s.get("id") == set_id]
    if not chosen:
        typer.echo(f"error: {name} holds no {set_id} set", err=True)
        raise typer.Exit(1)
    sets = []
    for item in chosen:
        tset, problems = set_from_json(item)
        _report(problems)
        if tset is None:
            raise typer.Exit(1)
        sets.append(tset)
    return sets
