"""Tables the KPIs read: one fact row per fulfilled order (live or imported), and counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base


class OrderFact(Base):
    """What happened to one order at one facility, with the times the KPIs need.

    ``source`` is ``live`` (kept by the clock engine from events; one row per fulfillment
    order) or ``import`` (history loaded from another system; one row per order).
    ``handed_at`` is the final hand-off to the carrier: the shipment that completed the work,
    or the last one when the rest was closed or cancelled. ``event_ids`` are the events behind
    the row, so every figure can be traced back to them.
    """

    __tablename__ = "order_facts"
    __table_args__ = (
        UniqueConstraint("merchant_id", "source", "external_ref", name="uq_order_fact_ref"),
        Index("ix_order_facts_merchant_handed", "merchant_id", "handed_at"),
        Index("ix_order_facts_provider_handed", "provider_id", "handed_at"),
        Index("ix_order_facts_agreement_handed", "agreement_id", "handed_at"),
        Index("ix_order_facts_order", "order_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(8))
    merchant_id: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(32))
    agreement_id: Mapped[str | None] = mapped_column(String(32))
    facility_id: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(64))
    external_ref: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[str | None] = mapped_column(String(32))
    fulfillment_order_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    placed_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]
    ship_by: Mapped[datetime | None]
    handed_at: Mapped[datetime | None]
    promised_delivery: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    units: Mapped[int]
    units_shipped: Mapped[int]
    shipped_complete: Mapped[bool | None] = mapped_column(Boolean)
    # None when unknown (imported history that does not say): such rows count in neither
    # the numerator nor the denominator of order accuracy / damage-free.
    inaccurate: Mapped[bool | None] = mapped_column(Boolean)
    damaged: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[int | None]
    rated_at: Mapped[datetime | None]
    shipments: Mapped[dict[str, Any]]
    incident_ids: Mapped[list[Any]]
    event_ids: Mapped[list[Any]]
    lines: Mapped[list[Any]]
    import_batch: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class InventoryCountFact(Base):
    """One count of one SKU at a facility (cycle count, reconciliation): inventory accuracy."""

    __tablename__ = "inventory_count_facts"
    __table_args__ = (Index("ix_inventory_counts_facility_at", "facility_id", "counted_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(32))
    agreement_id: Mapped[str | None] = mapped_column(String(32))
    facility_id: Mapped[str] = mapped_column(String(32))
    sku: Mapped[str] = mapped_column(String(64))
    expected: Mapped[int]
    counted: Mapped[int]
    counted_at: Mapped[datetime]
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
