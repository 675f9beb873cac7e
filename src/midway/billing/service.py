"""Use cases of billing: draft invoices from the meter, drill-down to their sources, and the
fulfillment charges of a period for cost per order. Invoice audits live in
:mod:`midway.billing.audit`.

Which rate card applies: the one of the newest agreement version accepted before the period
ended (a version accepted on 20 October prices all of October). The card's currency is the
agreement's currency.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from midway.agreements import service as agreements
from midway.agreements.models import Agreement, AgreementVersion
from midway.billing.meter import Scope, meter, quiet_collector
from midway.billing.models import Invoice, InvoiceLine
from midway.billing.window import Window, days_window, instant_window, month_window
from midway.core.billing_invoice import Credit, Draft, draft
from midway.core.errors import DomainError
from midway.core.matrix import parse_matrix
from midway.core.rating import (
    BRANDED_INSERTS,
    FULFILLMENT_EXTRA_UNIT,
    FULFILLMENT_ORDER,
    KITTING,
    LABELING,
    SPECIAL_HANDLING_PREFIX,
    RateCard,
    parse_rate_card,
    round_money,
)
from midway.db import new_id, utcnow
from midway.errors import InvalidInput, InvalidState, MidwayError, NotFound
from midway.events.models import Event
from midway.facilities.models import Facility
from midway.fulfillment.models import FulfillmentOrder, Shipment
from midway.inventory.models import StockMovement
from midway.principal import Principal
from midway.tasks.models import Task

SLA_APPLIED = "applied"
SLA_NONE = "none"
SLA_NOT_AVAILABLE = "not_available"
SOURCE_KINDS = ("shipments", "fulfillment_orders", "ledger_rows", "tasks", "events", "returns")
# What cost per order counts: the charges driven by orders (not receiving, storage, returns).
ORDER_CODES = frozenset(
    {FULFILLMENT_ORDER, FULFILLMENT_EXTRA_UNIT, BRANDED_INSERTS, KITTING, LABELING}
)


@dataclass(frozen=True)
class Terms:
    """The agreement version that prices a period, parsed."""

    agreement: Agreement
    version: AgreementVersion
    card: RateCard
    facilities: tuple[Facility, ...]

    def scope(self) -> Scope:
        """What the meter needs."""
        return Scope(
            agreement_id=self.agreement.id,
            merchant_id=self.agreement.merchant_id,
            facility_ids=tuple(f.id for f in self.facilities),
            matrix=parse_matrix(self.version.matrix),
            card=self.card,
        )


@dataclass(frozen=True)
class Computed:
    """A draft invoice before it is stored."""

    terms: Terms
    window: Window
    draft: Draft
    sla_credits: str
    notes: tuple[str, ...]


def terms_for(session: Session, agreement: Agreement, period: str) -> tuple[Terms, Window]:
    """The version whose rate card prices ``period``, and the period at its facilities."""
    month_window(period, [])  # a malformed period is the clearer error
    return _terms_in(session, agreement, period, lambda found: month_window(period, found))


def _terms_in(
    session: Session,
    agreement: Agreement,
    label: str,
    window_at: Callable[[tuple[Facility, ...]], Window],
) -> tuple[Terms, Window]:
    """The newest accepted version decided before the period ended at its facilities."""
    versions = session.scalars(
        select(AgreementVersion)
        .where(
            AgreementVersion.agreement_id == agreement.id,
            AgreementVersion.status.in_(("active", "superseded")),
            AgreementVersion.decided_at.is_not(None),
        )
        .order_by(AgreementVersion.version.desc())
    ).all()
    for version in versions:
        facilities = _facilities(session, version)
        window = window_at(facilities)
        assert version.decided_at is not None
        if version.decided_at < window.latest:
            return _parsed(agreement, version, facilities), window
    raise InvalidState(
        f"agreement {agreement.id} had no accepted version before the end of {label}",
        code="no_agreement_in_force",
    )


def _facilities(session: Session, version: AgreementVersion) -> tuple[Facility, ...]:
    rows = session.scalars(select(Facility).where(Facility.id.in_(version.facility_ids)))
    return tuple(sorted(rows, key=lambda f: version.facility_ids.index(f.id)))


def _parsed(
    agreement: Agreement, version: AgreementVersion, facilities: tuple[Facility, ...]
) -> Terms:
    if not version.rate_card:
        raise InvalidState(
            f"version {version.version} of agreement {agreement.id} has no rate card",
            code="no_rate_card",
        )
    return Terms(agreement, version, parse_rate_card(version.rate_card), facilities)


def compute(session: Session, agreement: Agreement, period: str) -> Computed:
    """Meter and rate ``period`` for ``agreement`` (nothing is written)."""
    terms, window = terms_for(session, agreement, period)
    metered = meter(session, terms.scope(), window)
    credits, status, credit_notes = sla_credits(session, agreement.id, window.period, terms.card)
    result = draft(
        terms.card,
        metered.usage,
        carrier_cost=metered.carrier_cost,
        carrier_shipments=metered.carrier_shipments,
        carrier_refs=metered.carrier_refs,
        credits=credits,
    )
    notes = [
        "period: calendar month in each facility's local time ("
        + ", ".join(f"{f.code} {f.timezone}" for f in terms.facilities)
        + ")",
        *metered.notes,
        *credit_notes,
    ]
    if terms.card.carrier_markup_percent is None:
        notes.append("carrier charges: not billed (the rate card has no carrier markup)")
    return Computed(terms, window, result, status, tuple(notes))


def sla_credits(
    session: Session, agreement_id: str, period: str, card: RateCard
) -> tuple[list[Credit], str, list[str]]:
    """The SLA credits of the period from the SLA module, when it is installed."""
    try:
        module = importlib.import_module("midway.sla.service")
    except ModuleNotFoundError as exc:
        if exc.name not in ("midway.sla", "midway.sla.service"):
            raise
        return [], SLA_NOT_AVAILABLE, ["SLA credits: not available"]
    period_credits = getattr(module, "period_credits", None)
    if period_credits is None:
        return [], SLA_NOT_AVAILABLE, ["SLA credits: not available"]
    credits: list[Credit] = []
    notes: list[str] = []
    for line in period_credits(session, agreement_id, period):
        if line.currency != card.currency:
            notes.append(
                f"SLA credit {line.code} of {line.amount} {line.currency} not applied: the "
                f"invoice is in {card.currency}"
            )
            continue
        credits.append(Credit(line.code, line.description, Decimal(line.amount), _refs(line.refs)))
    if not credits:
        notes.append("SLA credits: none for this period")
    return credits, SLA_APPLIED if credits else SLA_NONE, notes


def _refs(value: Any) -> dict[str, list[Any]]:
    if isinstance(value, Mapping):
        return {str(k): list(v) if isinstance(v, list | tuple) else [v] for k, v in value.items()}
    if isinstance(value, list | tuple):
        return {"sla": list(value)}
    return {}


def store(session: Session, computed: Computed, *, actor: str, status: str = "draft") -> Invoice:
    """Write a computed draft as an invoice with its lines."""
    terms, result = computed.terms, computed.draft
    invoice = Invoice(
        id=new_id("inv"),
        agreement_id=terms.agreement.id,
        merchant_id=terms.agreement.merchant_id,
        provider_id=terms.agreement.provider_id,
        period=computed.window.period,
        agreement_version=terms.version.version,
        currency=result.currency,
        status=status,
        subtotal=result.subtotal,
        credits_total=result.credits_total,
        total=result.total,
        sla_credits=computed.sla_credits,
        notes=list(computed.notes),
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(invoice)
    session.flush()
    rows = [
        {
            "id": new_id("inl"),
            "invoice_id": invoice.id,
            "position": position,
            "code": line.code,
            "kind": line.kind,
            "description": line.description[:300],
            "unit": line.unit,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "amount": line.amount,
            "refs": {k: list(v) for k, v in line.refs.items()},
            "detail": [dict(d) for d in line.detail],
        }
        for position, line in enumerate(result.lines, start=1)
    ]
    if rows:
        session.execute(insert(InvoiceLine), rows)
    return invoice


def create_invoice(
    session: Session, principal: Principal, agreement_id: str, period: str
) -> Invoice:
    """Meter, rate and store the draft invoice of ``period`` (either party of the agreement)."""
    principal.require("operator")
    agreement, _ = agreements.get(session, principal, agreement_id)
    computed = compute(session, agreement, period)
    with quiet_collector():  # the lines may carry millions of source ids
        return store(session, computed, actor=principal.party_id)


def list_invoices(session: Session, principal: Principal, agreement_id: str) -> list[Invoice]:
    """The agreement's stored invoices, newest first."""
    agreements.get(session, principal, agreement_id)
    return list(
        session.scalars(
            select(Invoice)
            .where(Invoice.agreement_id == agreement_id)
            .order_by(Invoice.created_at.desc(), Invoice.id)
        )
    )


