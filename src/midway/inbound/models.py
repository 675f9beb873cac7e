"""Tables of inbound shipments and their lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base


class InboundShipment(Base):
    """An advance ship notice: stock on its way to a facility."""

    __tablename__ = "inbound_shipments"
    __table_args__ = (
        UniqueConstraint("merchant_id", "reference", name="uq_inbound_merchant_reference"),
        Index("ix_inbound_facility_status", "facility_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32), index=True)
    facility_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    provider_id: Mapped[str | None] = mapped_column(String(32))
    agreement_id: Mapped[str | None] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    carrier: Mapped[str | None] = mapped_column(String(64))
    expected_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class InboundLine(Base):
    """Expected and received units of one SKU."""

    __tablename__ = "inbound_lines"
    __table_args__ = (
        CheckConstraint("expected_quantity >= 0", name="inbound_expected_non_negative"),
        CheckConstraint(
            "received_quantity >= 0 AND damaged_quantity >= 0"
            " AND damaged_quantity <= received_quantity",
            name="inbound_received_consistent",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    inbound_id: Mapped[str] = mapped_column(ForeignKey("inbound_shipments.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(String(32))
    sku: Mapped[str] = mapped_column(String(64))
    expected_quantity: Mapped[int]
    received_quantity: Mapped[int]
    damaged_quantity: Mapped[int]
