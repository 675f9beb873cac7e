"""Tables of return authorizations and their lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base


class ReturnAuthorization(Base):
    """An RMA: goods the customer sends back to a facility."""

    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("merchant_id", "rma_number", name="uq_return_rma"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32), index=True)
    order_id: Mapped[str | None] = mapped_column(String(32))
    facility_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    provider_id: Mapped[str | None] = mapped_column(String(32), index=True)
    agreement_id: Mapped[str | None] = mapped_column(String(32))
    rma_number: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    received_at: Mapped[datetime | None]
    inspected_at: Mapped[datetime | None]
    disposed_at: Mapped[datetime | None]


class ReturnLine(Base):
    """Units of one SKU on an RMA: authorized, received, their condition and fate."""

    __tablename__ = "return_lines"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    return_id: Mapped[str] = mapped_column(ForeignKey("returns.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(String(32))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    received_quantity: Mapped[int]
    condition: Mapped[str | None] = mapped_column(String(24))
    disposition: Mapped[str | None] = mapped_column(String(24))
