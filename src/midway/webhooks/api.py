"""Routes: webhook endpoints (register, change, rotate the secret) and their deliveries."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, StrictBool

from midway.api_deps import CurrentPrincipal, Db, choice, page_after
from midway.schemas import PROBLEM_RESPONSES, StrictModel
from midway.webhooks import service
from midway.webhooks.models import WebhookDelivery, WebhookEndpoint

router = APIRouter(tags=["webhooks"], responses=PROBLEM_RESPONSES)

_TYPES_HELP = "exact types ('task.created'), prefix patterns ('fulfillment_order.*') or '*'"


class EndpointIn(StrictModel):
    """A URL to receive the caller's events."""

    url: str = Field(description="http:// or https:// URL that accepts POST")
    event_types: list[str] = Field(description=_TYPES_HELP)


class EndpointPatch(StrictModel):
    """Fields to change; omitted fields stay as they are."""

    url: str | None = None
    event_types: list[str] | None = Field(None, description=_TYPES_HELP)
    enabled: StrictBool | None = None


class EndpointOut(BaseModel):
    """A webhook endpoint (its secret is shown only when created or rotated)."""

    id: str
    url: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    created_at: datetime


class EndpointCreated(EndpointOut):
    """A new endpoint with its signing secret: store it now, it is not shown again."""

    secret: str


class SecretOut(BaseModel):
    """A new signing secret: store it now, it is not shown again."""

    id: str
    secret: str


class DeliveryOut(BaseModel):
    """One event's delivery to one endpoint."""

    id: str
    endpoint_id: str
    event_id: str
    status: str = Field(description="pending | delivered | dead")
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime


def _endpoint(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut.model_validate(endpoint, from_attributes=True)


def _delivery(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut.model_validate(delivery, from_attributes=True)


@router.post("/v1/webhook-endpoints", response_model=EndpointCreated, status_code=201)
def create_endpoint(body: EndpointIn, principal: CurrentPrincipal, db: Db) -> EndpointCreated:
    """Register an endpoint (admin); the response carries the secret, shown this once."""
    with db.transaction() as session:
        endpoint, secret = service.create_endpoint(session, principal, body.url, body.event_types)
        return EndpointCreated(**_endpoint(endpoint).model_dump(), secret=secret)


@router.get("/v1/webhook-endpoints", response_model=list[EndpointOut])
def list_endpoints(principal: CurrentPrincipal, db: Db) -> list[EndpointOut]:
    """The caller's endpoints."""
    with db.transaction(write=False) as session:
        return [_endpoint(e) for e in service.list_endpoints(session, principal)]


@router.get("/v1/webhook-endpoints/{endpoint_id}", response_model=EndpointOut)
def get_endpoint(endpoint_id: str, principal: CurrentPrincipal, db: Db) -> EndpointOut:
    """One of the caller's endpoints."""
    with db.transaction(write=False) as session:
        return _endpoint(service.get_endpoint(session, principal, endpoint_id))


@router.patch("/v1/webhook-endpoints/{endpoint_id}", response_model=EndpointOut)
def update_endpoint(
    endpoint_id: str, body: EndpointPatch, principal: CurrentPrincipal, db: Db
) -> EndpointOut:
    """Change the URL or event types, or disable / re-enable the endpoint (admin)."""
    with db.transaction() as session:
        endpoint = service.update_endpoint(
            session,
            principal,
            endpoint_id,
            url=body.url,
            event_types=body.event_types,
            enabled=body.enabled,
        )
        return _endpoint(endpoint)


@router.delete("/v1/webhook-endpoints/{endpoint_id}", status_code=204)
def delete_endpoint(endpoint_id: str, principal: CurrentPrincipal, db: Db) -> Response:
    """Delete an endpoint and its delivery history (admin)."""
    with db.transaction() as session:
        service.delete_endpoint(session, principal, endpoint_id)
    return Response(status_code=204)


@router.post("/v1/webhook-endpoints/{endpoint_id}/rotate-secret", response_model=SecretOut)
def rotate_secret(endpoint_id: str, principal: CurrentPrincipal, db: Db) -> SecretOut:
    """Replace the signing secret at once (admin); the new one is shown this once."""
    with db.transaction() as session:
        endpoint_id, secret = service.rotate_secret(session, principal, endpoint_id)
    return SecretOut(id=endpoint_id, secret=secret)


@router.get("/v1/webhook-endpoints/{endpoint_id}/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    endpoint_id: str,
    principal: CurrentPrincipal,
    db: Db,
    status: str | None = choice(service.STATUSES, "where the delivery stands"),
    after: str | None = page_after(),
    limit: int = Query(100, ge=1, le=1000),
) -> list[DeliveryOut]:
    """Deliveries to one of the caller's endpoints, newest first."""
    with db.transaction(write=False) as session:
        rows = service.list_deliveries(
            session, principal, endpoint_id, status, limit=limit, after=after
        )
        return [_delivery(d) for d in rows]


@router.post("/v1/webhook-deliveries/{delivery_id}/redeliver", response_model=DeliveryOut)
def redeliver(delivery_id: str, principal: CurrentPrincipal, db: Db) -> DeliveryOut:
    """Send a dead or delivered delivery again, now, with a fresh retry budget (operator)."""
    with db.transaction() as session:
        return _delivery(service.redeliver(session, principal, delivery_id))
