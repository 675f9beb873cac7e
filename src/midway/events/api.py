"""Routes: the event feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from midway.api_deps import CurrentPrincipal, Db
from midway.events import service
from midway.schemas import PROBLEM_RESPONSES

router = APIRouter(tags=["events"], responses=PROBLEM_RESPONSES)


class EventOut(BaseModel):
    """A state change."""

    id: str
    type: str
    subject_type: str
    subject_id: str
    actor_party_id: str | None
    data: dict[str, Any]
    created_at: datetime
    cursor: str


class EventPage(BaseModel):
    """A page of the feed; pass ``next_after`` as ``after`` to continue."""

    events: list[EventOut]
    next_after: str | None


@router.get("/v1/events", response_model=EventPage)
def events(
    principal: CurrentPrincipal,
    db: Db,
    after: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    type: list[str] | None = Query(None, description="filter; '*' is a wildcard"),
) -> EventPage:
    """Events the caller may see, oldest first, after a cursor."""
    with db.transaction(write=False) as session:
        rows, cursor = service.list_events(session, principal, after=after, limit=limit, types=type)
        return EventPage(
            events=[
                EventOut(
                    id=e.id,
                    type=e.type,
                    subject_type=e.subject_type,
                    subject_id=e.subject_id,
                    actor_party_id=e.actor_party_id,
                    data=e.data,
                    created_at=e.created_at,
                    cursor=service.cursor_of(e),
                )
                for e in rows
            ],
            next_after=cursor,
        )
