"""Use cases for webhooks: endpoints, fan-out of the outbox, claiming and recording attempts.

Never commits: the caller owns the transaction. The HTTP call itself lives in
:mod:`midway.webhooks.delivery` and runs outside any transaction; this module only decides what
is due (:func:`claim_due`) and what an attempt's outcome means (:func:`record_result`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, false, func, insert, select, true, update
from sqlalchemy.orm import Session

from midway import paging
from midway.db import new_id, utcnow
from midway.errors import InvalidInput, InvalidState, NotFound
from midway.events.models import Event
from midway.events.service import NewEvent, emit
from midway.parties.models import Party
from midway.principal import Principal
from midway.webhooks.models import WebhookDelivery, WebhookEndpoint
from midway.webhooks.signing import generate_secret

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
STATUSES = (PENDING, DELIVERED, DEAD)
DELIVERY_DEAD = "webhook.delivery_dead"
ENDPOINT_DISABLED = "webhook.endpoint_disabled"
MAX_ENDPOINTS_PER_PARTY = 20
MAX_EVENT_TYPES = 50
MAX_URL_LENGTH = 2000
_EVENT_TYPE = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long a failing delivery is retried before it goes to the dead letter."""

    max_attempts: int = 8
    base_seconds: float = 5.0
    max_seconds: float = 6 * 3600.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), full jitter.

        The ceiling doubles each attempt (base * 2^(attempt-1), capped at ``max_seconds``) and
        the wait is drawn uniformly below it, so a burst of failures against one receiver
        spreads out instead of retrying in lockstep.
        """
        exponent = min(max(attempt - 1, 0), 62)
        ceiling = min(self.max_seconds, self.base_seconds * 2.0**exponent)
        return (rng or random).uniform(0.0, ceiling)


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery leased to one worker: everything needed to send it without the database."""

    delivery_id: str
    endpoint_id: str
    url: str
    secret: str
    event_id: str
    event_type: str
    event_created_at: datetime
    data: dict[str, Any]
    attempts: int
    lease_until: datetime


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one HTTP attempt produced: a status code, or an error when there was no response."""

    status_code: int | None = None
    error: str | None = None
    retry_after_seconds: float | None = None

    @property
    def ok(self) -> bool:
        """True for a 2xx answer (3xx and everything else count as failures)."""
        return self.status_code is not None and 200 <= self.status_code < 300


# --- endpoints -----------------------------------------------------------------------------


def _check_url(url: str) -> str:
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"url must be at most {MAX_URL_LENGTH} characters", field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise InvalidInput(f"url '{url}' is not a valid URL", field="url") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput("url must start with http:// or https://", field="url")
    if not parts.hostname:
        raise InvalidInput("url must name a host", field="url")
    if parts.fragment:
        raise InvalidInput("url must not have a #fragment", field="url")
    return url


def _check_event_types(event_types: Sequence[str]) -> list[str]:
    if isinstance(event_types, str) or not event_types:
        raise InvalidInput(
            "event_types must be a non-empty list such as ['fulfillment_order.*']",
            field="event_types",
        )
    if len(event_types) > MAX_EVENT_TYPES:
        raise InvalidInput(f"at most {MAX_EVENT_TYPES} event types", field="event_types")
    cleaned: list[str] = []
    for i, raw in enumerate(event_types):
        value = raw.strip() if isinstance(raw, str) else ""
        if not _EVENT_TYPE.match(value):
            raise InvalidInput(
                f"'{raw}' is not an event type: use an exact type such as 'task.created', "
                "a prefix pattern such as 'fulfillment_order.*', or '*'",
                field=f"event_types.{i}",
            )
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def type_matches(patterns: Sequence[str], event_type: str) -> bool:
    """True when ``event_type`` matches one of the endpoint's types or ``prefix.*`` patterns."""
    for pattern in patterns:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def create_endpoint(
    session: Session, principal: Principal, url: str, event_types: Sequence[str]
) -> tuple[WebhookEndpoint, str]:
    """Register a URL for the caller's events; returns the endpoint and its secret (shown once)."""
    principal.require("admin")
    clean_url = _check_url(url)
    types = _check_event_types(event_types)
    count = session.scalar(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.party_id == principal.party_id)
    )
    if (count or 0) >= MAX_ENDPOINTS_PER_PARTY:
        raise InvalidInput(
            f"a party may have at most {MAX_ENDPOINTS_PER_PARTY} webhook endpoints",
            code="too_many_endpoints",
        )
    secret = generate_secret()
    endpoint = WebhookEndpoint(
        id=new_id("whe"),
        party_id=principal.party_id,
        url=clean_url,
        event_types=types,
        secret=secret,
        enabled=True,
        disabled_reason=None,
        created_at=utcnow(),
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def list_endpoints(session: Session, principal: Principal) -> list[WebhookEndpoint]:
    """The caller's endpoints, oldest first."""
    query = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.party_id == principal.party_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return list(session.scalars(query))


def get_endpoint(
    session: Session, principal: Principal, endpoint_id: str, *, for_update: bool = False
) -> WebhookEndpoint:
    """One of the caller's endpoints; another party's endpoint is NotFound."""
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.party_id == principal.party_id
    )
    if for_update:
        query = query.with_for_update()
    endpoint = session.scalar(query)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def update_endpoint(
    session: Session,
    principal: Principal,
    endpoint_id: str,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint's URL, event types or enabled flag (only the arguments given)."""
    principal.require("admin")
    endpoint = get_endpoint(session, principal, endpoint_id, for_update=True)
    if url is not None:
        endpoint.url = _check_url(url)
    if event_types is not None:
        endpoint.event_types = _check_event_types(event_types)
    if enabled is True:
        endpoint.enabled, endpoint.disabled_reason = True, None
    elif enabled is False and endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason = False, "disabled by its owner"
    session.flush()
    return endpoint


def disable_endpoint(session: Session, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    """Stop sending to an endpoint; pending deliveries wait until it is enabled again."""
    return update_endpoint(session, principal, endpoint_id, enabled=False)


def enable_endpoint(session: Session, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    """Resume sending to an endpoint."""
    return update_endpoint(session, principal, endpoint_id, enabled=True)


def delete_endpoint(session: Session, principal: Principal, endpoint_id: str) -> None:
    """Remove an endpoint and its delivery history."""
    principal.require("admin")
    endpoint = get_endpoint(session, principal, endpoint_id, for_update=True)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    session.delete(endpoint)
    session.flush()


def rotate_secret(session: Session, principal: Principal, endpoint_id: str) -> tuple[str, str]:
    """Give an endpoint a new secret at once; returns (endpoint id, new secret) to show once."""
    principal.require("admin")
    endpoint = get_endpoint(session, principal, endpoint_id, for_update=True)
    endpoint.secret = generate_secret()
    session.flush()
    return endpoint.id, endpoint.secret


# --- deliveries ----------------------------------------------------------------------------


def list_deliveries(
    session: Session,
    principal: Principal,
    endpoint_id: str,
    status: str | None = None,
    *,
    limit: int = 100,
    after: str | None = None,
) -> list[WebhookDelivery]:
    """A page of the deliveries to one of the caller's endpoints, newest first, optionally of
    one status; ``after`` is the last delivery of the previous page."""
    endpoint = get_endpoint(session, principal, endpoint_id)
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", field="limit")
    mine = WebhookDelivery.endpoint_id == endpoint.id
    query = paging.page(
        session,
        select(WebhookDelivery).where(mine),
        (WebhookDelivery.created_at, WebhookDelivery.id),
        mine,
        after=after,
        limit=limit,
        newest_first=True,
        what="a delivery",
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return list(session.scalars(query))


def get_delivery(session: Session, principal: Principal, delivery_id: str) -> WebhookDelivery:
    """One delivery to one of the caller's endpoints; another party's is NotFound."""
    delivery = session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.party_id == principal.party_id
        )
    )
    if delivery is None:
        raise NotFound(f"no webhook delivery {delivery_id}")
    return delivery


def redeliver(
    session: Session, principal: Principal, delivery_id: str, *, now: datetime | None = None
) -> WebhookDelivery:
    """Manual redelivery: a dead or delivered delivery becomes pending and due now.

    The retry budget starts again (attempts back to 0) so a receiver that was fixed gets the
    full schedule; ``webhook-id`` stays the event id, so a receiver that already processed it
    can recognise the duplicate.
    """
    principal.require("operator")
    delivery = session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.party_id == principal.party_id)
        .with_for_update()
    )
    if delivery is None:
        raise NotFound(f"no webhook delivery {delivery_id}")
    if delivery.status == PENDING:
        raise InvalidState(
            "this delivery is already pending; it is sent at next_attempt_at",
            code="delivery_pending",
            state={"status": delivery.status},
        )
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        raise InvalidState(
            "the endpoint is disabled; enable it before redelivering",
            code="endpoint_disabled",
            state={"status": delivery.status},
        )
    delivery.status = PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now or utcnow()
    session.flush()
    return delivery


