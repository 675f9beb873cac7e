"""Incidents: an exception is opened by either party; the matrix names its owner (and who pays);
both write in one thread; the owner's first message is the response, then the owner resolves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from midway import paging
from midway.agreements import service as agreements
from midway.core.matrix import EXCEPTION_KINDS, Context, Decision, resolve
from midway.core.templates import template
from midway.db import new_id, utcnow
from midway.errors import InvalidInput, InvalidState, NotFound
from midway.events.service import NewEvent, emit
from midway.fulfillment import service as fulfillment
from midway.incidents.models import Incident, IncidentMessage
from midway.orders.models import Order
from midway.principal import Principal

# Kinds reported on their own but owned through a matrix process: "wrong_item" like a mis-pick;
# "damaged_outbound" (the order arrived damaged because of how it was packed: not transit
# damage, which the carrier answers for) by whoever owns packing.
KINDS = (*EXCEPTION_KINDS, "wrong_item", "damaged_outbound")
_PROCESS = {"wrong_item": "mis_pick", "damaged_outbound": "packing"}


def open_incident(
    session: Session,
    principal: Principal,
    *,
    kind: str,
    summary: str,
    fulfillment_order_id: str | None = None,
    agreement_id: str | None = None,
) -> Incident:
    """Open an incident on a fulfillment order, or on an agreement when there is none."""
    principal.require("operator")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if not summary.strip():
        raise InvalidInput("say what happened (summary)", field="summary")
    if fulfillment_order_id is None and agreement_id is None:
        raise InvalidInput(
            "name the fulfillment_order_id or the agreement_id", field="fulfillment_order_id"
        )
    merchant_id: str
    provider_id: str | None
    facility_id: str | None = None
    ctx = Context()
    if fulfillment_order_id is not None:
        fo = fulfillment.get(session, principal, fulfillment_order_id)
        merchant_id, provider_id, facility_id = fo.merchant_id, fo.provider_id, fo.facility_id
        agreement_id = fo.agreement_id
        order = session.get(Order, fo.order_id)
        if order is not None:
            ctx = Context(
                channel=order.channel,
                country=order.ship_to.get("country"),
                order_value=order.order_value,
            )
    else:
        assert agreement_id is not None
        agreement, _ = agreements.get(session, principal, agreement_id)
        merchant_id, provider_id = agreement.merchant_id, agreement.provider_id
    decision = _decide(session, merchant_id, agreement_id, kind, ctx)
    owner = decision.owner or "merchant"
    owner_party = provider_id if owner == "provider" and provider_id else merchant_id
    now = utcnow()
    incident = Incident(
        id=new_id("inc"),
        merchant_id=merchant_id,
        provider_id=provider_id,
        agreement_id=agreement_id,
        facility_id=facility_id,
        fulfillment_order_id=fulfillment_order_id,
        kind=kind,
        summary=summary.strip(),
        owner=owner,
        owner_party_id=owner_party,
        cost_bearer=decision.cost_bearer or owner,
        decision=decision.as_dict(),
        status="open",
        confirmed=False,
        opened_by=principal.party_id,
        opened_at=now,
        first_response_at=None,
        resolved_at=None,
        resolution=None,
    )
    session.add(incident)
    session.flush()
    _event(
        session,
        incident,
        "incident.opened",
        principal,
        {
            "kind": kind,
            "owner": owner,
            "owner_party_id": owner_party,
            "cost_bearer": incident.cost_bearer,
            "opened_at": now.isoformat(),
            "reason": decision.reason,
        },
    )
    return incident


def _decide(
    session: Session, merchant_id: str, agreement_id: str | None, kind: str, ctx: Context
) -> Decision:
    matrix = template("in_house")
    if agreement_id is not None:
        for terms in agreements.active_terms(session, merchant_id):
            if terms.agreement_id == agreement_id:
                matrix = terms.matrix
    return resolve(matrix, _PROCESS.get(kind, kind), ctx)


def _visible(principal: Principal) -> Any:
    return or_(
        Incident.merchant_id == principal.party_id, Incident.provider_id == principal.party_id
    )


def get(
    session: Session, principal: Principal, incident_id: str, *, lock: bool = False
) -> Incident:
    """An incident the caller is a party to."""
    query = select(Incident).where(Incident.id == incident_id, _visible(principal))
    if lock:
        query = query.with_for_update()
    incident = session.scalar(query)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident


def list_incidents(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    mine: bool,
    limit: int,
    after: str | None = None,
) -> list[Incident]:
    """A page of the incidents the caller is a party to (``mine``: those it owns), newest
    first; ``after`` is the last incident of the previous page."""
    visible = _visible(principal)
    query = paging.page(
        session,
        select(Incident).where(visible),
        (Incident.opened_at, Incident.id),
        visible,
        after=after,
        limit=limit,
        newest_first=True,
        what="an incident",
    )
    if status:
        query = query.where(Incident.status == status)
    if mine:
        query = query.where(Incident.owner_party_id == principal.party_id)
    return list(session.scalars(query))


def messages(session: Session, incident_id: str) -> list[IncidentMessage]:
    """The thread, oldest first."""
    return list(
        session.scalars(
            select(IncidentMessage)
            .where(IncidentMessage.incident_id == incident_id)
            .order_by(IncidentMessage.created_at, IncidentMessage.id)
        )
    )


def post_message(
    session: Session, principal: Principal, incident_id: str, body: str
) -> IncidentMessage:
    """Write in the thread; the owner's first message is its first response."""
    principal.require("operator")
    incident = get(session, principal, incident_id, lock=True)
    if not body.strip():
        raise InvalidInput("the message is empty", field="body")
    if incident.status == "resolved":
        raise InvalidState(
            "the incident is resolved", code="incident_resolved", state={"status": incident.status}
        )
    now = utcnow()
    message = IncidentMessage(
        id=new_id("msg"),
        incident_id=incident.id,
        merchant_id=incident.merchant_id,
        author_party_id=principal.party_id,
        body=body.strip(),
        created_at=now,
    )
    session.add(message)
    if principal.party_id == incident.owner_party_id and incident.first_response_at is None:
        incident.first_response_at = now
        incident.status = "responded"
        session.flush()
        _event(
            session, incident, "incident.responded", principal, {"responded_at": now.isoformat()}
        )
    session.flush()
    return message


