"""Routes: draft invoices, their sources, invoice audits, and rate card validation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel

from midway.api_deps import CurrentPrincipal, Db
from midway.billing import audit as audits
from midway.billing import service
from midway.billing.schemas import (
    AuditIn,
    AuditOut,
    InvoiceIn,
    InvoiceOut,
    InvoiceSummary,
    SourcesOut,
    audit_out,
    invoice_out,
)
from midway.core.rating import parse_rate_card
from midway.errors import InvalidInput
from midway.schemas import MONTH, PROBLEM_RESPONSES

router = APIRouter(tags=["billing"], responses=PROBLEM_RESPONSES)
MAX_CSV_BYTES = 50 * 2**20


@router.post("/v1/agreements/{agreement_id}/invoices", response_model=InvoiceOut, status_code=201)
def create_invoice(
    agreement_id: str, body: InvoiceIn, principal: CurrentPrincipal, db: Db
) -> InvoiceOut:
    """Meter the month and store its draft invoice, every line with the ids behind it."""
    with db.transaction() as session:
        invoice = service.create_invoice(session, principal, agreement_id, body.period)
        return invoice_out(*service.get_invoice(session, principal, agreement_id, invoice.id))


@router.get("/v1/agreements/{agreement_id}/invoices", response_model=list[InvoiceSummary])
def list_invoices(agreement_id: str, principal: CurrentPrincipal, db: Db) -> list[InvoiceSummary]:
    """The agreement's invoices, newest first."""
    with db.transaction(write=False) as session:
        return [
            InvoiceSummary.model_validate(i, from_attributes=True)
            for i in service.list_invoices(session, principal, agreement_id)
        ]


@router.get("/v1/agreements/{agreement_id}/invoices/{invoice_id}", response_model=InvoiceOut)
def get_invoice(
    agreement_id: str, invoice_id: str, principal: CurrentPrincipal, db: Db
) -> InvoiceOut:
    """An invoice with its lines."""
    with db.transaction(write=False) as session:
        return invoice_out(*service.get_invoice(session, principal, agreement_id, invoice_id))


@router.get(
    "/v1/agreements/{agreement_id}/invoices/{invoice_id}/lines/{line_id}/sources",
    response_model=SourcesOut,
)
def line_sources(
    agreement_id: str,
    invoice_id: str,
    line_id: str,
    principal: CurrentPrincipal,
    db: Db,
    kind: str = Query(
        description="shipments, fulfillment_orders, ledger_rows, tasks, events or returns"
    ),
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
) -> SourcesOut:
    """The records behind one invoice line (shipments, ledger rows, tasks, events), paged."""
    with db.transaction(write=False) as session:
        line, total, items = service.line_sources(
            session,
            principal,
            agreement_id,
            invoice_id,
            line_id,
            kind=kind,
            offset=offset,
            limit=limit,
        )
        return SourcesOut(
            line_id=line.id,
            code=line.code,
            kind=kind,
            total=total,
            offset=offset,
            limit=limit,
            items=items,
        )


@router.post(
    "/v1/agreements/{agreement_id}/invoice-audits", response_model=AuditOut, status_code=201
)
def audit_json(agreement_id: str, body: AuditIn, principal: CurrentPrincipal, db: Db) -> AuditOut:
    """Import the provider's invoice as JSON rows and explain every difference."""
    with db.transaction() as session:
        audit = audits.run_audit(
            session,
            principal,
            agreement_id,
            body.period,
            json_rows=[row.model_dump() for row in body.rows],
            source_name=body.source_name,
        )
        return audit_out(*audits.get_audit(session, principal, agreement_id, audit.id))


@router.post(
    "/v1/agreements/{agreement_id}/invoice-audits/csv", response_model=AuditOut, status_code=201
)
async def audit_csv(
    agreement_id: str,
    period: Annotated[
        str, Form(description="the month the invoice covers, YYYY-MM", json_schema_extra=MONTH)
    ],
    file: Annotated[UploadFile, File(description="the provider's invoice, CSV (UTF-8)")],
    principal: CurrentPrincipal,
    db: Db,
) -> AuditOut:
    """Import the provider's invoice as a CSV file (multipart) and explain every difference."""
    raw = await file.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        raise InvalidInput("the file is larger than 50 MiB", field="file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text", field="file") from None
    with db.transaction() as session:
        audit = audits.run_audit(
            session,
            principal,
            agreement_id,
            period,
            csv_text=text,
            source_name=file.filename,
        )
        return audit_out(*audits.get_audit(session, principal, agreement_id, audit.id))


@router.get("/v1/agreements/{agreement_id}/invoice-audits/{audit_id}", response_model=AuditOut)
def get_audit(agreement_id: str, audit_id: str, principal: CurrentPrincipal, db: Db) -> AuditOut:
    """An invoice audit with its findings and imported rows."""
    with db.transaction(write=False) as session:
        return audit_out(*audits.get_audit(session, principal, agreement_id, audit_id))


class RateCardCheck(BaseModel):
    """A valid rate card: its currency and charges."""

    currency: str
    charges: list[dict[str, Any]]
    monthly_minimum: str
    carrier_markup_percent: str | None


@router.post("/v1/rate-cards/validate", response_model=RateCardCheck)
def validate_rate_card(body: dict[str, Any], principal: CurrentPrincipal) -> RateCardCheck:
    """Check a rate card without saving it; 422 naming the charge and field when it is bad."""
    card = parse_rate_card(body)
    return RateCardCheck(
        currency=card.currency,
        charges=[
            {
                "code": c.code,
                "description": c.description,
                "unit": c.unit,
                "tiers": [
                    {"from": t.from_quantity, "to": t.to_quantity, "price": str(t.unit_price)}
                    for t in c.tiers
                ],
            }
            for c in card.charges.values()
        ],
        monthly_minimum=str(card.monthly_minimum),
        carrier_markup_percent=(
            None if card.carrier_markup_percent is None else str(card.carrier_markup_percent)
        ),
    )
