"""API shapes of orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, StrictInt

from midway.fulfillment.schemas import FulfillmentOrderOut
from midway.orders import service
from midway.schemas import COUNTRY, Amount, StrictModel


class ShipToIn(StrictModel):
    """Where the parcel goes (personal data: shown to a provider only for its own work)."""

    name: str = Field(min_length=1, max_length=200)
    company: str | None = None
    address1: str = Field(min_length=1, max_length=300)
    address2: str | None = None
    city: str = Field(min_length=1, max_length=100)
    region: str | None = None
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(
        min_length=2, max_length=2, description="ISO 3166-1 alpha-2", json_schema_extra=COUNTRY
    )
    phone: str | None = None
    email: str | None = None


class LineIn(StrictModel):
    """An ordered SKU."""

    sku: str = Field(min_length=1)
    quantity: StrictInt = Field(gt=0)
    unit_price: Amount | None = Field(None, ge=0)


class OrderIn(StrictModel):
    """A customer order from a channel."""

    channel: str = Field(min_length=1, max_length=64)
    external_id: str = Field(min_length=1, max_length=128)
    ship_to: ShipToIn
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    currency: str | None = Field(None, min_length=3, max_length=3)
    placed_at: datetime | None = None
    ship_by: datetime | None = Field(
        None, description="the channel's hand-off deadline; overrides the facility's cut-off rule"
    )
    promised_delivery: datetime | None = Field(None, description="delivery date promised")

    def to_input(self) -> service.OrderInput:
        """As the service's value."""
        return service.OrderInput(
            channel=self.channel,
            external_id=self.external_id,
            ship_to=self.ship_to.model_dump(),
            lines=[service.LineInput(ln.sku, ln.quantity, ln.unit_price) for ln in self.lines],
            currency=self.currency,
            placed_at=self.placed_at,
            ship_by=self.ship_by,
            promised_delivery=self.promised_delivery,
        )


class OrderLineOut(BaseModel):
    """A line and where its units stand."""

    id: str
    line_no: int
    sku: str
    quantity: int
    reserved_quantity: int
    shipped_quantity: int
    cancelled_quantity: int
    backordered_quantity: int
    unit_price: Decimal | None


class OrderOut(BaseModel):
    """An order, its lines' progress, its fulfillment orders and the sourcing decisions."""

    id: str
    channel: str
    external_id: str
    status: str
    ship_to: dict[str, Any]
    currency: str | None
    order_value: Decimal | None
    placed_at: datetime
    ship_by: datetime | None
    promised_delivery: datetime | None
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLineOut]
    fulfillment_orders: list[FulfillmentOrderOut]
    sourcing: list[dict[str, Any]]