def resolve_incident(
    session: Session, principal: Principal, incident_id: str, *, resolution: str, confirmed: bool
) -> Incident:
    """The owner resolves; ``confirmed`` says the exception really happened (it then counts
    against order accuracy and may be charged to its cost bearer)."""
    principal.require("operator")
    incident = get(session, principal, incident_id, lock=True)
    if principal.party_id != incident.owner_party_id:
        raise InvalidState(
            f"only the owner ({incident.owner}) resolves this incident", code="not_incident_owner"
        )
    if incident.status == "resolved":
        raise InvalidState(
            "the incident is already resolved",
            code="incident_resolved",
            state={"status": incident.status},
        )
    if not resolution.strip():
        raise InvalidInput("say how it was resolved", field="resolution")
    now = utcnow()
    if incident.first_response_at is None:
        incident.first_response_at = now
    incident.status, incident.resolved_at = "resolved", now
    incident.resolution, incident.confirmed = resolution.strip(), confirmed
    session.flush()
    _event(
        session,
        incident,
        "incident.resolved",
        principal,
        {"resolved_at": now.isoformat(), "confirmed": confirmed},
    )
    return incident


def _event(
    session: Session, incident: Incident, kind: str, principal: Principal, data: dict[str, Any]
) -> None:
    emit(
        session,
        [
            NewEvent(
                type=kind,
                merchant_id=incident.merchant_id,
                provider_id=incident.provider_id,
                subject_type="incident",
                subject_id=incident.id,
                actor_party_id=principal.party_id,
                data={
                    "incident_id": incident.id,
                    "kind": incident.kind,
                    "agreement_id": incident.agreement_id,
                    "facility_id": incident.facility_id,
                    "fulfillment_order_id": incident.fulfillment_order_id,
                    "confirmed": incident.confirmed,
                    **data,
                },
            )
        ],
    )
