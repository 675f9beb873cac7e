"""API shapes of fulfillment orders and shipments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, StrictInt

from midway.schemas import Amount, StrictModel


class FoLineOut(BaseModel):
    """A line of a fulfillment order."""

    id: str
    order_line_id: str
    sku: str
    quantity: int
    shipped_quantity: int
    released_quantity: int
    remaining_quantity: int


class HoldOut(BaseModel):
    """An open hold."""

    id: str
    reason: str
    note: str | None
    placed_by: str
    created_at: datetime


class ShipmentOut(BaseModel):
    """A parcel."""

    id: str
    carrier: str
    tracking_number: str
    lines: list[dict[str, Any]]
    shipped_at: datetime
    delivered_at: datetime | None
    carrier_charge: Decimal | None
    currency: str | None


class FulfillmentOrderOut(BaseModel):
    """Work handed to one facility, with its handshake state and what the caller may do next."""

    id: str
    order_id: str
    merchant_id: str
    provider_id: str | None
    facility_code: str | None
    agreement_id: str | None
    agreement_version: int | None
    status: str
    request_status: str
    supported_actions: list[str]
    channel: str
    external_id: str
    ship_to: dict[str, Any] | None
    rejection_reason: str | None
    rejection_message: str | None
    holds: list[HoldOut]
    lines: list[FoLineOut]
    shipments: list[ShipmentOut]
    created_at: datetime
    updated_at: datetime


class ActionIn(StrictModel):
    """Optional details of an action: a reason (reject, hold), a message, a hold id."""

    reason: str | None = None
    message: str | None = Field(None, max_length=2000)
    hold_id: str | None = None


class ShipmentLineIn(StrictModel):
    """Units of one SKU in the parcel."""

    sku: str
    quantity: StrictInt = Field(gt=0)


class ShipmentIn(StrictModel):
    """A parcel handed to a carrier."""

    carrier: str = Field(min_length=1, max_length=64)
    tracking_number: str = Field(min_length=1, max_length=64)
    lines: list[ShipmentLineIn] = Field(min_length=1)
    carrier_charge: Amount | None = Field(
        None, ge=0, description="what the carrier billed, passed through on invoices"
    )
    currency: str | None = Field(None, min_length=3, max_length=3)


class DeliveryIn(StrictModel):
    """When the parcel reached the customer."""

    delivered_at: datetime
