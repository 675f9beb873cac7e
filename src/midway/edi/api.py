"""Routes: EDI partners, the documents exchanged with them, and posting a raw X12 document."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from midway.api_deps import CurrentPrincipal, Db, choice
from midway.db import Database
from midway.edi import service, warehouse
from midway.edi.receiving import receive
from midway.edi.schemas import (
    DocumentOut,
    InboundResultOut,
    InventoryAdviceIn,
    PartnerIn,
    PartnerOut,
)
from midway.errors import InvalidInput
from midway.principal import Principal
from midway.schemas import PROBLEM_RESPONSES

router = APIRouter(tags=["edi"], responses=PROBLEM_RESPONSES)

MEDIA_TYPES = ("application/edi-x12", "text/plain", "application/octet-stream")
MAX_BYTES = 20 * 1024 * 1024


@router.post("/v1/edi/partners", response_model=PartnerOut, status_code=201)
def create_partner(body: PartnerIn, principal: CurrentPrincipal, db: Db) -> PartnerOut:
    """Register a trading partner (your ERP or WMS) for your party; admin keys only."""
    with db.transaction() as session:
        partner = service.create_partner(
            session, principal, service.PartnerInput(**body.model_dump())
        )
        return PartnerOut.model_validate(partner, from_attributes=True)


@router.get("/v1/edi/partners", response_model=list[PartnerOut])
def list_partners(principal: CurrentPrincipal, db: Db) -> list[PartnerOut]:
    """Your trading partners; admin keys only."""
    principal.require("admin")
    with db.transaction(write=False) as session:
        return [
            PartnerOut.model_validate(p, from_attributes=True)
            for p in service.list_partners(session, principal)
        ]


@router.get("/v1/edi/partners/{partner_id}", response_model=PartnerOut)
def get_partner(partner_id: str, principal: CurrentPrincipal, db: Db) -> PartnerOut:
    """One of your trading partners; admin keys only."""
    principal.require("admin")
    with db.transaction(write=False) as session:
        partner = service.get_partner(session, principal, partner_id)
        return PartnerOut.model_validate(partner, from_attributes=True)


@router.get("/v1/edi/documents", response_model=list[DocumentOut])
def list_documents(
    principal: CurrentPrincipal,
    db: Db,
    direction: Literal["in", "out"] | None = None,
    status: str | None = choice(service.STATUSES, "where the document stands"),
    partner_id: str | None = None,
    set_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[DocumentOut]:
    """Documents exchanged with your partners, newest first."""
    with db.transaction(write=False) as session:
        return [
            DocumentOut.model_validate(d, from_attributes=True)
            for d in service.list_documents(
                session,
                principal,
                direction=direction,
                status=status,
                partner_id=partner_id,
                set_id=set_id,
                limit=limit,
            )
        ]


@router.get("/v1/edi/documents/{document_id}", response_model=DocumentOut)
def get_document(document_id: str, principal: CurrentPrincipal, db: Db) -> DocumentOut:
    """One document exchanged with one of your partners."""
    with db.transaction(write=False) as session:
        document = service.get_document(session, principal, document_id)
        return DocumentOut.model_validate(document, from_attributes=True)


@router.post("/v1/edi/inventory-advice", response_model=list[DocumentOut], status_code=201)
def post_inventory_advice(
    body: InventoryAdviceIn, principal: CurrentPrincipal, db: Db
) -> list[DocumentOut]:
    """Send your partners (or one of them) an 846 of your stock at one facility now: on hand
    (QTY*17) and available (QTY*33) per SKU. The documents go to their outboxes."""
    with db.transaction() as session:
        documents = warehouse.advise_inventory(
            session, principal, body.facility_code, partner_id=body.partner_id
        )
        return [DocumentOut.model_validate(d, from_attributes=True) for d in documents]


@router.post(
    "/v1/edi/inbound",
    response_model=InboundResultOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES[:2]},
        }
    },
)
async def post_inbound(request: Request, principal: CurrentPrincipal, db: Db) -> InboundResultOut:
    """Post a raw X12 document from one of your partners (found by ISA05/ISA06): every set
    is applied or rejected on its own; the answer lists each and carries the 997 to send
    back. Resending the same control numbers applies nothing twice."""
    principal.require("operator")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise InvalidInput(
            f"send the X12 document as application/edi-x12 or text/plain, not {media or 'nothing'}",
            field="content-type",
            code="unsupported_media_type",
        )
    body = await request.body()
    if not body.strip():
        raise InvalidInput("the document is empty", field="body")
    if len(body) > MAX_BYTES:
        raise InvalidInput(
            f"the document is larger than {MAX_BYTES // 2**20} MiB; use the partner's inbox",
            field="body",
            code="document_too_large",
        )
    # The database work is synchronous: keep it off the event loop.
    return await run_in_threadpool(_receive, db, principal, body)


def _receive(db: Database, principal: Principal, body: bytes) -> InboundResultOut:
    qualifier, sender = sender_of(body)
    with db.transaction() as session:
        partner = service.partner_for_sender(session, principal, qualifier, sender)
        receipt = receive(session, partner, body, file_name=None)
        return InboundResultOut.model_validate(receipt.as_dict())


def sender_of(data: bytes) -> tuple[str, str]:
    """ISA05 and ISA06 of the first interchange (to find the partner before reading)."""
    start = data.find(b"ISA")
    if start < 0 or len(data) < start + 4:
        raise InvalidInput("the document has no ISA segment", field="body", code="no_interchange")
    separator = data[start + 3 : start + 4]
    parts = data[start : start + 300].split(separator)
    if len(parts) < 7:
        raise InvalidInput("the ISA segment is unreadable", field="body", code="no_interchange")
    qualifier = parts[5].decode("latin-1").strip()
    sender = parts[6].decode("latin-1").strip()
    return qualifier, sender