# --- the worker's side -----------------------------------------------------------------------


def dispatch(session: Session, limit: int = 100) -> int:
    """Fan out undispatched events into pending deliveries; returns how many events it took.

    Events are claimed oldest first with ``FOR UPDATE SKIP LOCKED`` so several workers split
    the backlog; deliveries and the ``dispatched`` flag are written in the caller's transaction,
    so an event is fanned out exactly once or not at all.
    """
    events = list(
        session.scalars(
            select(Event)
            .where(Event.dispatched == false())
            .order_by(Event.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not events:
        return 0
    parties = {e.merchant_id for e in events} | {e.provider_id for e in events if e.provider_id}
    endpoints = list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.enabled == true(), WebhookEndpoint.party_id.in_(parties))
            .order_by(WebhookEndpoint.id)
            # FOR SHARE: an endpoint cannot be deleted under deliveries being created for it.
            .with_for_update(read=True)
        )
    )
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for event in events:
        audience = {event.merchant_id, event.provider_id}
        for endpoint in endpoints:
            if endpoint.party_id in audience and type_matches(endpoint.event_types, event.type):
                rows.append(
                    {
                        "id": new_id("whd"),
                        "endpoint_id": endpoint.id,
                        "party_id": endpoint.party_id,
                        "event_id": event.id,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "last_attempt_at": None,
                        "last_status_code": None,
                        "last_error": None,
                        "created_at": now,
                    }
                )
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    session.execute(
        update(Event).where(Event.seq.in_([e.seq for e in events])).values(dispatched=True)
    )
    return len(events)


