"""Invoice audit: the merchant imports the provider's invoice for a month; Midway computes the
invoice it expects from the record and explains every difference (see
:mod:`midway.core.billing_audit`). A file with a malformed row imports nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from midway.agreements import service as agreements
from midway.billing import service as billing
from midway.billing.models import (
    Invoice,
    InvoiceAudit,
    InvoiceAuditFinding,
    InvoiceAuditRow,
    InvoiceLine,
)
from midway.catalog.models import Sku
from midway.core.billing_audit import (
    BilledRow,
    ExpectedLine,
    Ownership,
    RowError,
    parse_rows,
    read_csv,
    reconcile,
)
from midway.core.matrix import Context, Matrix, parse_matrix, resolve
from midway.core.rating import (
    BRANDED_INSERTS,
    CARRIER_CHARGES,
    CARRIER_MARKUP,
    FULFILLMENT_EXTRA_UNIT,
    FULFILLMENT_ORDER,
    KITTING,
    LABELING,
    RECEIVING,
    RETURNS_RETURN,
    RETURNS_UNIT,
    SPECIAL_HANDLING_PREFIX,
    STORAGE,
)
from midway.db import new_id, utcnow
from midway.errors import InvalidInput, NotFound
from midway.fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, Shipment
from midway.orders.models import Order
from midway.principal import Principal
from midway.tasks.models import Task

# The process of the matrix behind each charge code (codes not listed are not checked).
PROCESS_OF = {
    RECEIVING: "receiving",
    FULFILLMENT_ORDER: "packing",
    FULFILLMENT_EXTRA_UNIT: "packing",
    BRANDED_INSERTS: "branded_inserts",
    KITTING: "kitting",
    LABELING: "labeling",
    RETURNS_RETURN: "returns_receiving",
    RETURNS_UNIT: "returns_receiving",
    CARRIER_CHARGES: "carrier_handoff",
    CARRIER_MARKUP: "carrier_handoff",
}


def _process(code: str) -> str | None:
    if code.startswith(STORAGE):
        return "storage"
    if code.startswith(SPECIAL_HANDLING_PREFIX):
        return "packing"
    return PROCESS_OF.get(code)


def rows_from_csv(text: str, currency: str) -> list[BilledRow]:
    """Validated rows of a CSV invoice, or InvalidInput listing every bad row and field."""
    records, errors = read_csv(text)
    if errors:
        _refuse(errors)
    return _checked(parse_rows(records, currency, csv_lines=True))


def rows_from_json(items: Iterable[Mapping[str, Any]], currency: str) -> list[BilledRow]:
    """Validated rows given as JSON objects (same fields as the CSV columns)."""
    numbered = [(i + 1, item) for i, item in enumerate(items)]
    return _checked(parse_rows(numbered, currency, csv_lines=False))


def _checked(parsed: tuple[list[BilledRow], list[RowError]]) -> list[BilledRow]:
    rows, errors = parsed
    if errors:
        _refuse(errors)
    return rows


def _refuse(errors: list[RowError]) -> None:
    first = errors[0]
    more = f" ({len(errors) - 1} more problem(s) listed under errors)" if len(errors) > 1 else ""
    raise InvalidInput(
        f"{first.message}{more}; nothing was imported",
        field=first.field,
        code="invalid_invoice_row",
        errors=[{"field": e.field, "message": e.message} for e in errors],
    )


def run_audit(
    session: Session,
    principal: Principal,
    agreement_id: str,
    period: str,
    *,
    csv_text: str | None = None,
    json_rows: list[Mapping[str, Any]] | None = None,
    source_name: str | None = None,
) -> InvoiceAudit:
    """Import the provider's invoice (CSV text or JSON rows) and store the explained audit."""
    principal.require("operator")
    principal.require_kind("merchant", "audit the provider's invoice")
    agreement, _ = agreements.get(session, principal, agreement_id)
    computed = billing.compute(session, agreement, period)
    currency = computed.terms.card.currency
    if csv_text is not None:
        rows = rows_from_csv(csv_text, currency)
    else:
        rows = rows_from_json(json_rows or [], currency)
    expected = billing.store(session, computed, actor=principal.party_id, status="expected")
    matrix = parse_matrix(computed.terms.version.matrix)
    ownership = _ownership(session, agreement.merchant_id, agreement_id, matrix, rows)
    findings = reconcile(
        rows,
        [ExpectedLine(ln.code, ln.quantity, ln.amount, ln.refs) for ln in computed.draft.lines],
        computed.terms.card.charges,
        ownership,
        currency,
        _aliases(session, agreement_id, rows),
    )
    billed_total = sum((r.amount for r in rows), Decimal(0))
    difference = billed_total - expected.total
    explained = sum((f.difference for f in findings), Decimal(0))
    # The audit's promise: the explained differences add up to the whole difference.
    assert explained == difference, (explained, difference)
    audit = InvoiceAudit(
        id=new_id("aud"),
        agreement_id=agreement_id,
        merchant_id=agreement.merchant_id,
        provider_id=agreement.provider_id,
        period=computed.window.period,
        expected_invoice_id=expected.id,
        currency=currency,
        source_name=(source_name or "")[:200] or None,
        row_count=len(rows),
        billed_total=billed_total,
        expected_total=expected.total,
        difference=difference,
        created_by=principal.party_id,
        created_at=utcnow(),
    )
    session.add(audit)
    session.flush()
    session.execute(
        insert(InvoiceAuditRow),
        [
            {
                "audit_id": audit.id,
                "row_number": r.row,
                "line_id": r.line_id[:80],
                "charge_code": r.charge_code[:80],
                "description": r.description,
                "quantity": r.quantity,
                "unit_price": r.unit_price,
                "amount": r.amount,
                "reference": r.reference[:200],
            }
            for r in rows
        ],
    )
    if findings:
        session.execute(
            insert(InvoiceAuditFinding),
            [
                {
                    "id": new_id("afd"),
                    "audit_id": audit.id,
                    "position": i,
                    "kind": f.kind,
                    "charge_code": f.code,
                    "rows": list(f.rows),
                    "billed": f.billed,
                    "expected": f.expected,
                    "difference": f.difference,
                    "explanation": f.explanation,
                    "refs": {k: list(v) for k, v in f.refs.items()},
                }
                for i, f in enumerate(findings, start=1)
            ],
        )
    return audit


