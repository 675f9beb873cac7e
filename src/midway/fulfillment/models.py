"""Tables of fulfillment orders, their lines, holds and shipments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base, Money


class FulfillmentOrder(Base):
    """The work handed to one facility for one order, with the two-party handshake state."""

    __tablename__ = "fulfillment_orders"
    __table_args__ = (
        Index("ix_fo_merchant_status", "merchant_id", "status"),
        Index("ix_fo_provider_status", "provider_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    facility_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    provider_id: Mapped[str | None] = mapped_column(String(32))
    agreement_id: Mapped[str | None] = mapped_column(String(32))
    agreement_version: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(24))
    request_status: Mapped[str] = mapped_column(String(32))
    status_before_hold: Mapped[str | None] = mapped_column(String(24))
    rejection_reason: Mapped[str | None] = mapped_column(String(40))
    rejection_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FulfillmentOrderLine(Base):
    """A line of an FO: what it reserved, what shipped, what was given back to the pool."""

    __tablename__ = "fulfillment_order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="fo_line_quantity_positive"),
        CheckConstraint(
            "shipped_quantity >= 0 AND released_quantity >= 0"
            " AND shipped_quantity + released_quantity <= quantity",
            name="fo_line_quantities_consistent",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    fulfillment_order_id: Mapped[str] = mapped_column(
        ForeignKey("fulfillment_orders.id"), index=True
    )
    merchant_id: Mapped[str] = mapped_column(String(32))
    order_line_id: Mapped[str] = mapped_column(ForeignKey("order_lines.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    components: Mapped[list[Any]]
    quantity: Mapped[int]
    shipped_quantity: Mapped[int]
    released_quantity: Mapped[int]


class Hold(Base):
    """A hold placed on an FO by either party, with its reason."""

    __tablename__ = "fulfillment_holds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    fulfillment_order_id: Mapped[str] = mapped_column(
        ForeignKey("fulfillment_orders.id"), index=True
    )
    merchant_id: Mapped[str] = mapped_column(String(32))
    placed_by: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(32))


class Shipment(Base):
    """A parcel handed to a carrier for (part of) an FO."""

    __tablename__ = "shipments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    fulfillment_order_id: Mapped[str] = mapped_column(
        ForeignKey("fulfillment_orders.id"), index=True
    )
    merchant_id: Mapped[str] = mapped_column(String(32))
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str] = mapped_column(String(64))
    lines: Mapped[list[Any]]
    carrier_charge: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str | None] = mapped_column(String(3))
    created_by: Mapped[str] = mapped_column(String(32))
    shipped_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
