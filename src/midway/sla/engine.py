"""The clock engine: reads the event feed in commit order and keeps SLA clocks and KPI facts.

Each handled event starts or stops a clock (``sla_clocks``) and/or updates the order fact it
concerns (``order_facts``), so that KPIs and scorecards read one place that can be rebuilt
from the events. The engine keeps its own cursor; on PostgreSQL it reads only events of
transactions below the feed horizon, ordered by (transaction id, sequence), exactly like the
public event feed, so an event committed late is never skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from midway.core.calendar import BusinessCalendar, add_business_days, add_business_hours
from midway.core.calendar import ship_by as cutoff_ship_by
from midway.core.sla_terms import SlaTerm
from midway.db import is_postgres, new_id, utcnow
from midway.errors import NotFound
from midway.events.models import Event
from midway.events.service import NewEvent, emit, postgres_horizon
from midway.kpis.models import InventoryCountFact, OrderFact
from midway.orders import service as orders
from midway.principal import Principal
from midway.sla import terms as sla_terms
from midway.sla.calendars import CalendarCache, subtract_business_hours
from midway.sla.models import SlaClock, SlaCursor

CURSOR = "sla_engine"
# Incident kinds that make the order they concern inaccurate (once confirmed) or damaged
# (kinds the incidents feature accepts; see midway.incidents.service.KINDS).
ACCURACY_KINDS = frozenset(("mis_pick", "wrong_item", "short_shipment"))
DAMAGE_KINDS = frozenset(("damaged_outbound",))
_DEFAULT_CALENDAR = BusinessCalendar(timezone="UTC", cutoff=datetime.min.time().replace(hour=14))


@dataclass
class Context:
    """What one run of the engine shares: calendars and parsed terms, cached."""

    session: Session
    calendars: CalendarCache
    terms: sla_terms.TermsCache
    processed: int = 0
    alerts: int = 0
    pending: list[NewEvent] = field(default_factory=list)


def process_events(session: Session, limit: int = 1000) -> int:
    """Apply up to ``limit`` new events of the feed; returns how many were read."""
    ctx = Context(session, CalendarCache(session), sla_terms.TermsCache(session))
    horizon = postgres_horizon(session) if is_postgres(session) else None
    cursor = session.get(SlaCursor, CURSOR, with_for_update=True)
    if cursor is None:
        cursor = SlaCursor(name=CURSOR, tx_id=0, seq=0)
        session.add(cursor)
        session.flush()
    query = select(Event).where(Event.type.in_(tuple(HANDLERS))).limit(limit)
    if horizon is not None:
        query = query.where(
            Event.tx_id < horizon, tuple_(Event.tx_id, Event.seq) > tuple_(cursor.tx_id, cursor.seq)
        ).order_by(Event.tx_id, Event.seq)
    else:
        query = query.where(Event.seq > cursor.seq).order_by(Event.seq)
    events = list(session.scalars(query))
    for event in events:
        HANDLERS[event.type](ctx, event)
        ctx.processed += 1
        # Sessions do not autoflush: the next event must find the rows this one added.
        session.flush()
    if events:
        cursor.tx_id, cursor.seq = events[-1].tx_id or 0, events[-1].seq
    if ctx.pending:
        emit(session, ctx.pending)
    session.flush()
    return len(events)


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    instant = datetime.fromisoformat(str(value))
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def _calendar(ctx: Context, facility_id: str | None, around: datetime) -> BusinessCalendar:
    if facility_id is None:
        return _DEFAULT_CALENDAR
    try:
        return ctx.calendars.get(facility_id, around)
    except NotFound:
        return _DEFAULT_CALENDAR


def clock_event(clock: SlaClock, kind: str) -> NewEvent:
    """The ``sla.at_risk`` / ``sla.breached`` event of a clock, visible to both parties."""
    return NewEvent(
        type=kind,
        merchant_id=clock.merchant_id,
        provider_id=clock.provider_id,
        subject_type="sla_clock",
        subject_id=clock.id,
        data={
            "clock_id": clock.id,
            "kind": clock.kind,
            "agreement_id": clock.agreement_id,
            "facility_id": clock.facility_id,
            "subject_type": clock.subject_type,
            "subject_id": clock.subject_id,
            "accountable": clock.accountable,
            "started_at": clock.started_at.isoformat(),
            "deadline": clock.deadline.isoformat(),
            "stopped_at": clock.stopped_at.isoformat() if clock.stopped_at else None,
        },
    )


def _find(ctx: Context, kind: str, subject_type: str, subject_id: str) -> SlaClock | None:
    return ctx.session.scalar(
        select(SlaClock).where(
            SlaClock.kind == kind,
            SlaClock.subject_type == subject_type,
            SlaClock.subject_id == subject_id,
        )
    )


def _start(
    ctx: Context,
    event: Event,
    term: SlaTerm,
    *,
    agreement_id: str | None,
    facility_id: str | None,
    subject: tuple[str, str],
    started_at: datetime,
    deadline: datetime,
    accountable: str | None,
    detail: dict[str, Any] | None = None,
) -> SlaClock:
    existing = _find(ctx, term.metric, *subject)
    if existing is not None:
        return existing
    calendar = _calendar(ctx, facility_id, deadline)
    clock = SlaClock(
        id=new_id("clk"),
        kind=term.metric,
        merchant_id=event.merchant_id,
        provider_id=event.provider_id,
        agreement_id=agreement_id,
        facility_id=facility_id,
        subject_type=subject[0],
        subject_id=subject[1],
        accountable=accountable,
        started_at=started_at,
        deadline=deadline,
        at_risk_at=subtract_business_hours(calendar, deadline, term.at_risk_hours),
        stopped_at=None,
        status="running",
        at_risk_sent=False,
        breached_sent=False,
        start_event_id=event.id,
        stop_event_id=None,
        detail={"term": term.code, **(detail or {})},
    )
    ctx.session.add(clock)
    return clock


def _stop(
    ctx: Context, event: Event, kind: str, subject: tuple[str, str], stopped_at: datetime
) -> SlaClock | None:
    clock = _find(ctx, kind, *subject)
    if clock is None or clock.stopped_at is not None or clock.status == "void":
        return clock
    # A stop before the start (clock skew between systems) counts as instant work.
    clock.stopped_at = max(stopped_at, clock.started_at)
    clock.stop_event_id = event.id
    if clock.stopped_at <= clock.deadline:
        clock.status = "met"
    else:
        clock.status = "breached"
        if not clock.breached_sent:
            clock.breached_sent = True
            ctx.pending.append(clock_event(clock, "sla.breached"))
            ctx.alerts += 1
    return clock


def _void(ctx: Context, event: Event, kind: str, subject: tuple[str, str]) -> None:
    clock = _find(ctx, kind, *subject)
    if clock is not None and clock.stopped_at is None:
        clock.status = "void"
        clock.stop_event_id = event.id


# --- orders -------------------------------------------------------------------------------


def _fact(ctx: Context, fo_id: str | None) -> OrderFact | None:
    if not fo_id:
        return None
    return ctx.session.scalar(select(OrderFact).where(OrderFact.fulfillment_order_id == fo_id))


def _remember(fact: OrderFact, event: Event) -> None:
    if event.id not in fact.event_ids:
        fact.event_ids = [*fact.event_ids, event.id]
    fact.updated_at = utcnow()


def on_fo_created(ctx: Context, event: Event) -> None:
    """A fulfillment order was released to a facility: start its fact and on-time-ship clock."""
    data = event.data
    fo_id = data["fulfillment_order_id"]
    if _fact(ctx, fo_id) is not None:
        return
    released = _time(data.get("released_at")) or event.created_at
    facility_id = data.get("facility_id")
    agreement_id = data.get("agreement_id")
    order = None
    try:
        viewer = Principal(party_id=event.merchant_id, kind="merchant", role="viewer")
        order = orders.get(ctx.session, viewer, data["order_id"])
    except NotFound:
        order = None
    if order is not None and order.ship_by is not None:
        deadline = _time(data.get("ship_by")) or order.ship_by  # the channel's promise wins
    else:
        deadline = cutoff_ship_by(_calendar(ctx, facility_id, released), released)
    fact = OrderFact(
        id=new_id("ofc"),
        source="live",
        merchant_id=event.merchant_id,
        provider_id=event.provider_id,
        agreement_id=agreement_id,
        facility_id=facility_id,
        channel=data.get("channel"),
        external_ref=fo_id,
        order_id=data.get("order_id"),
        fulfillment_order_id=fo_id,
        status="open",
        placed_at=order.placed_at if order else None,
        released_at=released,
        ship_by=deadline,
        handed_at=None,
        promised_delivery=order.promised_delivery if order else None,
        delivered_at=None,
        units=int(data.get("units") or 0),
        units_shipped=0,
        shipped_complete=None,
        inaccurate=False,
        damaged=False,
        rating=None,
        rated_at=None,
        shipments={},
        incident_ids=[],
        event_ids=[event.id],
        lines=[],
        import_batch=None,
        updated_at=utcnow(),
    )
    ctx.session.add(fact)
    term = ctx.terms.term(agreement_id, data.get("agreement_version"), "on_time_ship")
    if term is not None:
        _start(
            ctx,
            event,
            term,
            agreement_id=agreement_id,
            facility_id=facility_id,
            subject=("fulfillment_order", fo_id),
            started_at=released,
            deadline=deadline,
            accountable=ctx.terms.accountable(agreement_id, term),
            detail={"order_id": data.get("order_id"), "channel": data.get("channel")},
        )


def on_shipment(ctx: Context, event: Event) -> None:
    """A parcel left the facility: the fact learns it; a complete FO stops the clock."""
    data = event.data
    fact = _fact(ctx, data.get("fulfillment_order_id"))
    if fact is None:
        return
    shipped_at = _time(data.get("shipped_at")) or event.created_at
    shipments = dict(fact.shipments)
    if data["shipment_id"] in shipments:
        return
    first = not shipments
    shipments[data["shipment_id"]] = {"shipped_at": shipped_at.isoformat(), "delivered_at": None}
    fact.shipments = shipments
    fact.units_shipped += sum(int(line.get("quantity", 0)) for line in data.get("lines") or [])
    fully = bool(data.get("fully_shipped"))
    if first:
        fact.shipped_complete = fully
    _remember(fact, event)
    if fully:
        _finish_shipping(ctx, event, fact, shipped_at)


def _finish_shipping(ctx: Context, event: Event, fact: OrderFact, handed_at: datetime) -> None:
    fact.status = "shipped"
    fact.handed_at = handed_at
    if fact.fulfillment_order_id:
        _stop(
            ctx, event, "on_time_ship", ("fulfillment_order", fact.fulfillment_order_id), handed_at
        )
    _settle_delivery(fact)


def on_fo_ended(ctx: Context, event: Event) -> None:
    """An FO was closed, cancelled or rejected: partly shipped work ends at its last parcel;
    work never shipped is void (it counts in no KPI)."""
    data = event.data
    fact = _fact(ctx, data.get("fulfillment_order_id"))
    if fact is None or fact.status != "open":
        return
    _remember(fact, event)
    if fact.shipments:
        last = max(_time(s["shipped_at"]) or event.created_at for s in fact.shipments.values())
        _finish_shipping(ctx, event, fact, last)
        return
    fact.status = "cancelled"
    if fact.fulfillment_order_id:
        _void(ctx, event, "on_time_ship", ("fulfillment_order", fact.fulfillment_order_id))


def on_delivered(ctx: Context, event: Event) -> None:
    """A parcel was delivered; the FO counts as delivered when all its parcels are."""
    data = event.data
    fact = _fact(ctx, data.get("fulfillment_order_id"))
    if fact is None:
        return
    shipments = dict(fact.shipments)
    entry = dict(shipments.get(data["shipment_id"]) or {"shipped_at": None})
    entry["delivered_at"] = (_time(data.get("delivered_at")) or event.created_at).isoformat()
    shipments[data["shipment_id"]] = entry
    fact.shipments = shipments
    promised = _time(data.get("promised_delivery"))
    if promised is not None:
        fact.promised_delivery = promised
    _remember(fact, event)
    _settle_delivery(fact)


def _settle_delivery(fact: OrderFact) -> None:
    if fact.status != "shipped" or not fact.shipments:
        return
    times = [_time(s.get("delivered_at")) for s in fact.shipments.values()]
    if all(t is not None for t in times):
        fact.delivered_at = max(t for t in times if t is not None)


# --- inbound, returns, incidents, counts ----------------------------------------------------


def _process_clock(kind: str, subject_type: str, id_key: str, at_key: str) -> Callable[..., None]:
    def start(ctx: Context, event: Event) -> None:
        data = event.data
        agreement_id = data.get("agreement_id")
        term = ctx.terms.term(agreement_id, None, kind)
        started = _time(data.get(at_key)) or event.created_at
        if term is None or term.clock is None:
            return
        calendar = _calendar(ctx, data.get("facility_id"), started)
        if term.clock.kind == "business_days":
            deadline = add_business_days(calendar, started, int(term.clock.amount))
        else:
            deadline = add_business_hours(calendar, started, term.clock.amount)
        _start(
            ctx,
            event,
            term,
            agreement_id=agreement_id,
            facility_id=data.get("facility_id"),
            subject=(subject_type, data[id_key]),
            started_at=started,
            deadline=deadline,
            accountable=ctx.terms.accountable(agreement_id, term),
        )

    start.__doc__ = f"Start a {kind} clock."
    return start


def _process_stop(kind: str, subject_type: str, id_key: str, at_key: str) -> Callable[..., None]:
    def stop(ctx: Context, event: Event) -> None:
        data = event.data
        _stop(
            ctx,
            event,
            kind,
            (subject_type, data[id_key]),
            _time(data.get(at_key)) or event.created_at,
        )

    stop.__doc__ = f"Stop a {kind} clock."
    return stop


def on_incident_opened(ctx: Context, event: Event) -> None:
    """Start the first-response (and, when a term asks, resolution) clocks of an incident;
    a confirmed mis-pick, wrong item or short shipment makes its order inaccurate."""
    data = event.data
    opened = _time(data.get("opened_at")) or event.created_at
    agreement_id = data.get("agreement_id")
    calendar = _calendar(ctx, data.get("facility_id"), opened)
    detail = {
        "incident_kind": data.get("kind"),
        "fulfillment_order_id": data.get("fulfillment_order_id"),
    }
    for kind in ("incident_response", "incident_resolution"):
        term = ctx.terms.term(agreement_id, None, kind)
        if term is None or term.clock is None:
            continue
        _start(
            ctx,
            event,
            term,
            agreement_id=agreement_id,
            facility_id=data.get("facility_id"),
            subject=("incident", data["incident_id"]),
            started_at=opened,
            deadline=add_business_hours(calendar, opened, term.clock.amount),
            accountable=data.get("owner"),
            detail=detail,
        )
    _mark_order(
        ctx, event, data.get("fulfillment_order_id"), data.get("kind"), data.get("confirmed")
    )


def on_incident_resolved(ctx: Context, event: Event) -> None:
    """Stop the resolution clock; the confirmation at resolution decides order accuracy."""
    data = event.data
    _stop(
        ctx,
        event,
        "incident_resolution",
        ("incident", data["incident_id"]),
        _time(data.get("resolved_at")) or event.created_at,
    )
    # A response clock still running ends with the resolution: resolving is a response too.
    _stop(
        ctx,
        event,
        "incident_response",
        ("incident", data["incident_id"]),
        _time(data.get("resolved_at")) or event.created_at,
    )
    opened = ctx.session.scalar(
        select(Event).where(
            Event.type == "incident.opened", Event.subject_id == data["incident_id"]
        )
    )
    source = opened.data if opened is not None else {}
    _mark_order(
        ctx,
        event,
        source.get("fulfillment_order_id"),
        source.get("kind"),
        data.get("confirmed"),
        incident_id=data["incident_id"],
    )


def _mark_order(
    ctx: Context,
    event: Event,
    fo_id: str | None,
    kind: str | None,
    confirmed: Any,
    *,
    incident_id: str | None = None,
) -> None:
    fact = _fact(ctx, fo_id)
    if fact is None or kind is None:
        return
    incident = incident_id or event.data["incident_id"]
    # Only confirmed incidents count against the order; a later "not confirmed" clears it.
    entries = [e for e in fact.incident_ids if e.get("id") != incident]
    if confirmed is True and (kind in ACCURACY_KINDS or kind in DAMAGE_KINDS):
        entries.append({"id": incident, "kind": kind})
    fact.incident_ids = entries
    fact.inaccurate = any(e["kind"] in ACCURACY_KINDS for e in entries)
    fact.damaged = any(e["kind"] in DAMAGE_KINDS for e in entries)
    _remember(fact, event)


def on_inventory_counted(ctx: Context, event: Event) -> None:
    """Keep a count for inventory accuracy (count equal to the book = accurate)."""
    data = event.data
    exists = ctx.session.scalar(
        select(InventoryCountFact.id).where(InventoryCountFact.event_id == event.id)
    )
    if exists:
        return
    ctx.session.add(
        InventoryCountFact(
            id=new_id("icf"),
            merchant_id=event.merchant_id,
            provider_id=event.provider_id,
            agreement_id=data.get("agreement_id")
            or ctx.terms.agreement_of(event.merchant_id, data["facility_id"]),
            facility_id=data["facility_id"],
            sku=str(data["sku"]),
            expected=int(data["expected"]),
            counted=int(data["counted"]),
            counted_at=_time(data.get("counted_at")) or event.created_at,
            event_id=event.id,
        )
    )


HANDLERS: dict[str, Callable[[Context, Event], None]] = {
    "fulfillment_order.created": on_fo_created,
    "fulfillment_order.shipment_created": on_shipment,
    "fulfillment_order.closed_incomplete": on_fo_ended,
    "fulfillment_order.cancelled": on_fo_ended,
    "fulfillment_order.cancellation_accepted": on_fo_ended,
    "fulfillment_order.rejected": on_fo_ended,
    "shipment.delivered": on_delivered,
    "inbound.arrived": _process_clock(
        "dock_to_stock", "inbound_shipment", "inbound_id", "arrived_at"
    ),
    "inbound.received": _process_stop(
        "dock_to_stock", "inbound_shipment", "inbound_id", "received_at"
    ),
    "return.received": _process_clock("return_processing", "return", "return_id", "received_at"),
    "return.disposed": _process_stop("return_processing", "return", "return_id", "disposed_at"),
    "incident.opened": on_incident_opened,
    "incident.responded": _process_stop(
        "incident_response", "incident", "incident_id", "responded_at"
    ),
    "incident.resolved": on_incident_resolved,
    "inventory.counted": on_inventory_counted,
}
