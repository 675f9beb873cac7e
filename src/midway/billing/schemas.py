"""API shapes of billing: invoices, their lines and sources, invoice audits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, StrictInt

from midway.billing.models import (
    Invoice,
    InvoiceAudit,
    InvoiceAuditFinding,
    InvoiceAuditRow,
    InvoiceLine,
)
from midway.schemas import MONTH, StrictModel

REFS_SHOWN = 50


class InvoiceIn(StrictModel):
    """Which month to invoice."""

    period: str = Field(
        description="calendar month YYYY-MM, in each facility's local time",
        json_schema_extra=MONTH,
    )


class InvoiceLineOut(BaseModel):
    """One line; ``refs`` lists up to 50 source ids per kind (``ref_counts`` has the totals,
    the sources endpoint pages through all of them)."""

    id: str
    position: int
    code: str
    kind: str
    description: str
    unit: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    ref_counts: dict[str, int]
    refs: dict[str, list[Any]]
    refs_complete: bool
    detail: list[dict[str, Any]]


class InvoiceOut(BaseModel):
    """A draft invoice (or the invoice an audit expected) with its lines."""

    id: str
    agreement_id: str
    merchant_id: str
    provider_id: str
    period: str
    agreement_version: int
    currency: str
    status: str
    subtotal: Decimal
    credits_total: Decimal
    total: Decimal
    sla_credits: str = Field(description="applied, none, or not_available")
    notes: list[str]
    created_by: str
    created_at: datetime
    lines: list[InvoiceLineOut]


class InvoiceSummary(BaseModel):
    """An invoice without its lines."""

    id: str
    period: str
    status: str
    currency: str
    total: Decimal
    created_at: datetime


class SourcesOut(BaseModel):
    """A page of the records behind one invoice line."""

    line_id: str
    code: str
    kind: str
    total: int
    offset: int
    limit: int
    items: list[dict[str, Any]]


class AuditRowIn(StrictModel):
    """One row of the provider's invoice (the CSV columns; numbers as strings)."""

    line_id: str
    charge_code: str
    description: str = ""
    quantity: str | StrictInt
    unit_price: str | StrictInt | None = None
    amount: str | StrictInt
    reference: str = ""


class AuditIn(StrictModel):
    """The provider's invoice for a month, as JSON rows."""

    period: str = Field(
        description="the month the invoice covers, YYYY-MM", json_schema_extra=MONTH
    )
    rows: list[AuditRowIn] = Field(min_length=1, max_length=200_000)
    source_name: str | None = None


class FindingOut(BaseModel):
    """One explained difference (``difference`` = billed − expected)."""

    position: int
    kind: str
    charge_code: str | None
    rows: list[int]
    billed: Decimal
    expected: Decimal
    difference: Decimal
    explanation: str
    refs: dict[str, list[Any]]


class AuditRowOut(BaseModel):
    """A row of the provider's invoice as imported."""

    row_number: int
    line_id: str
    charge_code: str
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    reference: str


class AuditOut(BaseModel):
    """An invoice audit: totals that reconcile, every finding, and the imported rows."""

    id: str
    agreement_id: str
    period: str
    currency: str
    source_name: str | None
    row_count: int
    billed_total: Decimal
    expected_total: Decimal
    difference: Decimal
    explained_total: Decimal
    expected_invoice_id: str
    created_at: datetime
    findings: list[FindingOut]
    rows: list[AuditRowOut]


def line_out(line: InvoiceLine) -> InvoiceLineOut:
    """The API shape of a line."""
    refs = line.refs or {}
    return InvoiceLineOut(
        id=line.id,
        position=line.position,
        code=line.code,
        kind=line.kind,
        description=line.description,
        unit=line.unit,
        quantity=line.quantity,
        unit_price=line.unit_price,
        amount=line.amount,
        ref_counts={k: len(v) for k, v in refs.items()},
        refs={k: list(v[:REFS_SHOWN]) for k, v in refs.items()},
        refs_complete=all(len(v) <= REFS_SHOWN for v in refs.values()),
        detail=list(line.detail or []),
    )


def invoice_out(invoice: Invoice, lines: list[InvoiceLine]) -> InvoiceOut:
    """The API shape of an invoice."""
    return InvoiceOut(
        id=invoice.id,
        agreement_id=invoice.agreement_id,
        merchant_id=invoice.merchant_id,
        provider_id=invoice.provider_id,
        period=invoice.period,
        agreement_version=invoice.agreement_version,
        currency=invoice.currency,
        status=invoice.status,
        subtotal=invoice.subtotal,
        credits_total=invoice.credits_total,
        total=invoice.total,
        sla_credits=invoice.sla_credits,
        notes=list(invoice.notes or []),
        created_by=invoice.created_by,
        created_at=invoice.created_at,
        lines=[line_out(ln) for ln in lines],
    )


def audit_out(
    audit: InvoiceAudit, findings: list[InvoiceAuditFinding], rows: list[InvoiceAuditRow]
) -> AuditOut:
    """The API shape of an audit."""
    return AuditOut(
        id=audit.id,
        agreement_id=audit.agreement_id,
        period=audit.period,
        currency=audit.currency,
        source_name=audit.source_name,
        row_count=audit.row_count,
        billed_total=audit.billed_total,
        expected_total=audit.expected_total,
        difference=audit.difference,
        explained_total=sum((f.difference for f in findings), Decimal(0)),
        expected_invoice_id=audit.expected_invoice_id,
        created_at=audit.created_at,
        findings=[FindingOut.model_validate(f, from_attributes=True) for f in findings],
        rows=[AuditRowOut.model_validate(r, from_attributes=True) for r in rows],
    )
