"""Tasks: the owned work of each fulfillment order, produced by the responsibility matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from midway.core.matrix import FULFILLMENT_ORDER_PROCESSES, Context, Matrix, Resolver
from midway.db import new_id, utcnow
from midway.errors import InvalidInput, InvalidState, NotFound
from midway.events.service import NewEvent
from midway.principal import Principal
from midway.tasks.models import Task

STATUSES = ("open", "done", "cancelled")


@dataclass(frozen=True)
class LineFacts:
    """What the matrix needs to know about one line of a fulfillment order."""

    sku: str
    tags: frozenset[str]


@dataclass(frozen=True)
class WorkOrder:
    """A new fulfillment order seen from the task side."""

    fulfillment_order_id: str
    merchant_id: str
    provider_id: str | None
    channel: str
    country: str
    order_value: Decimal | None
    lines: Sequence[LineFacts]
    due_at: datetime


def planned(work: WorkOrder, matrix: Matrix) -> tuple[list[dict[str, Any]], list[NewEvent]]:
    """The task rows a new FO gets from the matrix (one per process and owner), and their
    events; nothing is written (intake writes them with the rest of the fulfillment order)."""
    rows: list[dict[str, Any]] = []
    now = utcnow()
    resolve = _resolver(matrix)
    for process in FULFILLMENT_ORDER_PROCESSES:
        by_owner: dict[str, tuple[list[str], dict[str, object]]] = {}
        for line in work.lines:
            decision = resolve(
                process,
                Context(
                    sku=line.sku,
                    sku_tags=line.tags,
                    channel=work.channel,
                    country=work.country,
                    order_value=work.order_value,
                ),
            )
            if decision.owner is None:
                continue
            skus, _ = by_owner.setdefault(decision.owner, ([], decision.as_dict()))
            skus.append(line.sku)
        for owner, (skus, decision_dict) in by_owner.items():
            party = work.provider_id if owner == "provider" else work.merchant_id
            if party is None:  # a merchant-run facility has no provider to own work
                owner, party = "merchant", work.merchant_id
            rows.append(
                {
                    "id": new_id("tsk"),
                    "merchant_id": work.merchant_id,
                    "provider_id": work.provider_id,
                    "fulfillment_order_id": work.fulfillment_order_id,
                    "process": process,
                    "owner": owner,
                    "owner_party_id": party,
                    "status": "open",
                    "due_at": work.due_at,
                    "decision": decision_dict,
                    "skus": sorted(set(skus)),
                    "created_at": now,
                    "completed_at": None,
                    "completed_by": None,
                }
            )
    return rows, [
        NewEvent(
            type="task.created",
            merchant_id=work.merchant_id,
            provider_id=work.provider_id,
            subject_type="task",
            subject_id=r["id"],
            data={
                "task_id": r["id"],
                "process": r["process"],
                "owner": r["owner"],
                "fulfillment_order_id": work.fulfillment_order_id,
                "due_at": work.due_at.isoformat(),
            },
        )
        for r in rows
    ]


# One resolver per matrix in use (matrices are immutable; each resolver holds its matrix, so an
# id is never reused while it is a key here).
_resolvers: dict[int, Resolver] = {}


def _resolver(matrix: Matrix) -> Resolver:
    resolver = _resolvers.get(id(matrix))
    if resolver is None or resolver.matrix is not matrix:
        if len(_resolvers) >= 1_000:
            _resolvers.clear()
        resolver = _resolvers[id(matrix)] = Resolver(matrix)
    return resolver


def close_open(session: Session, fulfillment_order_id: str, *, status: str, actor: str) -> int:
    """Close the FO's open tasks (done when it shipped, cancelled when it was given back).

    Only the acting party's own tasks are credited to it; the other party's open tasks are
    closed with no ``completed_by``: the work is over, but nobody said who did it.
    """
    now = utcnow()
    total = 0
    for mine in (True, False):
        owner = Task.owner_party_id == actor if mine else Task.owner_party_id != actor
        done = session.execute(
            update(Task)
            .where(Task.fulfillment_order_id == fulfillment_order_id, Task.status == "open", owner)
            .values(status=status, completed_at=now, completed_by=actor if mine else None)
            .execution_options(synchronize_session=False)
        )
        total += int(done.rowcount)  # type: ignore[attr-defined]
    return total


def _visible(principal: Principal) -> object:
    if principal.is_merchant:
        return Task.merchant_id == principal.party_id
    return Task.provider_id == principal.party_id


def list_tasks(
    session: Session,
    principal: Principal,
    *,
    mine: bool,
    status: str | None,
    fulfillment_order_id: str | None,
    limit: int = 100,
    after: str | None = None,
) -> list[Task]:
    """A page of the tasks the caller may see (its own when ``mine``), the soonest due first
    and those without a due time last; ``after`` is the last task of the previous page."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    undated = Task.due_at.is_(None)
    query = (
        select(Task)
        .where(_visible(principal))  # type: ignore[arg-type]
        .order_by(undated, Task.due_at, Task.id)
        .limit(limit)
    )
    if after:
        anchor = session.scalar(select(Task).where(Task.id == after, _visible(principal)))  # type: ignore[arg-type]
        if anchor is None:
            raise InvalidInput("after must be the id of a task you can see", field="after")
        if anchor.due_at is None:
            query = query.where(undated, Task.id > anchor.id)
        else:
            query = query.where(
                undated
                | (Task.due_at > anchor.due_at)
                | ((Task.due_at == anchor.due_at) & (Task.id > anchor.id))
            )
    if mine:
        query = query.where(Task.owner_party_id == principal.party_id)
    if status:
        query = query.where(Task.status == status)
    if fulfillment_order_id:
        query = query.where(Task.fulfillment_order_id == fulfillment_order_id)
    return list(session.scalars(query))


def complete(session: Session, principal: Principal, task_id: str) -> tuple[Task, NewEvent]:
    """The owner marks its task done."""
    principal.require("operator")
    task = session.scalar(select(Task).where(Task.id == task_id, _visible(principal)))  # type: ignore[arg-type]
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.owner_party_id != principal.party_id:
        raise InvalidState(
            f"this task is owned by the {task.owner}; only its owner completes it",
            code="not_task_owner",
        )
    if task.status != "open":
        raise InvalidState(
            f"task is already {task.status}", code="task_not_open", state={"status": task.status}
        )
    task.status = "done"
    task.completed_at = utcnow()
    task.completed_by = principal.party_id
    session.flush()
    return task, NewEvent(
        type="task.completed",
        merchant_id=task.merchant_id,
        provider_id=task.provider_id,
        subject_type="task",
        subject_id=task.id,
        actor_party_id=principal.party_id,
        data={
            "task_id": task.id,
            "process": task.process,
            "fulfillment_order_id": task.fulfillment_order_id,
        },
    )
