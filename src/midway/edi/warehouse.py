"""Outbound documents where Midway acts as the warehouse: 944, 947 and 846.

A facility is *run by Midway* when its operator works in Midway itself rather than through
an EDI system: the merchant's own sites, and a provider's facilities that no enabled partner
of the provider serves. For such a facility the merchant's partners (its ERP) get:

* a 944 Warehouse Stock Transfer Receipt Advice when an expected inbound shipment (ASN) is
  received (``inbound.received``): W07 the good units per SKU, W13 the damaged (``01``),
  short (``02``) and over (``03``) units against the ASN, W14 the totals;
* a 947 Warehouse Inventory Adjustment Advice for each adjustment or count correction posted
  to the ledger (``inventory.adjusted``), W19-01 the X12 reason for the ledger reason (the
  reverse of the inbound table, :func:`midway.edi.stock.code_for`);
* an 846 Inventory Inquiry/Advice of the merchant's stock at a facility (on hand ``QTY*17``
  and available ``QTY*33`` per SKU), on demand and, from the worker, periodically.

A 944 or 947 (and, in :mod:`midway.edi.outbound`, a 945) whose event came from one of the
merchant's partners' own documents is not sent back to that partner (:func:`recipients`).
Each document records the event (or, for an 846, the last ledger row) it was made from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from midway.agreements import service as agreements
from midway.db import utcnow
from midway.edi.models import EdiDocument, EdiPartner
from midway.edi.sending import clean, day, depositor, iso_day, partners, send, warehouse
from midway.edi.service import engine_profile, get_partner, partners_of_party
from midway.edi.stock import code_for
from midway.errors import InvalidState, NotFound
from midway.events.models import Event
from midway.facilities import service as facilities
from midway.facilities.models import Facility
from midway.inventory.models import StockBalance, StockMovement
from midway.parties import service as parties
from midway.principal import Principal

DAMAGED, SHORT, OVER = "01", "02", "03"  # W13-03 receiving condition codes
ADJUSTMENT_KINDS = ("adjustment", "count")


def run_by_midway(session: Session, facility: Facility, at: datetime) -> bool:
    """True when the facility's operator works in Midway: the facility is a merchant's own,
    or its provider had no enabled partner serving it at ``at``."""
    operator = parties.get_party(session, facility.party_id)
    if operator.kind == "merchant":
        return True
    return not partners(session, operator.id, at, facility.code)


def recipients(session: Session, item: Event) -> list[EdiPartner]:
    """The merchant's partners at the time of the event, less the one whose document caused
    it (a receipt, shipment or adjustment the merchant's own system sent is not echoed back)."""
    source = item.data.get("source")
    origin = session.get(EdiDocument, source) if isinstance(source, str) else None
    skip = origin.partner_id if origin is not None else None
    return [p for p in partners(session, item.merchant_id, item.created_at) if p.id != skip]


def _merchant_name(session: Session, merchant_id: str) -> str:
    return parties.get_party(session, merchant_id).name


# --- 944: receipt advice ----------------------------------------------------------------------


def receipt_advice(session: Session, item: Event, now: datetime) -> None:
    """An inbound shipment received at a facility Midway runs → 944 to the merchant's partners."""
    facility = facilities.get(session, str(item.data.get("facility_id")))
    if not run_by_midway(session, facility, item.created_at):
        return
    chosen = recipients(session, item)
    if not chosen:
        return
    name = _merchant_name(session, item.merchant_id)
    lines: list[dict[str, Any]] = sorted(item.data.get("lines") or [], key=lambda x: x["sku"])
    received_at = str(item.data.get("received_at") or "")
    clock = received_at[11:16].replace(":", "") if len(received_at) >= 16 else ""
    for partner in chosen:
        profile = engine_profile(partner)
        rows: list[list[str]] = [
            [
                "W17",
                "F",
                iso_day(received_at) or day(item.created_at),
                item.subject_id[-12:],
                clean(item.data.get("reference"), profile, 22),
                item.subject_id,
                "",
                clock,
            ],
            depositor(item.merchant_id, name, profile),
            warehouse(facility.name, facility.code, profile),
        ]
        for line in lines:
            received, damaged = int(line["received"]), int(line["damaged"])
            rows.append(
                [
                    "W07",
                    str(received - damaged),
                    "EA",
                    "",
                    partner.item_qualifier,
                    clean(line["sku"], profile, 48),
                ]
            )
            for condition, key in ((DAMAGED, "damaged"), (SHORT, "short"), (OVER, "over")):
                if int(line[key]):
                    rows.append(["W13", str(int(line[key])), "EA", condition])
        rows.append(
            [
                "W14",
                str(sum(int(x["received"]) for x in lines)),
                str(sum(int(x["expected"]) for x in lines)),
                str(sum(int(x["damaged"]) for x in lines)),
                str(sum(int(x["over"]) for x in lines)),
                str(sum(int(x["short"]) for x in lines)),
            ]
        )
        send(
            session,
            partner,
            "944",
            rows,
            {
                "inbound_id": item.subject_id,
                "reference": item.data.get("reference"),
                "facility_code": facility.code,
                "event_id": item.id,
            },
            now,
        )


# --- 947: inventory adjustments ---------------------------------------------------------------


def adjustment_advice(session: Session, item: Event, now: datetime) -> None:
    """An adjustment or count correction at a facility Midway runs → 947 to the merchant's
    partners (one W19 per ledger posting)."""
    kind = str(item.data.get("kind"))
    if kind not in ADJUSTMENT_KINDS:
        return
    operator = item.provider_id or item.merchant_id
    facility = session.scalar(
        select(Facility).where(
            Facility.party_id == operator, Facility.code == str(item.data.get("facility_code"))
        )
    )
    if facility is None or not run_by_midway(session, facility, item.created_at):
        return
    chosen = recipients(session, item)
    if not chosen:
        return
    name = _merchant_name(session, item.merchant_id)
    reason = str(item.data.get("reason") or "")
    code = code_for(kind, reason)
    reference = item.data.get("reference")
    for partner in chosen:
        profile = engine_profile(partner)
        rows: list[list[str]] = [
            [
                "W15",
                day(item.created_at),
                item.id.removeprefix("evt_")[:22],
                clean(reference, profile, 22),
            ],
            warehouse(facility.name, facility.code, profile),
            depositor(item.merchant_id, name, profile),
        ]
        if reason:
            rows.append(["NTE", "", clean(f"{kind}: {reason}", profile, 80)])
        rows.append(
            [
                "W19",
                code,
                str(int(item.data["quantity"])),
                "EA",
                "",
                partner.item_qualifier,
                clean(item.data.get("sku"), profile, 48),
            ]
        )
        send(
            session,
            partner,
            "947",
            rows,
            {
                "event_id": item.id,
                "facility_code": facility.code,
                "sku": item.data.get("sku"),
                "quantity": item.data.get("quantity"),
                "reason": reason,
                "reason_code": code,
            },
            now,
        )


# --- 846: inventory advice --------------------------------------------------------------------


def advise_inventory(
    session: Session,
    principal: Principal,
    facility_code: str,
    *,
    partner_id: str | None = None,
    now: datetime | None = None,
) -> list[EdiDocument]:
    """A merchant asks for an 846 of its stock at one facility Midway runs, sent to one of its
    partners (``partner_id``) or to every enabled one. A facility run through its operator's
    EDI system is refused (``facility_run_by_edi_partner``): that system's own 846s are the
    warehouse's word on the stock there."""
    principal.require("operator")
    principal.require_kind("merchant", "ask for inventory advices (846)")
    facility = agreements.site_for(session, principal.party_id, facility_code).facility
    at = now or utcnow()
    if not run_by_midway(session, facility, at):
        # The operator's own warehouse system keeps the book there and sends the 846s:
        # Midway's ledger only follows its 945/944/947, so an 846 from Midway would be a
        # second, lagging count presented as the warehouse's own.
        raise InvalidState(
            f"facility '{facility_code}' is run through its operator's EDI system, which sends "
            "its inventory advices (846); Midway sends them only for facilities it runs "
            "(read Midway's own balances with GET /v1/inventory)",
            code="facility_run_by_edi_partner",
            field="facility_code",
        )
    if partner_id is not None:
        chosen = [get_partner(session, principal, partner_id)]
        if not chosen[0].enabled:
            raise InvalidState(f"EDI partner {partner_id} is disabled", code="partner_disabled")
    else:
        chosen = partners_of_party(session, principal.party_id)
        if not chosen:
            raise NotFound("you have no enabled EDI partner", code="no_edi_partner")
    documents = inventory_advice(
        session, principal.party_id, facility, chosen, at, trigger="request"
    )
    if documents is None:
        raise InvalidState(
            f"no stock of yours is recorded at facility '{facility_code}'",
            code="no_stock_at_facility",
        )
    return documents


def inventory_advice(
    session: Session,
    merchant_id: str,
    facility: Facility,
    recipients: Sequence[EdiPartner],
    now: datetime,
    *,
    trigger: str,
) -> list[EdiDocument] | None:
    """An 846 of the merchant's stock at ``facility`` for each recipient (None when Midway
    holds no balance of that merchant there: an 846 needs at least one LIN)."""
    balances = list(
        session.scalars(
            select(StockBalance)
            .where(StockBalance.merchant_id == merchant_id, StockBalance.facility_id == facility.id)
            .order_by(StockBalance.sku)
        )
    )
    if not balances:
        return None
    through = session.scalar(
        select(func.max(StockMovement.id)).where(
            StockMovement.merchant_id == merchant_id, StockMovement.facility_id == facility.id
        )
    )
    name = _merchant_name(session, merchant_id)
    documents = []
    for partner in recipients:
        profile = engine_profile(partner)
        rows: list[list[str]] = [
            [
                "BIA",
                "00",
                "SI",
                clean(f"{facility.code}-{now:%Y%m%d%H%M%S}", profile, 30),
                day(now),
                now.strftime("%H%M%S"),
            ],
            warehouse(facility.name, facility.code, profile),
            depositor(merchant_id, name, profile),
        ]
        for balance in balances:
            rows.append(["LIN", "", partner.item_qualifier, clean(balance.sku, profile, 48)])
            rows.append(["QTY", "17", str(balance.on_hand), "EA"])
            rows.append(["QTY", "33", str(balance.on_hand - balance.reserved), "EA"])
        rows.append(["CTT", str(len(balances)), str(sum(b.on_hand for b in balances))])
        documents.append(
            send(
                session,
                partner,
                "846",
                rows,
                {
                    "merchant_id": merchant_id,
                    "facility_id": facility.id,
                    "facility_code": facility.code,
                    "ledger_through": int(through or 0),
                    "skus": len(balances),
                    "trigger": trigger,
                },
                now,
            )
        )
    return documents


def periodic_inventory(session: Session, now: datetime, every: timedelta) -> int:
    """The worker's 846 round: for every merchant partner and every facility Midway runs that
    holds the merchant's stock, an 846 unless one went to that partner for that facility
    within ``every``. Returns how many documents it wrote."""
    written = 0
    merchants: dict[str, list[EdiPartner]] = {}
    for partner in session.scalars(
        select(EdiPartner).where(EdiPartner.enabled.is_(True)).order_by(EdiPartner.id)
    ):
        merchants.setdefault(partner.party_id, []).append(partner)
    for merchant_id, candidates in merchants.items():
        if parties.get_party(session, merchant_id).kind != "merchant":
            continue
        facility_ids = session.scalars(
            select(StockBalance.facility_id)
            .where(StockBalance.merchant_id == merchant_id)
            .distinct()
            .order_by(StockBalance.facility_id)
        )
        for facility in (facilities.get(session, f) for f in list(facility_ids)):
            if not run_by_midway(session, facility, now):
                continue
            due = [p for p in candidates if not _advised_since(session, p, facility, now - every)]
            if due:
                found = inventory_advice(
                    session, merchant_id, facility, due, now, trigger="schedule"
                )
                written += len(found or [])
    return written


def _advised_since(
    session: Session, partner: EdiPartner, facility: Facility, since: datetime
) -> bool:
    recent = session.scalars(
        select(EdiDocument.objects).where(
            EdiDocument.partner_id == partner.id,
            EdiDocument.direction == "out",
            EdiDocument.set_id == "846",
            EdiDocument.created_at > since,
        )
    )
    return any(o.get("facility_id") == facility.id for o in recent)
