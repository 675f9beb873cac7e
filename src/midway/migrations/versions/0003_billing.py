"""billing: invoices, invoice lines, invoice audits

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import midway.db

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agreement_id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("agreement_version", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subtotal", midway.db.Money(length=40), nullable=False),
        sa.Column("credits_total", midway.db.Money(length=40), nullable=False),
        sa.Column("total", midway.db.Money(length=40), nullable=False),
        sa.Column("sla_credits", sa.String(length=16), nullable=False),
        sa.Column("notes", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoices_agreement_period", ["agreement_id", "period"], unique=False
        )

    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("invoice_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("quantity", midway.db.Money(length=40), nullable=False),
        sa.Column("unit_price", midway.db.Money(length=40), nullable=True),
        sa.Column("amount", midway.db.Money(length=40), nullable=False),
        sa.Column("refs", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_lines_invoice_id"), ["invoice_id"], unique=False
        )

    op.create_table(
        "invoice_audits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agreement_id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("expected_invoice_id", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("billed_total", midway.db.Money(length=40), nullable=False),
        sa.Column("expected_total", midway.db.Money(length=40), nullable=False),
        sa.Column("difference", midway.db.Money(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"]),
        sa.ForeignKeyConstraint(["expected_invoice_id"], ["invoices.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invoice_audits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoice_audits_agreement_period", ["agreement_id", "period"], unique=False
        )

    op.create_table(
        "invoice_audit_findings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("audit_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("charge_code", sa.String(length=80), nullable=True),
        sa.Column("rows", JSON, nullable=False),
        sa.Column("billed", midway.db.Money(length=40), nullable=False),
        sa.Column("expected", midway.db.Money(length=40), nullable=False),
        sa.Column("difference", midway.db.Money(length=40), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("refs", JSON, nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["invoice_audits.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invoice_audit_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_audit_findings_audit_id"), ["audit_id"], unique=False
        )

    op.create_table(
        "invoice_audit_rows",
        sa.Column("audit_id", sa.String(length=32), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.String(length=80), nullable=False),
        sa.Column("charge_code", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", midway.db.Money(length=40), nullable=False),
        sa.Column("unit_price", midway.db.Money(length=40), nullable=True),
        sa.Column("amount", midway.db.Money(length=40), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["invoice_audits.id"]),
        sa.PrimaryKeyConstraint("audit_id", "row_number"),
    )


def downgrade() -> None:
    op.drop_table("invoice_audit_rows")
    with op.batch_alter_table("invoice_audit_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_audit_findings_audit_id"))
    op.drop_table("invoice_audit_findings")
    with op.batch_alter_table("invoice_audits", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_audits_agreement_period")
    op.drop_table("invoice_audits")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_lines_invoice_id"))
    op.drop_table("invoice_lines")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_agreement_period")
    op.drop_table("invoices")
