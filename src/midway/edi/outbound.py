"""Outbound documents: Midway's events turned into X12 for the partners that need them.

* ``fulfillment_order.submitted`` to a facility whose provider has an enabled partner → a
  940 (W05-02 is the fulfillment order id without its ``fo_`` prefix, as W05-02 holds 22
  characters; N1*ST the ship-to; W01 lines with the SKU under the partner's item qualifier);
* ``fulfillment_order.shipment_created`` at a facility Midway runs (the merchant's own, or a
  provider's no WMS partner serves), when the merchant has a partner → a 945 (W06-02 the
  order's external id);
* ``inbound.expected`` at a provider's facility → a 943 to the provider's partner;
* ``inbound.received`` and ``inventory.adjusted`` at a facility Midway runs (no EDI system
  of its operator serves it) → a 944 or a 947 to the merchant's partners (see
  :mod:`midway.edi.warehouse`, which also writes the 846 inventory advice).

The feed is read with a cursor of its own (``edi_cursors``), in the order the event feed
guarantees: on PostgreSQL by (writing transaction, sequence) below the write horizon, so no
event committed late is skipped. Each document is rendered with the partner's profile and
control numbers, checked by parsing it back, recorded in ``edi_documents`` and written to the
partner's outbox when the transaction commits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from midway.db import is_postgres
from midway.edi import warehouse
from midway.edi.models import EdiCursor
from midway.edi.sending import clean, day, depositor, partners, send
from midway.edi.service import engine_profile
from midway.events.models import Event
from midway.events.service import postgres_horizon
from midway.facilities import service as facilities
from midway.fulfillment import service as fulfillment
from midway.integrations.edi import PartnerProfile
from midway.integrations.edi.midway_json import (
    AdviceLine,
    Fit,
    ship_to_rows,
    shipping_advice_rows,
)
from midway.orders import service as orders
from midway.parties import service as parties
from midway.principal import Principal

log = logging.getLogger("midway.edi")

CURSOR = "outbound"
BATCH = 200
SUBMITTED = "fulfillment_order.submitted"
SHIPPED = "fulfillment_order.shipment_created"
EXPECTED = "inbound.expected"
RECEIVED = "inbound.received"
ADJUSTED = "inventory.adjusted"


def run(session: Session, now: datetime) -> int:
    """Turn the events since the cursor into documents; returns how many events it read."""
    # The horizon first, while this transaction has no id of its own: postgres_horizon
    # compares running ids with the snapshot's xmax, which a transaction that has since
    # written (the cursor lock below) would already have outgrown.
    horizon = postgres_horizon(session) if is_postgres(session) else 0
    cursor = _cursor(session, now)
    kinds = (SUBMITTED, SHIPPED, EXPECTED, RECEIVED, ADJUSTED)
    query = select(Event).where(Event.type.in_(kinds)).limit(BATCH)
    if is_postgres(session):
        query = query.where(
            Event.tx_id < horizon,
            tuple_(Event.tx_id, Event.seq) > tuple_(cursor.tx_id, cursor.seq),
        ).order_by(Event.tx_id, Event.seq)
    else:
        query = query.where(Event.seq > cursor.seq).order_by(Event.seq)
    events = list(session.scalars(query))
    handlers: dict[str, Callable[[Session, Event, datetime], None]] = {
        SUBMITTED: _shipping_order,
        SHIPPED: _shipping_advice,
        EXPECTED: _transfer_advice,
        RECEIVED: warehouse.receipt_advice,
        ADJUSTED: warehouse.adjustment_advice,
    }
    for item in events:
        try:
            with session.begin_nested():
                handlers[item.type](session, item, now)
        except Exception:  # one bad event must not stop the feed for everyone
            log.exception("EDI: no document could be written for event %s", item.id)
    if events:
        cursor.tx_id, cursor.seq = events[-1].tx_id or 0, events[-1].seq
        cursor.updated_at = now
        session.flush()
    return len(events)


def _cursor(session: Session, now: datetime) -> EdiCursor:
    found = session.get(EdiCursor, CURSOR, with_for_update=True)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.add(EdiCursor(name=CURSOR, tx_id=0, seq=0, updated_at=now))
    except IntegrityError:  # another worker created it first
        pass
    found = session.get(EdiCursor, CURSOR, with_for_update=True, populate_existing=True)
    assert found is not None
    return found


def _shipping_order(session: Session, item: Event, now: datetime) -> None:
    """A fulfillment order submitted to a provider with a partner → 940."""
    if item.provider_id is None:
        return
    fo_id = str(item.data.get("fulfillment_order_id") or item.subject_id)
    principal = Principal(party_id=item.provider_id, kind="provider", role="operator")
    fo = fulfillment.get(session, principal, fo_id)
    view = fulfillment.views(session, principal, [fo])[0]
    chosen = partners(session, item.provider_id, item.created_at, str(view["facility_code"]))
    if not chosen or fo.request_status != "submitted":
        return
    merchant = parties.get_party(session, fo.merchant_id)
    ship_by = item.data.get("ship_by")
    for partner in chosen:
        profile = engine_profile(partner)
        external = str(view["external_id"])
        rows: list[list[str]] = [
            ["W05", "N", fo.id.removeprefix("fo_"), external if len(external) <= 22 else ""],
            depositor(fo.merchant_id, merchant.name, profile),
            *_ship_to(view.get("ship_to") or {}, profile),
            [
                "N1",
                "WH",
                clean(view["facility_code"], profile, 60),
                "ZZ",
                clean(view["facility_code"], profile, 80),
            ],
            ["N9", "CO", clean(external, profile, 30)],
        ]
        if isinstance(ship_by, str) and len(ship_by) >= 10:
            rows.append(["G62", "10", ship_by[:10].replace("-", "")])
        units = 0
        for number, line in _by_order_line(session, fo.order_id, view["lines"]):
            remaining = int(line["remaining_quantity"])
            if remaining <= 0:
                continue
            units += remaining
            rows.append(["LX", str(number)])
            rows.append(
                [
                    "W01",
                    str(remaining),
                    "EA",
                    "",
                    partner.item_qualifier,
                    clean(line["sku"], profile, 48),
                ]
            )
        rows.append(["W76", str(units)])
        send(
            session,
            partner,
            "940",
            rows,
            {"fulfillment_order_id": fo.id, "order_id": fo.order_id, "event_id": item.id},
            now,
        )


def _by_order_line(
    session: Session, order_id: str, lines: list[dict[str, Any]]
) -> list[tuple[int, dict[str, Any]]]:
    """Fulfillment order lines with their order line numbers, in order line order (LX01)."""
    numbers = {line.id: line.line_no for line in orders.lines_of(session, order_id)}
    found = [(numbers.get(str(line["order_line_id"]), 0), line) for line in lines]
    return sorted(found, key=lambda item: (item[0], str(item[1]["sku"])))


def _fit(profile: PartnerProfile) -> Fit:
    """Values cut for this partner's elements (see :func:`midway.edi.sending.clean`)."""
    return lambda value, size: clean(value, profile, size)


