"""API shapes of inbound shipments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, StrictInt

from midway.schemas import StrictModel


class ExpectedLineIn(StrictModel):
    """Units of a SKU announced."""

    sku: str
    quantity: StrictInt = Field(gt=0)


class InboundIn(StrictModel):
    """An advance ship notice."""

    facility_code: str
    reference: str = Field(min_length=1, max_length=64, description="your ASN number")
    carrier: str | None = None
    expected_at: datetime | None = None
    lines: list[ExpectedLineIn] = Field(min_length=1, max_length=2000)


class ArrivalIn(StrictModel):
    """When the shipment reached the dock (default: now)."""

    arrived_at: datetime | None = None


class ReceivedLineIn(StrictModel):
    """What was counted for a SKU."""

    sku: str
    received: StrictInt = Field(ge=0)
    damaged: StrictInt = Field(0, ge=0)


class ReceiptIn(StrictModel):
    """The receipt of an inbound shipment."""

    received_at: datetime | None = None
    lines: list[ReceivedLineIn] = Field(max_length=2000)


class InboundLineOut(BaseModel):
    """A line, with its discrepancy."""

    sku: str
    expected_quantity: int
    received_quantity: int
    damaged_quantity: int
    short_quantity: int
    over_quantity: int


class InboundOut(BaseModel):
    """An inbound shipment."""

    id: str
    reference: str
    facility_id: str
    provider_id: str | None
    agreement_id: str | None
    status: str
    carrier: str | None
    expected_at: datetime | None
    arrived_at: datetime | None
    received_at: datetime | None
    dock_to_stock_seconds: float | None
    lines: list[InboundLineOut]
    created_at: datetime
