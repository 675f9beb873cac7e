"""API shapes of ratings (KPI reports are plain JSON documents described in docs/sla.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, StrictInt

from midway.schemas import StrictModel


class RatingIn(StrictModel):
    """The customer's rating of delivery and packaging, 1 (bad) to 5 (good)."""

    score: StrictInt = Field(ge=1, le=5)
    rated_at: datetime | None = Field(None, description="when the customer rated; default now")


class RatingOut(BaseModel):
    """The rating as recorded on the order's fulfillment facts."""

    order_id: str
    score: int
    rated_at: datetime
    fulfillment_order_ids: list[str]
