"""Writing events (in the caller's transaction) and reading the feed scoped to a principal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, text, tuple_
from sqlalchemy.orm import Session

from midway.db import is_postgres, new_id, utcnow
from midway.errors import InvalidInput
from midway.events.models import Event
from midway.inserts import insert_rows
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
    rows = event_rows(events)
    if rows:
        insert_rows(session, Event, rows)
    return [r["id"] for r in rows]


def event_rows(events: Iterable[NewEvent]) -> list[dict[str, Any]]:
    """The rows :func:`emit` writes for ``events``, in order."""
    now = utcnow()
    return [
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
    """Events after a cursor, oldest first, scoped to the caller; returns (events, next cursor).

    On PostgreSQL, sequence numbers are handed out before commit, so a later number can become
    visible before an earlier one. The feed therefore orders by (writing transaction, sequence)
    and shows only events of transactions older than every write transaction still running in
    this database: a cursor never moves past an event that could still appear.
    """
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", field="limit")
    position = _parse_cursor(after)
    query = select(Event).where(visible_to(principal)).limit(limit)
    if is_postgres(session):
        query = query.where(Event.tx_id < postgres_horizon(session)).order_by(
            Event.tx_id, Event.seq
        )
        if position is not None:
            query = query.where(tuple_(Event.tx_id, Event.seq) > tuple_(*position))
    else:
        query = query.order_by(Event.seq)
        if position is not None:
            query = query.where(Event.seq > position[1])
    if types:
        query = query.where(or_(*(Event.type.like(t.replace("*", "%")) for t in types)))
    events = list(session.scalars(query))
    cursor = cursor_of(events[-1]) if events else after
    return events, cursor


_EPOCH = 1 << 32


def postgres_horizon(session: Session) -> int:
    """The oldest transaction id still writing in this database (or the snapshot's xmax).

    Events of transactions below it are committed or gone for good. Only this database counts
    (``pg_stat_activity``), so long transactions of other databases on the same server do not
    hold the feed back. ``backend_xid`` is 32 bits; it is widened with the epoch of xmax.
    """
    xmax = int(
        session.execute(
            text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        ).scalar_one()
    )
    session.execute(text("SELECT pg_stat_clear_snapshot()"))
    running = session.scalars(
        text(
            "SELECT backend_xid::text::bigint FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_xid IS NOT NULL"
            " AND pid <> pg_backend_pid()"
        )
    ).all()
    horizon = xmax
    for short in running:
        full = (xmax - xmax % _EPOCH) + int(short)
        if full >= xmax:
            full -= _EPOCH
        horizon = min(horizon, full)
    return horizon


def cursor_of(event: Event) -> str:
    """The feed cursor that points just after ``event``."""
    return f"{event.tx_id or 0}.{event.seq}"


def _parse_cursor(after: str | None) -> tuple[int, int] | None:
    if not after:
        return None
    tx, _, seq = after.partition(".")
    try:
        return int(tx), int(seq)
    except ValueError:
        raise InvalidInput(
            f"after must be a cursor returned by this feed, not '{after}'", field="after"
        ) from None
