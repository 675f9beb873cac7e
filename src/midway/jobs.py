"""Periodic jobs the worker runs beside webhook delivery, each in its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from midway.edi import service as edi
from midway.idempotency import service as idempotency
from midway.settings import Settings
from midway.sla import service as sla


@dataclass(frozen=True)
class Job:
    """A unit of background work: ``run(session, now)`` returns how much it did."""

    name: str
    every: timedelta
    run: Callable[[Session, datetime], int]


def jobs(settings: Settings) -> list[Job]:
    """Every periodic job, in the order a round runs them."""
    ttl = timedelta(hours=settings.idempotency_ttl_hours)

    def prune_keys(session: Session, _now: datetime) -> int:
        return idempotency.prune(session, older_than=ttl)

    return [
        Job("edi inbox and outbox", timedelta(0), edi.tick),
        Job("sla clocks", timedelta(0), sla.tick),
        Job("prune idempotency keys", timedelta(minutes=10), prune_keys),
    ]