def get_audit(
    session: Session, principal: Principal, agreement_id: str, audit_id: str
) -> tuple[InvoiceAudit, list[InvoiceAuditFinding], list[InvoiceAuditRow]]:
    """An audit with its findings and the imported rows (404 for other parties)."""
    agreements.get(session, principal, agreement_id)
    audit = session.get(InvoiceAudit, audit_id)
    if audit is None or audit.agreement_id != agreement_id:
        raise NotFound(f"no invoice audit {audit_id}")
    findings = session.scalars(
        select(InvoiceAuditFinding)
        .where(InvoiceAuditFinding.audit_id == audit_id)
        .order_by(InvoiceAuditFinding.position)
    ).all()
    rows = session.scalars(
        select(InvoiceAuditRow)
        .where(InvoiceAuditRow.audit_id == audit_id)
        .order_by(InvoiceAuditRow.row_number)
    ).all()
    return audit, list(findings), list(rows)


def expected_lines(session: Session, invoice_id: str) -> list[InvoiceLine]:
    """The lines of an audit's expected invoice."""
    return list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
    )


def expected_invoice(session: Session, audit: InvoiceAudit) -> Invoice:
    """The invoice Midway expected for an audit."""
    invoice = session.get(Invoice, audit.expected_invoice_id)
    assert invoice is not None
    return invoice


def _aliases(session: Session, agreement_id: str, rows: list[BilledRow]) -> dict[int, set[str]]:
    """For each referenced row, the ids its reference stands for: a parcel or a task also
    names its fulfillment order; a fulfillment order names its parcels and tasks (only
    records of this agreement count)."""
    cache: dict[str, set[str]] = {}
    result: dict[int, set[str]] = {}
    for row in rows:
        if not row.reference:
            continue
        if row.reference not in cache:
            cache[row.reference] = _related(session, agreement_id, row.reference)
        result[row.row] = cache[row.reference]
    return result


