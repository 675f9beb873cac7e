"""Routes: tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from midway.api_deps import CurrentPrincipal, Db, choice, page_after
from midway.events.service import emit
from midway.schemas import PROBLEM_RESPONSES
from midway.tasks import service

router = APIRouter(tags=["tasks"], responses=PROBLEM_RESPONSES)


class TaskOut(BaseModel):
    """A unit of owned work."""

    id: str
    process: str
    owner: str
    owner_party_id: str
    status: str
    due_at: datetime | None
    fulfillment_order_id: str | None
    skus: list[str]
    decision: dict[str, Any]
    created_at: datetime
    completed_at: datetime | None
    completed_by: str | None


@router.get("/v1/tasks", response_model=list[TaskOut])
def list_tasks(
    principal: CurrentPrincipal,
    db: Db,
    mine: bool = False,
    status: str | None = choice(service.STATUSES, "the task's status"),
    fulfillment_order_id: str | None = None,
    after: str | None = page_after(),
    limit: int = Query(100, ge=1, le=1000),
) -> list[TaskOut]:
    """Tasks the caller may see, the soonest due first (those without a due time last);
    ``mine=true`` for the caller's own work. Pass the last id of a page as ``after`` for the
    next."""
    with db.transaction(write=False) as session:
        return [
            TaskOut.model_validate(t, from_attributes=True)
            for t in service.list_tasks(
                session,
                principal,
                mine=mine,
                status=status,
                fulfillment_order_id=fulfillment_order_id,
                limit=limit,
                after=after,
            )
        ]


@router.post("/v1/tasks/{task_id}/complete", response_model=TaskOut)
def complete(task_id: str, principal: CurrentPrincipal, db: Db) -> TaskOut:
    """The owner marks its task done."""
    with db.transaction() as session:
        task, event = service.complete(session, principal, task_id)
        emit(session, [event])
        return TaskOut.model_validate(task, from_attributes=True)