def claim_due(
    session: Session, limit: int, now: datetime, *, lease: timedelta = timedelta(minutes=5)
) -> list[Claim]:
    """Lease up to ``limit`` due deliveries to the calling worker.

    Rows are locked with ``SKIP LOCKED`` and their ``next_attempt_at`` is pushed to
    ``now + lease``, so once this transaction commits no other worker sees them as due. If the
    worker dies mid-send, the lease runs out and the delivery is tried again (at-least-once).
    ``lease`` must outlast sending the whole batch.
    """
    deliveries = list(
        session.scalars(
            select(WebhookDelivery)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.enabled == true(),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
    )
    if not deliveries:
        return []
    endpoints = {
        e.id: e
        for e in session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.id.in_({d.endpoint_id for d in deliveries})
            )
        )
    }
    events = {
        e.id: e
        for e in session.scalars(
            select(Event).where(Event.id.in_({d.event_id for d in deliveries}))
        )
    }
    lease_until = now + lease
    claims: list[Claim] = []
    for delivery in deliveries:
        endpoint, event = endpoints[delivery.endpoint_id], events.get(delivery.event_id)
        if event is None:
            # The event row is gone (pruned); nothing can be sent, so park it as dead.
            delivery.status, delivery.next_attempt_at = DEAD, None
            delivery.last_error = "the event no longer exists"
            continue
        delivery.next_attempt_at = lease_until
        claims.append(
            Claim(
                delivery_id=delivery.id,
                endpoint_id=endpoint.id,
                url=endpoint.url,
                secret=endpoint.secret,
                event_id=event.id,
                event_type=event.type,
                event_created_at=event.created_at,
                data=event.data,
                attempts=delivery.attempts,
                lease_until=lease_until,
            )
        )
    session.flush()
    return claims


