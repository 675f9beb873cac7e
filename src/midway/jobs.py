"""Periodic jobs the worker runs beside webhook delivery, each in its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from midway.edi import service as edi
from midway.edi import warehouse
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

    advice = timedelta(hours=settings.edi_inventory_advice_hours)

    def inventory_advice(session: Session, now: datetime) -> int:
        return warehouse.periodic_inventory(session, now, advice)

    found = [
        Job("edi inbox and outbox", timedelta(0), edi.tick),
        Job("sla clocks", timedelta(0), sla.tick),
        Job("prune idempotency keys", timedelta(minutes=10), prune_keys),
    ]
    if advice > timedelta(0):
        # Checked every few minutes; what is due is decided from the documents already sent,
        # so a restarted worker (or a second one) does not send them again.
        every = min(advice, timedelta(minutes=5))
        found.append(Job("edi inventory advice", every, inventory_advice))
    return found
