"""SLA use cases: the worker's tick (clock engine and alerts), clocks and terms as each party
may see them, and the credits of a period for the billing meter. Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from midway import paging
from midway.agreements import service as agreements
from midway.core.sla_terms import sla_terms_to_list
from midway.db import utcnow
from midway.errors import InvalidInput
from midway.events.service import NewEvent, emit
from midway.principal import Principal
from midway.sla import engine
from midway.sla.models import SlaClock
from midway.sla.terms import TermsCache, version_terms

EVENT_BATCH = 1000
ALERT_BATCH = 500
CLOCK_STATUSES = ("running", "met", "breached", "void")
CLOCK_KINDS = (
    "on_time_ship",
    "dock_to_stock",
    "return_processing",
    "incident_response",
    "incident_resolution",
)


@dataclass(frozen=True)
class CreditLine:
    """One SLA credit (negative amount, owed to the merchant) or reward (positive) of a period,
    with the ids of the clocks, orders and events behind it."""

    code: str
    description: str
    amount: Decimal
    currency: str
    refs: list[str] = field(default_factory=list)


def tick(session: Session, now: datetime | None = None) -> int:
    """One round of the SLA worker: apply new events, then raise due at-risk and breach alerts.

    Returns how much it did (events read + alerts raised); 0 means idle.
    """
    at = now or utcnow()
    processed = engine.process_events(session, EVENT_BATCH)
    return processed + raise_alerts(session, at)


def raise_alerts(session: Session, now: datetime) -> int:
    """Emit ``sla.breached`` for running clocks past their deadline and ``sla.at_risk`` for those
    within their lead time; each alert is sent once per clock."""
    events: list[NewEvent] = []
    late = session.scalars(
        select(SlaClock)
        .where(
            SlaClock.stopped_at.is_(None),
            SlaClock.status == "running",
            SlaClock.deadline < now,
        )
        .order_by(SlaClock.deadline)
        .limit(ALERT_BATCH)
        .with_for_update(skip_locked=True)
    )
    for clock in late:
        clock.status = "breached"
        clock.breached_sent = True
        clock.at_risk_sent = True  # past the deadline, an at-risk warning would only confuse
        events.append(engine.clock_event(clock, "sla.breached"))
    risky = session.scalars(
        select(SlaClock)
        .where(
            SlaClock.stopped_at.is_(None),
            SlaClock.status == "running",
            SlaClock.at_risk_sent.is_(False),
            SlaClock.at_risk_at <= now,
            SlaClock.deadline >= now,
        )
        .order_by(SlaClock.deadline)
        .limit(ALERT_BATCH)
        .with_for_update(skip_locked=True)
    )
    for clock in risky:
        clock.at_risk_sent = True
        events.append(engine.clock_event(clock, "sla.at_risk"))
    if events:
        emit(session, events)
        session.flush()
    return len(events)


def list_clocks(
    session: Session,
    principal: Principal,
    *,
    agreement_id: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    subject_id: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> list[SlaClock]:
    """A page of the clocks the caller is a party to, newest deadline first; ``after`` is the
    last clock of the previous page."""
    if status is not None and status not in CLOCK_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(CLOCK_STATUSES)}", field="status")
    if kind is not None and kind not in CLOCK_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(CLOCK_KINDS)}", field="kind")
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", field="limit")
    party = (
        SlaClock.merchant_id == principal.party_id
        if principal.is_merchant
        else SlaClock.provider_id == principal.party_id
    )
    query = paging.page(
        session,
        select(SlaClock).where(party),
        (SlaClock.deadline, SlaClock.id),
        party,
        after=after,
        limit=limit,
        newest_first=True,
        what="a clock",
    )
    if agreement_id is not None:
        agreements.get(session, principal, agreement_id)
        query = query.where(SlaClock.agreement_id == agreement_id)
    if status is not None:
        query = query.where(SlaClock.status == status)
    if kind is not None:
        query = query.where(SlaClock.kind == kind)
    if subject_id is not None:
        query = query.where(or_(SlaClock.subject_id == subject_id, SlaClock.id == subject_id))
    return list(session.scalars(query))


def terms_of(
    session: Session, principal: Principal, agreement_id: str, version: int | None = None
) -> dict[str, Any]:
    """An agreement version's SLA terms resolved with defaults, each marked default or agreed."""
    agreement, _versions = agreements.get(session, principal, agreement_id)
    number = version or agreement.active_version or agreement.latest_version
    row = TermsCache(session).version(agreement_id, number)
    if row is None:
        raise InvalidInput(f"agreement {agreement_id} has no version {number}", field="version")
    terms = version_terms(row)
    listed = sla_terms_to_list(terms)
    for item, term in zip(listed, terms, strict=True):
        item["source"] = "default" if term.is_default else "agreement"
        item["accountable"] = (
            "incident owner"
            if term.accountable_process == "incident_owner"
            else TermsCache(session).accountable(agreement_id, term)
        )
    return {"agreement_id": agreement_id, "version": number, "terms": listed}


def period_credits(session: Session, agreement_id: str, period: str) -> list[CreditLine]:
    """SLA credits (negative) and rewards (positive) of an agreement for a month ``YYYY-MM``,
    for the billing meter. No principal: the caller has already checked access."""
    from midway.sla.scorecard import credit_lines

    return credit_lines(session, agreement_id, period)
