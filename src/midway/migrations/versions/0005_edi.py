"""edi partners, documents, cursor, provider snapshots

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-22 15:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import midway.db

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "edi_cursors",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("tx_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "edi_partners",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("party_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("interchange_qualifier", sa.String(length=2), nullable=False),
        sa.Column("interchange_id", sa.String(length=15), nullable=False),
        sa.Column("our_qualifier", sa.String(length=2), nullable=False),
        sa.Column("our_id", sa.String(length=15), nullable=False),
        sa.Column("profile", _json(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("facility_code", sa.String(length=64), nullable=True),
        sa.Column("item_qualifier", sa.String(length=2), nullable=False),
        sa.Column("depositors", _json(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interchange_control", sa.BigInteger(), nullable=False),
        sa.Column("group_control", sa.BigInteger(), nullable=False),
        sa.Column("set_control", sa.BigInteger(), nullable=False),
        sa.Column("created_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "interchange_control >= 0 AND group_control >= 0 AND set_control >= 0",
            name="edi_partner_controls_positive",
        ),
        sa.ForeignKeyConstraint(["party_id"], ["parties.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "party_id",
            "interchange_qualifier",
            "interchange_id",
            name="uq_edi_partner_interchange",
        ),
    )
    with op.batch_alter_table("edi_partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_edi_partners_party_id"), ["party_id"], unique=False)

    op.create_table(
        "edi_documents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("set_id", sa.String(length=6), nullable=False),
        sa.Column("interchange_control", sa.String(length=16), nullable=False),
        sa.Column("group_control", sa.String(length=16), nullable=False),
        sa.Column("set_control", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("objects", _json(), nullable=False),
        sa.Column("diagnostics", _json(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("created_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ack_status", sa.String(length=2), nullable=True),
        sa.Column("ack_codes", _json(), nullable=True),
        sa.Column("acknowledged_at", midway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ack_document_id", sa.String(length=32), nullable=True),
        sa.CheckConstraint("direction IN ('in', 'out')", name="edi_document_direction"),
        sa.CheckConstraint(
            "status IN ('accepted', 'rejected', 'sent', 'failed', 'acknowledged', 'ack_rejected')",
            name="edi_document_status",
        ),
        sa.ForeignKeyConstraint(["partner_id"], ["edi_partners.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "partner_id",
            "direction",
            "interchange_control",
            "group_control",
            "set_control",
            name="uq_edi_document_control_numbers",
        ),
    )
    with op.batch_alter_table("edi_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_edi_documents_partner_created", ["partner_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_edi_documents_partner_group",
            ["partner_id", "direction", "group_control"],
            unique=False,
        )

    op.create_table(
        "provider_snapshots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("as_of", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["edi_partners.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("provider_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_provider_snapshots_merchant_as_of", ["merchant_id", "as_of"], unique=False
        )

    op.create_table(
        "provider_snapshot_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("facility_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("as_of", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["facility_id"], ["facilities.id"]),
        sa.ForeignKeyConstraint(["snapshot_id"], ["provider_snapshots.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("provider_snapshot_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_snapshot_lines_snapshot_id"), ["snapshot_id"], unique=False
        )
        batch_op.create_index(
            "ix_snapshot_lines_lookup", ["merchant_id", "facility_id", "as_of"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("provider_snapshot_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_snapshot_lines_lookup")
        batch_op.drop_index(batch_op.f("ix_provider_snapshot_lines_snapshot_id"))
    op.drop_table("provider_snapshot_lines")
    with op.batch_alter_table("provider_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_provider_snapshots_merchant_as_of")
    op.drop_table("provider_snapshots")
    with op.batch_alter_table("edi_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_edi_documents_partner_group")
        batch_op.drop_index("ix_edi_documents_partner_created")
    op.drop_table("edi_documents")
    with op.batch_alter_table("edi_partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_edi_partners_party_id"))
    op.drop_table("edi_partners")
    op.drop_table("edi_cursors")
