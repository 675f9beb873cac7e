"""Writing events (in the caller's transaction) and reading the feed scoped to a principal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from midway.db import new_id, utcnow
from midway.errors import InvalidInput
from midway.events.models import Event
from midway.principal import Principal


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to write: who may see it (merchant, optional provider) and what happened."""

    type: str
    merchant_id: str
    subject_type: str
    subject_id: str
    data: dict[str, Any] = field(default_factory=dict)
    provider_id: str | None = None
    actor_party_id: str | None = None


def emit(session: Session, events: Iterable[NewEvent]) -> list[str]:
    """Write events in the caller's transaction (the outbox); return their ids."""
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "id": new_id("evt"),
            "type": e.type,
            "merchant_id": e.merchant_id,
            "provider_id": e.provider_id,
            "subject_type": e.subject_type,
            "subject_id": e.subject_id,
            "actor_party_id": e.actor_party_id,
            "data": e.data,
            "dispatched": False,
            "created_at": now,
        }
        for e in events
    ]
    if rows:
        session.execute(insert(Event), rows)
    return [r["id"] for r in rows]


def visible_to(principal: Principal) -> Any:
    """The SQL condition for events a principal may see."""
    if principal.is_merchant:
        return Event.merchant_id == principal.party_id
    return Event.provider_id == principal.party_id


def list_events(
    session: Session,
    principal: Principal,
    *,
    after: str | None,
    limit: int = 100,
    types: list[str] | None = None,
) -> tuple[list[Event], str | None]:
    """Events after a cursor, oldest first, scoped to the caller; returns (events, next cursor)."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", field="limit")
    query = select(Event).where(visible_to(principal)).order_by(Event.seq).limit(limit)
    if after:
        try:
            query = query.where(Event.seq > int(after))
        except ValueError:
            raise InvalidInput(
                f"after must be a cursor returned by this feed, not '{after}'", field="after"
            ) from None
    if types:
        query = query.where(or_(*(Event.type.like(t.replace("*", "%")) for t in types)))
    events = list(session.scalars(query))
    cursor = str(events[-1].seq) if events else after
    return events, cursor