def _related(session: Session, agreement_id: str, reference: str) -> set[str]:
    names = {reference}
    fo_id = None
    shipment = session.get(Shipment, reference)
    task = session.get(Task, reference) if shipment is None else None
    if shipment is not None:
        fo_id = shipment.fulfillment_order_id
    elif task is not None:
        fo_id = task.fulfillment_order_id
    else:
        fo_id = reference
    fo = session.get(FulfillmentOrder, fo_id) if fo_id else None
    if fo is None or fo.agreement_id != agreement_id:
        return names
    names.add(fo.id)
    if fo.id == reference:
        names.update(
            session.scalars(select(Shipment.id).where(Shipment.fulfillment_order_id == fo.id))
        )
        names.update(session.scalars(select(Task.id).where(Task.fulfillment_order_id == fo.id)))
    return names


# --- who owns the work a row bills -----------------------------------------------------------


def _ownership(
    session: Session,
    merchant_id: str,
    agreement_id: str,
    matrix: Matrix,
    rows: list[BilledRow],
) -> dict[int, Ownership]:
    """For each row whose charge maps to a process: does the matrix give it to the provider?

    With a reference naming a task, the task's recorded owner decides; naming a shipment or
    fulfillment order of the agreement, the matrix decides for that order's SKUs, channel and
    destination; otherwise the row passes when any rule or the default could give the
    process to the provider."""
    result: dict[int, Ownership] = {}
    tags = {
        sku: frozenset(t or ())
        for sku, t in session.execute(
            select(Sku.sku, Sku.tags).where(Sku.merchant_id == merchant_id)
        )
    }
    for row in rows:
        process = _process(row.charge_code)
        if process is None:
            continue
        decided = _by_reference(session, agreement_id, matrix, process, row.reference, tags)
        result[row.row] = decided or _anywhere(matrix, process)
    return result


def _by_reference(
    session: Session,
    agreement_id: str,
    matrix: Matrix,
    process: str,
    reference: str,
    tags: Mapping[str, frozenset[str]],
) -> Ownership | None:
    if not reference:
        return None
    task = session.get(Task, reference)
    if task is not None and task.process == process and task.fulfillment_order_id:
        fo = session.get(FulfillmentOrder, task.fulfillment_order_id)
        if fo is not None and fo.agreement_id == agreement_id:
            return Ownership(
                task.owner == "provider",
                f"task {task.id} ({process}) is owned by the {task.owner}",
            )
    fo_id = reference
    shipment = session.get(Shipment, reference)
    if shipment is not None:
        fo_id = shipment.fulfillment_order_id
    fo = session.get(FulfillmentOrder, fo_id)
    if fo is None or fo.agreement_id != agreement_id:
        return None
    order = session.get(Order, fo.order_id)
    skus = session.scalars(
        select(FulfillmentOrderLine.sku).where(FulfillmentOrderLine.fulfillment_order_id == fo.id)
    ).all()
    reasons = []
    for sku in skus:
        decision = resolve(
            matrix,
            process,
            Context(
                sku=sku,
                sku_tags=tags.get(sku, frozenset()),
                channel=order.channel if order else None,
                country=(order.ship_to or {}).get("country") if order else None,
                order_value=order.order_value if order else None,
            ),
        )
        if decision.owner == "provider":
            return Ownership(True, decision.reason)
        reasons.append(f"{sku}: {decision.reason}")
    return Ownership(False, f"fulfillment order {fo.id}: " + "; ".join(reasons))


def _anywhere(matrix: Matrix, process: str) -> Ownership:
    if matrix.defaults.get(process) == "provider":
        return Ownership(True, f"the default owner of {process} is the provider")
    rules = [r.id for r in matrix.rules if r.process == process and r.owner == "provider"]
    if rules:
        return Ownership(True, f"rule(s) {', '.join(rules)} give {process} to the provider")
    owner = matrix.defaults.get(process)
    who = f"the {owner}" if owner else "no one (not performed)"
    return Ownership(
        False, f"the matrix gives {process} to {who} and no rule gives it to the provider"
    )