def release(session: Session, claims: Sequence[Claim], now: datetime | None = None) -> int:
    """Hand leased deliveries back unsent (a worker stopping), due at once; returns how many."""
    released = 0
    for claim in claims:
        done = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == claim.delivery_id,
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at == claim.lease_until,
            )
            .values(next_attempt_at=now or utcnow())
        )
        released += done.rowcount  # type: ignore[attr-defined]
    return released


def record_result(
    session: Session,
    claim: Claim,
    result: AttemptResult,
    policy: RetryPolicy,
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> str | None:
    """Write the outcome of one attempt; returns the delivery's new status.

    Returns None (and writes nothing) when the lease was lost meanwhile: the delivery was
    redelivered, re-leased by another worker after the lease ran out, or deleted.
    """
    now = now or utcnow()
    delivery = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == claim.delivery_id).with_for_update()
    )
    if (
        delivery is None
        or delivery.status != PENDING
        or delivery.next_attempt_at != claim.lease_until
    ):
        return None
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = result.status_code
    delivery.last_error = None if result.ok else (result.error or f"HTTP {result.status_code}")
    if result.ok:
        delivery.status, delivery.next_attempt_at = DELIVERED, None
    elif result.status_code == 410:
        _disable_gone(session, delivery)
        _dead(session, delivery)
    elif delivery.attempts >= policy.max_attempts:
        _dead(session, delivery)
    else:
        delay = policy.backoff(delivery.attempts, rng)
        if result.retry_after_seconds is not None and result.status_code in (429, 503):
            # The receiver said when it can take more; wait at least that, within the cap.
            delay = max(delay, min(result.retry_after_seconds, policy.max_seconds))
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    session.flush()
    return delivery.status


def _owner_event(session: Session, party_id: str, event_type: str, data: dict[str, Any]) -> None:
    # Events are visible to merchant_id (for merchants) and provider_id (for providers); naming
    # the owner in both keeps a provider's endpoint trouble out of its merchants' feeds.
    kind = session.scalar(select(Party.kind).where(Party.id == party_id))
    emit(
        session,
        [
            NewEvent(
                type=event_type,
                merchant_id=party_id,
                provider_id=party_id if kind == "provider" else None,
                subject_type="webhook_endpoint",
                subject_id=str(data["endpoint_id"]),
                data=data,
            )
        ],
    )


def _dead(session: Session, delivery: WebhookDelivery) -> None:
    delivery.status, delivery.next_attempt_at = DEAD, None
    event_type = session.scalar(select(Event.type).where(Event.id == delivery.event_id))
    if event_type is not None and event_type.startswith("webhook."):
        # A dead notice about a dead notice would chase a broken endpoint forever.
        return
    _owner_event(
        session,
        delivery.party_id,
        DELIVERY_DEAD,
        {
            "delivery_id": delivery.id,
            "endpoint_id": delivery.endpoint_id,
            "event_id": delivery.event_id,
            "event_type": event_type,
            "attempts": delivery.attempts,
            "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error,
        },
    )


def _disable_gone(session: Session, delivery: WebhookDelivery) -> None:
    endpoint = session.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.id == delivery.endpoint_id).with_for_update()
    )
    if endpoint is None or not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = "the endpoint answered 410 Gone"
    _owner_event(
        session,
        endpoint.party_id,
        ENDPOINT_DISABLED,
        {"endpoint_id": endpoint.id, "url": endpoint.url, "reason": endpoint.disabled_reason},
    )
