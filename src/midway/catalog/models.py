"""Table of SKUs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base


class Sku(Base):
    """A merchant's product; a kit lists its components."""

    __tablename__ = "skus"
    __table_args__ = (UniqueConstraint("merchant_id", "sku", name="uq_sku_merchant_sku"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("parties.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    weight_g: Mapped[int]
    length_mm: Mapped[int]
    width_mm: Mapped[int]
    height_mm: Mapped[int]
    tags: Mapped[list[Any]]
    components: Mapped[list[Any]]
    packaging_instructions: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