def get_invoice(
    session: Session, principal: Principal, agreement_id: str, invoice_id: str
) -> tuple[Invoice, list[InvoiceLine]]:
    """An invoice with its lines (404 for another party's agreement or invoice)."""
    agreements.get(session, principal, agreement_id)
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.agreement_id != agreement_id:
        raise NotFound(f"no invoice {invoice_id}")
    lines = session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.position)
    ).all()
    return invoice, list(lines)


def line_sources(
    session: Session,
    principal: Principal,
    agreement_id: str,
    invoice_id: str,
    line_id: str,
    *,
    kind: str,
    offset: int = 0,
    limit: int = 100,
) -> tuple[InvoiceLine, int, list[dict[str, Any]]]:
    """The source records behind one line, of one kind, a page at a time."""
    if kind not in SOURCE_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(SOURCE_KINDS)}", field="kind")
    if not 1 <= limit <= 1000 or offset < 0:
        raise InvalidInput("limit must be 1-1000 and offset >= 0", field="limit")
    agreements.get(session, principal, agreement_id)
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.agreement_id != agreement_id:
        raise NotFound(f"no invoice {invoice_id}")
    line = session.get(InvoiceLine, line_id)
    if line is None or line.invoice_id != invoice_id:
        raise NotFound(f"invoice {invoice_id} has no line {line_id}")
    ids = list(line.refs.get(kind, []))
    page = ids[offset : offset + limit]
    return line, len(ids), _resolve(session, kind, page)


