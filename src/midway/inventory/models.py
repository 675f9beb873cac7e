"""Tables of stock balances and the append-only stock ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base


class StockBalance(Base):
    """On hand and reserved per merchant × facility × SKU, kept with the ledger in one
    transaction."""

    __tablename__ = "stock_balances"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="stock_on_hand_non_negative"),
        CheckConstraint("reserved >= 0", name="stock_reserved_non_negative"),
        CheckConstraint("reserved <= on_hand", name="stock_reserved_within_on_hand"),
    )

    merchant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)


class StockMovement(Base):
    """One ledger row: what changed on hand and reserved, why, by whom, for which reference."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        Index("ix_stock_movements_lookup", "merchant_id", "sku", "facility_id", "id"),
        # The billing meter's reads by period (receipts, storage); reservations, which do
        # not change on hand, stay out of it.
        Index(
            "ix_stock_movements_on_hand_period",
            "merchant_id",
            "facility_id",
            "created_at",
            "sku",
            "on_hand_delta",
            sqlite_where=text("on_hand_delta <> 0"),
            postgresql_where=text("on_hand_delta <> 0"),
        ),
        CheckConstraint(
            "kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment', 'return',"
            " 'count', 'transfer')",
            name="stock_movement_kind",
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    merchant_id: Mapped[str] = mapped_column(String(32))
    facility_id: Mapped[str] = mapped_column(String(32))
    sku: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    on_hand_delta: Mapped[int]
    reserved_delta: Mapped[int]
    reason: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(128))
    actor_party_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
