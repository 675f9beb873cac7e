"""SLA clocks, the clock engine's cursor, facility closures, KPI facts

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import midway.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "facility_closures",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("facility_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("facility_id", "day", name="uq_facility_closure_day"),
    )
    with op.batch_alter_table("facility_closures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_facility_closures_facility_id"), ["facility_id"], unique=False
        )

    op.create_table(
        "inventory_count_facts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=True),
        sa.Column("agreement_id", sa.String(length=32), nullable=True),
        sa.Column("facility_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("counted_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("inventory_count_facts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inventory_count_facts_merchant_id"), ["merchant_id"], unique=False
        )
        batch_op.create_index(
            "ix_inventory_counts_facility_at", ["facility_id", "counted_at"], unique=False
        )

    op.create_table(
        "order_facts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=True),
        sa.Column("agreement_id", sa.String(length=32), nullable=True),
        sa.Column("facility_id", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("external_ref", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("fulfillment_order_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("placed_at", midway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_at", midway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ship_by", midway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handed_at", midway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("promised_delivery", midway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", midway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("units_shipped", sa.Integer(), nullable=False),
        sa.Column("shipped_complete", sa.Boolean(), nullable=True),
        sa.Column("inaccurate", sa.Boolean(), nullable=True),
        sa.Column("damaged", sa.Boolean(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", midway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "shipments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "incident_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "event_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "lines",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("import_batch", sa.String(length=32), nullable=True),
        sa.Column("updated_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fulfillment_order_id"),
        sa.UniqueConstraint("merchant_id", "source", "external_ref", name="uq_order_fact_ref"),
    )
    with op.batch_alter_table("order_facts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_facts_agreement_handed", ["agreement_id", "handed_at"], unique=False
        )
        batch_op.create_index(
            "ix_order_facts_merchant_handed", ["merchant_id", "handed_at"], unique=False
        )
        batch_op.create_index("ix_order_facts_order", ["order_id"], unique=False)
        batch_op.create_index(
            "ix_order_facts_provider_handed", ["provider_id", "handed_at"], unique=False
        )

    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=32), nullable=True),
        sa.Column("agreement_id", sa.String(length=32), nullable=True),
        sa.Column("facility_id", sa.String(length=32), nullable=True),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("accountable", sa.String(length=16), nullable=True),
        sa.Column("started_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("at_risk_at", midway.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", midway.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at_risk_sent", sa.Boolean(), nullable=False),
        sa.Column("breached_sent", sa.Boolean(), nullable=False),
        sa.Column("start_event_id", sa.String(length=32), nullable=False),
        sa.Column("stop_event_id", sa.String(length=32), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject_type", "subject_id", name="uq_sla_clock_subject"),
    )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sla_clocks_agreement_kind", ["agreement_id", "kind", "stopped_at"], unique=False
        )
        batch_op.create_index("ix_sla_clocks_merchant", ["merchant_id", "kind"], unique=False)
        batch_op.create_index(
            "ix_sla_clocks_running_deadline", ["status", "deadline"], unique=False
        )

    op.create_table(
        "sla_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("tx_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("sla_cursor")
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_clocks_running_deadline")
        batch_op.drop_index("ix_sla_clocks_merchant")
        batch_op.drop_index("ix_sla_clocks_agreement_kind")

    op.drop_table("sla_clocks")
    with op.batch_alter_table("order_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_order_facts_provider_handed")
        batch_op.drop_index("ix_order_facts_order")
        batch_op.drop_index("ix_order_facts_merchant_handed")
        batch_op.drop_index("ix_order_facts_agreement_handed")

    op.drop_table("order_facts")
    with op.batch_alter_table("inventory_count_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_counts_facility_at")
        batch_op.drop_index(batch_op.f("ix_inventory_count_facts_merchant_id"))

    op.drop_table("inventory_count_facts")
    with op.batch_alter_table("facility_closures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facility_closures_facility_id"))

    op.drop_table("facility_closures")