def _resolve(session: Session, kind: str, ids: Sequence[Any]) -> list[dict[str, Any]]:
    if not ids:
        return []
    found: dict[Any, dict[str, Any]] = {}
    if kind == "shipments":
        for s in session.scalars(select(Shipment).where(Shipment.id.in_(ids))):
            found[s.id] = {
                "id": s.id,
                "fulfillment_order_id": s.fulfillment_order_id,
                "shipped_at": s.shipped_at.isoformat(),
                "lines": s.lines,
                "units": sum(int(x["quantity"]) for x in s.lines),
                "carrier_charge": None if s.carrier_charge is None else str(s.carrier_charge),
                "currency": s.currency,
            }
    elif kind == "fulfillment_orders":
        for fo in session.scalars(select(FulfillmentOrder).where(FulfillmentOrder.id.in_(ids))):
            found[fo.id] = {
                "id": fo.id,
                "order_id": fo.order_id,
                "facility_id": fo.facility_id,
                "status": fo.status,
            }
    elif kind == "ledger_rows":
        for m in session.scalars(select(StockMovement).where(StockMovement.id.in_(ids))):
            found[m.id] = {
                "id": m.id,
                "kind": m.kind,
                "facility_id": m.facility_id,
                "sku": m.sku,
                "on_hand_delta": m.on_hand_delta,
                "reference": m.reference,
                "created_at": m.created_at.isoformat(),
            }
    elif kind == "tasks":
        for t in session.scalars(select(Task).where(Task.id.in_(ids))):
            found[t.id] = {
                "id": t.id,
                "process": t.process,
                "owner": t.owner,
                "status": t.status,
                "fulfillment_order_id": t.fulfillment_order_id,
                "skus": t.skus,
                "completed_at": t.completed_at.isoformat() if t.completed_at else None,
            }
    elif kind == "events":
        for e in session.scalars(select(Event).where(Event.id.in_(ids))):
            found[e.id] = {
                "id": e.id,
                "type": e.type,
                "created_at": e.created_at.isoformat(),
                "data": e.data,
            }
    return [found.get(i, {"id": i}) for i in ids]


