"""Routes: the catalog."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictInt

from midway.api_deps import CurrentPrincipal, Db
from midway.catalog import service
from midway.catalog.models import Sku
from midway.schemas import PROBLEM_RESPONSES, StrictModel

router = APIRouter(tags=["catalog"], responses=PROBLEM_RESPONSES)


class ComponentIn(StrictModel):
    """One component of a kit."""

    sku: str
    quantity: StrictInt = Field(1, gt=0)


class SkuBody(StrictModel):
    """A SKU's description (the code is in the path)."""

    name: str = Field(min_length=1, max_length=300)
    weight_g: StrictInt = Field(0, ge=0)
    length_mm: StrictInt = Field(0, ge=0)
    width_mm: StrictInt = Field(0, ge=0)
    height_mm: StrictInt = Field(0, ge=0)
    tags: list[str] = Field(default_factory=list)
    components: list[ComponentIn] | None = None
    packaging_instructions: str | None = None

    def to_input(self, sku: str) -> service.SkuInput:
        """As the service's value."""
        return service.SkuInput(
            sku=sku,
            name=self.name,
            weight_g=self.weight_g,
            length_mm=self.length_mm,
            width_mm=self.width_mm,
            height_mm=self.height_mm,
            tags=self.tags,
            components=[(c.sku, c.quantity) for c in self.components or []],
            packaging_instructions=self.packaging_instructions,
        )


class SkuItem(SkuBody):
    """A SKU in a bulk upsert."""

    sku: str


class BulkIn(StrictModel):
    """Many SKUs at once (all or nothing)."""

    skus: list[SkuItem] = Field(min_length=1, max_length=10_000)


class BulkOut(BaseModel):
    """What a bulk upsert did."""

    created: int
    updated: int


class SkuOut(BaseModel):
    """A SKU."""

    sku: str
    name: str
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    tags: list[str]
    components: list[dict[str, object]]
    packaging_instructions: str | None
    created_at: datetime
    updated_at: datetime


def _out(row: Sku) -> SkuOut:
    return SkuOut.model_validate(row, from_attributes=True)


@router.put("/v1/skus/{sku}", response_model=SkuOut)
def put_sku(sku: str, body: SkuBody, principal: CurrentPrincipal, db: Db) -> SkuOut:
    """Create or replace one SKU."""
    with db.transaction() as session:
        service.upsert_many(session, principal, [body.to_input(sku)])
        return _out(service.get_sku(session, principal.party_id, sku))


@router.post("/v1/skus/bulk", response_model=BulkOut)
def bulk(body: BulkIn, principal: CurrentPrincipal, db: Db) -> BulkOut:
    """Create or update many SKUs; any bad item rejects the whole batch, listing every problem."""
    with db.transaction() as session:
        created, updated = service.upsert_many(
            session, principal, [item.to_input(item.sku) for item in body.skus]
        )
    return BulkOut(created=created, updated=updated)


@router.get("/v1/skus/{sku}", response_model=SkuOut)
def get_sku(sku: str, principal: CurrentPrincipal, db: Db) -> SkuOut:
    """One of the caller's SKUs."""
    principal.require_kind("merchant", "read the catalog")
    with db.transaction(write=False) as session:
        return _out(service.get_sku(session, principal.party_id, sku))


@router.get("/v1/skus", response_model=list[SkuOut])
def list_skus(
    principal: CurrentPrincipal,
    db: Db,
    tag: str | None = None,
    after: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[SkuOut]:
    """A page of the caller's SKUs by code."""
    principal.require_kind("merchant", "read the catalog")
    with db.transaction(write=False) as session:
        return [
            _out(r)
            for r in service.list_skus(
                session, principal.party_id, tag=tag, limit=limit, after=after
            )
        ]
