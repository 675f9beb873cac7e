"""billing indexes: the meter's reads of the ledger and of returns

Revision ID: 0006_billing_indexes
Revises: 0001
Create Date: 2026-11-22 15:00:00.000000

Ledger rows that change on hand, by merchant, facility and time, covering what storage sums
(partial: reservations stay out), and ``return.received`` events by merchant (partial). The
partial indexes cost nothing on the writes they leave out (order intake writes reservations
and many other events).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_billing_indexes"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_stock_movements_on_hand_period",
        "stock_movements",
        ["merchant_id", "facility_id", "created_at", "sku", "on_hand_delta"],
        sqlite_where=sa.text("on_hand_delta <> 0"),
        postgresql_where=sa.text("on_hand_delta <> 0"),
    )
    op.create_index(
        "ix_events_return_received",
        "events",
        ["merchant_id"],
        sqlite_where=sa.text("type = 'return.received'"),
        postgresql_where=sa.text("type = 'return.received'"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_return_received", table_name="events")
    op.drop_index("ix_stock_movements_on_hand_period", table_name="stock_movements")