def charges_total(
    session: Session, agreement_id: str, start: datetime | date, end: datetime | date
) -> Decimal | None:
    """Fulfillment charges of the agreement for [start, end): fees per order and per extra
    unit, inserts, kitting, labeling, special handling and carrier pass-through with its
    markup — what cost per order divides by the orders shipped. Dates mean midnight UTC.
    None when the agreement or its rate card is missing or invalid (no figure to divide)."""
    return _total(session, agreement_id, (start, end), order_driven=True)


def fees_total(
    session: Session, agreement_id: str, start: datetime | date, end: datetime | date
) -> Decimal | None:
    """The provider's fees for [start, end): every service charge of the rate card
    (receiving, storage, fulfillment, value-added services, special handling, returns) before
    SLA credits. Not the carrier pass-through nor its markup (postage billed on, not a fee for
    the provider's work) and not the monthly minimum's shortfall. The base of SLA credits,
    caps and rewards written as a percentage of the period's fees. None as for
    :func:`charges_total`."""
    return _total(session, agreement_id, (start, end), order_driven=False)


def period_fees(session: Session, agreement_id: str, period: str) -> Decimal | None:
    """:func:`fees_total` of the invoice month ``period`` (``YYYY-MM`` in each facility's
    local time, as the invoice counts it): the sum of the month's service lines."""
    return _total(session, agreement_id, period, order_driven=False)


def local_days_fees(
    session: Session, agreement_id: str, first: date, following: date
) -> Decimal | None:
    """:func:`fees_total` of the local days [first, following) at each facility (an SLA week
    counted the way an invoice counts its month). None as for :func:`charges_total`."""
    return _total(session, agreement_id, (first, following), order_driven=False, local=True)


def _total(
    session: Session,
    agreement_id: str,
    span: str | tuple[datetime | date, datetime | date],
    *,
    order_driven: bool,
    local: bool = False,
) -> Decimal | None:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        return None
    try:
        found = _priced(session, agreement, span, local)
    except (DomainError, MidwayError):  # no usable version: no figure, not a broken KPI
        return None
    if found is None:
        return Decimal(0)
    terms, window = found
    codes = frozenset(
        c
        for c in terms.card.charges
        if not order_driven or c in ORDER_CODES or c.startswith(SPECIAL_HANDLING_PREFIX)
    )
    metered = meter(session, terms.scope(), window, codes=codes, carrier=order_driven)
    result = draft(
        terms.card,
        metered.usage,
        carrier_cost=metered.carrier_cost,
        carrier_shipments=metered.carrier_shipments,
        carrier_refs=metered.carrier_refs,
    )
    counted = ("charge", "pass_through") if order_driven else ("charge",)
    total = sum((ln.amount for ln in result.lines if ln.kind in counted), Decimal(0))
    return round_money(total, terms.card.currency)


def _priced(
    session: Session,
    agreement: Agreement,
    span: str | tuple[datetime | date, datetime | date],
    local: bool,
) -> tuple[Terms, Window] | None:
    """The terms and window of ``span``: an invoice month, local days, or a UTC range
    (None when the range is empty)."""
    if isinstance(span, str):
        return terms_for(session, agreement, span)
    if local:
        first, following = span
        if not (type(first) is date and type(following) is date):
            raise InvalidInput("local days are dates", field="start")
        if following <= first:
            return None
        label = f"{first.isoformat()}..{(following - timedelta(days=1)).isoformat()}"
        return _terms_in(
            session,
            agreement,
            label,
            lambda found: days_window(label, first, following, found),
        )
    low, high = _instant(span[0]), _instant(span[1])
    if high <= low:
        return None
    version = session.scalars(
        select(AgreementVersion)
        .where(
            AgreementVersion.agreement_id == agreement.id,
            AgreementVersion.status.in_(("active", "superseded")),
            AgreementVersion.decided_at < high,
        )
        .order_by(AgreementVersion.version.desc())
        .limit(1)
    ).first()
    if version is None or not version.rate_card:
        raise InvalidState("no rate card in force", code="no_rate_card")
    terms = _parsed(agreement, version, _facilities(session, version))
    return terms, instant_window(low, high, terms.facilities)


def _instant(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput("give a timezone-aware datetime", field="start")
        return value
    return datetime.combine(value, time(0), tzinfo=UTC)