def _ship_to(ship_to: dict[str, object], profile: PartnerProfile) -> list[list[str]]:
    return ship_to_rows(ship_to, _fit(profile))


def _shipping_advice(session: Session, item: Event, now: datetime) -> None:
    """A shipment from a facility Midway runs (the merchant's own, or a provider's without a
    WMS partner), for the merchant's own system → 945."""
    principal = Principal(party_id=item.merchant_id, kind="merchant", role="operator")
    fo = fulfillment.get(session, principal, str(item.data.get("fulfillment_order_id")))
    facility = facilities.get(session, fo.facility_id)
    if not warehouse.run_by_midway(session, facility, item.created_at):
        return
    chosen = warehouse.recipients(session, item)  # not the partner whose 945 this came from
    if not chosen:
        return
    view = fulfillment.views(session, principal, [fo])[0]
    shipped = {str(x["sku"]): int(x["quantity"]) for x in item.data.get("lines") or []}
    ordered: dict[str, int] = defaultdict(int)
    left: dict[str, int] = defaultdict(int)  # after this parcel, not after later ones
    for line in view["lines"]:
        ordered[str(line["sku"])] += int(line["quantity"])
        left[str(line["sku"])] += int(line["remaining_quantity"])
    parcels = [str(x["id"]) for x in view["shipments"]]  # in shipping order
    this = item.data.get("shipment_id")
    for later in view["shipments"][parcels.index(this) + 1 :] if this in parcels else []:
        for line in later["lines"]:
            left[str(line["sku"])] += int(line["quantity"])
    external = str(view["external_id"])
    advice = [
        AdviceLine(sku, ordered.get(sku, count), count, left.get(sku, 0))
        for sku, count in sorted(shipped.items())
    ]
    for partner in chosen:
        profile = engine_profile(partner)
        rows = shipping_advice_rows(
            reference=external if len(external) <= 22 else fo.id.removeprefix("fo_"),
            shipped_on=str(item.data.get("shipped_at", ""))[:10].replace("-", ""),
            shipment_id=str(item.data.get("shipment_id") or ""),
            ship_to_name=str((view.get("ship_to") or {}).get("name") or ""),
            facility_code=str(view["facility_code"]),
            tracking_number=str(item.data.get("tracking_number") or ""),
            carrier=str(item.data.get("carrier") or ""),
            lines=advice,
            item_qualifier=partner.item_qualifier,
            cut=_fit(profile),
        )
        send(
            session,
            partner,
            "945",
            rows,
            {
                "fulfillment_order_id": fo.id,
                "shipment_id": item.data.get("shipment_id"),
                "event_id": item.id,
            },
            now,
        )


def _transfer_advice(session: Session, item: Event, now: datetime) -> None:
    """Stock announced to a provider's facility → 943 to the provider's partner."""
    if item.provider_id is None:
        return
    facility = facilities.get(session, str(item.data.get("facility_id")))
    chosen = partners(session, item.provider_id, item.created_at, facility.code)
    if not chosen:
        return
    merchant = parties.get_party(session, item.merchant_id)
    expected_at = item.data.get("expected_at")
    lines = [(str(x["sku"]), int(x["expected"])) for x in item.data.get("lines") or []]
    for partner in chosen:
        profile = engine_profile(partner)
        rows: list[list[str]] = [
            [
                "W06",
                "F",
                clean(item.data.get("reference"), profile, 22),
                day(item.created_at),
                clean(item.subject_id, profile, 30),
            ],
            depositor(item.merchant_id, merchant.name, profile),
            [
                "N1",
                "WH",
                clean(facility.name, profile, 60),
                "ZZ",
                clean(facility.code, profile, 80),
            ],
        ]
        if isinstance(expected_at, str) and len(expected_at) >= 10:
            rows.append(["G62", "17", expected_at[:10].replace("-", "")])
        rows.append(["W27", "M", "", clean(item.data.get("carrier"), profile, 35)])
        for sku, count in lines:
            rows.append(
                ["W04", str(count), "EA", "", partner.item_qualifier, clean(sku, profile, 48)]
            )
        rows.append(["W03", str(sum(c for _, c in lines))])
        send(
            session, partner, "943", rows, {"inbound_id": item.subject_id, "event_id": item.id}, now
        )
