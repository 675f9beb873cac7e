"""Tables of orders and order lines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base, Money


class Order(Base):
    """A customer order from one of the merchant's channels."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("merchant_id", "channel", "external_id", name="uq_order_channel_external"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(24))
    ship_to: Mapped[dict[str, Any]]
    currency: Mapped[str | None] = mapped_column(String(3))
    order_value: Mapped[Decimal | None] = mapped_column(Money())
    sourcing: Mapped[list[Any]]
    placed_at: Mapped[datetime]
    ship_by: Mapped[datetime | None]
    promised_delivery: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OrderLine(Base):
    """One line of an order; what is reserved, shipped or backordered comes from its FO lines."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="order_line_quantity_positive"),
        CheckConstraint("cancelled_quantity >= 0", name="order_line_cancelled_non_negative"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(String(32))
    line_no: Mapped[int]
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    cancelled_quantity: Mapped[int]
    unit_price: Mapped[Decimal | None] = mapped_column(Money())
