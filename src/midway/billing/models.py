"""Tables of draft invoices, their lines, and audits of the provider's own invoices."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base, Money


class Invoice(Base):
    """A draft invoice of one agreement for one month, rated from the events behind it."""

    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_agreement_period", "agreement_id", "period"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"))
    merchant_id: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    agreement_version: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    subtotal: Mapped[Decimal] = mapped_column(Money())
    credits_total: Mapped[Decimal] = mapped_column(Money())
    total: Mapped[Decimal] = mapped_column(Money())
    sla_credits: Mapped[str] = mapped_column(String(16))
    notes: Mapped[list[Any]]
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class InvoiceLine(Base):
    """One line: charge code, quantity, price, amount, and the ids of the sources behind it."""

    __tablename__ = "invoice_lines"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[Decimal] = mapped_column(Money())
    unit_price: Mapped[Decimal | None] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    # Plain JSON, not JSONB on PostgreSQL: written once, read whole for drill-down, and a
    # month's line can list millions of ids, which JSONB would parse and rebuild.
    refs: Mapped[dict[str, Any]] = mapped_column(JSON)
    detail: Mapped[list[Any]] = mapped_column(JSON)


class InvoiceAudit(Base):
    """The provider's invoice for a month, checked line by line against the expected one."""

    __tablename__ = "invoice_audits"
    __table_args__ = (Index("ix_invoice_audits_agreement_period", "agreement_id", "period"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"))
    merchant_id: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    expected_invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"))
    currency: Mapped[str] = mapped_column(String(3))
    source_name: Mapped[str | None] = mapped_column(String(200))
    row_count: Mapped[int]
    billed_total: Mapped[Decimal] = mapped_column(Money())
    expected_total: Mapped[Decimal] = mapped_column(Money())
    difference: Mapped[Decimal] = mapped_column(Money())
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class InvoiceAuditRow(Base):
    """One row of the provider's invoice as imported."""

    __tablename__ = "invoice_audit_rows"

    audit_id: Mapped[str] = mapped_column(ForeignKey("invoice_audits.id"), primary_key=True)
    row_number: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[str] = mapped_column(String(80))
    charge_code: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Money())
    unit_price: Mapped[Decimal | None] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    reference: Mapped[str] = mapped_column(String(200))


class InvoiceAuditFinding(Base):
    """One explained difference: its kind, the rows and charge code, and the amount."""

    __tablename__ = "invoice_audit_findings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    audit_id: Mapped[str] = mapped_column(ForeignKey("invoice_audits.id"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    charge_code: Mapped[str | None] = mapped_column(String(80))
    rows: Mapped[list[Any]]
    billed: Mapped[Decimal] = mapped_column(Money())
    expected: Mapped[Decimal] = mapped_column(Money())
    difference: Mapped[Decimal] = mapped_column(Money())
    explanation: Mapped[str] = mapped_column(Text)
    refs: Mapped[dict[str, Any]]
