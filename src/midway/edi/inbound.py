"""Inbound documents that become orders, shipments, inbound receipts and returns.

* 940 (a merchant's system): W05*N places an order, W05*C/R replaces it (cancel, then place
  the new revision under ``<id>-rev<n>``) while no provider has accepted work on it, W05*F/D
  cancels it.
* 945 (the system of whoever runs the facility): a shipment on the fulfillment order named in
  W06-02 (the id Midway sent as W05-02, or the order's external id when that is unique).
* 943 (a merchant's system): an expected inbound shipment (ASN), reference W06-02.
* 944 (the facility's system): the receipt of the inbound shipment whose reference is
  W17-04, with damaged units from W13 notes.
* 180 (a merchant's system): a return authorization.

Each function takes the set's :class:`~midway.edi.mapping.Context` and the parsed set and
calls the same services as the API, in the caller's savepoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from midway.core.fulfillment import Action
from midway.edi.mapping import (
    Applied,
    Context,
    SetRejected,
    dated,
    facility_code,
    header,
    moment,
    party,
    quantity,
    segments,
    sku_of,
)
from midway.errors import Conflict, MidwayError, NotFound
from midway.fulfillment import intake
from midway.fulfillment import service as fulfillment
from midway.fulfillment.models import FulfillmentOrder, Shipment
from midway.inbound import service as inbound
from midway.inbound.models import InboundShipment
from midway.integrations.edi import Loop, Segment, TransactionSet
from midway.orders import service as orders
from midway.orders.models import Order
from midway.returns import service as returns

# Product (qualifier, ID) pair positions of each item segment.
W01_PAIRS = (4, 6, 15)
W12_PAIRS = (7, 17, 21)
W04_PAIRS = (4, 6, 14)
W07_PAIRS = (4, 6, 10)
BLI_PAIRS = (1, 7, 9, 11, 13)
# Request statuses in which a provider has taken the work on.
WORKING = ("accepted", "cancellation_requested", "cancellation_rejected")
TERMINAL = ("closed", "cancelled", "incomplete")
DAMAGED = "01"  # W13-03 receiving condition: damaged product
REVISION = "-rev"


# --- 940: shipping orders ----------------------------------------------------------------------


def apply_940(ctx: Context, tset: TransactionSet) -> Applied:
    """A merchant's shipping order: place, replace or cancel an order."""
    w05 = header(tset, "W05")
    ctx.require_kind("merchant", "shipping orders (940)", w05)
    ctx.merchant_id = ctx.principal.party_id
    number = w05.get(2).strip()
    ctx.at("external_id", w05, 2)
    ctx.at("channel", w05, 2)
    status = w05.get(1).strip()
    if status in ("F", "D"):
        return _cancel(ctx, w05, number)
    data = order_input(ctx, tset, number)
    if status == "N":
        try:
            order_id = intake.place_order(ctx.session, ctx.principal, data)
        except Conflict as exc:
            raise placement_refused(exc, w05, number) from None
        return placed_940(order_id, number)
    return _replace(ctx, w05, number, data)


def new_order_940(ctx: Context, tset: TransactionSet) -> tuple[orders.OrderInput, Segment] | None:
    """The order of a 940 that places a new one (W05*N), read and checked but not placed, with
    its W05; None for a change or cancellation (those go through :func:`apply_940`). Receiving
    places the new orders of a group together (``midway.fulfillment.batch``)."""
    w05 = header(tset, "W05")
    if w05.get(1).strip() != "N":
        return None
    ctx.require_kind("merchant", "shipping orders (940)", w05)
    ctx.merchant_id = ctx.principal.party_id
    number = w05.get(2).strip()
    ctx.at("external_id", w05, 2)
    ctx.at("channel", w05, 2)
    return order_input(ctx, tset, number), w05


def placed_940(order_id: str, number: str) -> Applied:
    """What a 940 that placed an order applied."""
    return Applied({"order_id": order_id}, f"order {number} placed")


def placement_refused(exc: MidwayError, w05: Segment, number: str) -> MidwayError | SetRejected:
    """A new order refused for a duplicate channel order, in the 940's words; other errors
    pass through."""
    if not (isinstance(exc, Conflict) and exc.code == "duplicate_order"):
        return exc
    return SetRejected(
        f"order {number} already exists; send a change (W05*R) or a cancellation (W05*F) instead",
        segment=w05,
        element=2,
        value=number,
        code="duplicate_order",
    )


def order_input(ctx: Context, tset: TransactionSet, number: str) -> orders.OrderInput:
    """The order a 940 describes: ship-to (N1*ST loop), W01 lines, G62 dates."""
    lines = []
    for index, w01 in enumerate(segments(tset, "W01")):
        path = f"lines[{index}]"
        sku = sku_of(ctx, w01, W01_PAIRS, path + ".sku")
        ctx.at(path + ".quantity", w01, 1)
        lines.append(orders.LineInput(sku, quantity(w01, 1)))
    if not lines:
        raise SetRejected("the 940 has no W01 line", code="no_lines")
    return orders.OrderInput(
        channel=ctx.partner.channel,
        external_id=number,
        ship_to=_ship_to(ctx, tset),
        lines=lines,
        ship_by=dated(tset, ("38", "10"), end_of_day=True),
        promised_delivery=dated(tset, ("02", "17"), end_of_day=True),
    )


def _ship_to(ctx: Context, tset: TransactionSet) -> dict[str, str | None]:
    loop = party(tset, "ST")
    if loop is None:
        raise SetRejected("the 940 has no ship-to party (N1*ST)", code="no_ship_to")
    n1 = loop.trigger
    n2 = loop.segment("N2")
    n3s = loop.segments("N3")
    n4 = loop.segment("N4")
    ctx.at("ship_to", n1)
    ctx.at("ship_to.name", n1, 2)
    address2 = n3s[0].get(2) if n3s else ""
    if not address2 and len(n3s) > 1:
        address2 = n3s[1].get(1)
    if n3s:
        ctx.at("ship_to.address1", n3s[0], 1)
    if n4 is not None:
        for name, position in (("city", 1), ("region", 2), ("postal_code", 3), ("country", 4)):
            ctx.at(f"ship_to.{name}", n4, position)
    contact = _contacts(loop)
    return {
        "name": n1.get(2).strip() or None,
        "company": n2.get(1).strip() or None if n2 is not None else None,
        "address1": n3s[0].get(1).strip() if n3s else None,
        "address2": address2.strip() or None,
        "city": n4.get(1).strip() if n4 is not None else None,
        "region": (n4.get(2).strip() or None) if n4 is not None else None,
        "postal_code": n4.get(3).strip() if n4 is not None else None,
        # X12 addresses are domestic unless N404 says otherwise.
        "country": ((n4.get(4).strip() if n4 is not None else "") or "US").upper(),
        "phone": contact.get("TE"),
        "email": contact.get("EM"),
    }


def _contacts(loop: Loop) -> dict[str, str]:
    found: dict[str, str] = {}
    for per in loop.segments("PER"):
        for position in (3, 5, 7):
            kind, value = per.get(position).strip(), per.get(position + 1).strip()
            if kind and value:
                found.setdefault(kind, value)
    return found


def current_revision(ctx: Context, number: str) -> tuple[str | None, int]:
    """The live order for a depositor order number and its revision (1 = the original)."""
    channel = ctx.partner.channel
    found = orders.find_existing(ctx.session, ctx.principal.party_id, channel, number)
    if found is None:
        return None, 0
    revision = 1
    while True:
        later = orders.find_existing(
            ctx.session, ctx.principal.party_id, channel, f"{number}{REVISION}{revision + 1}"
        )
        if later is None:
            return found, revision
        found, revision = later, revision + 1


def _replace(ctx: Context, w05: Segment, number: str, data: orders.OrderInput) -> Applied:
    current, revision = current_revision(ctx, number)
    if current is None:
        raise SetRejected(
            f"no order {number} to change; send it as a new order (W05*N)",
            segment=w05,
            element=2,
            value=number,
            code="order_not_found",
        )
    order = orders.get(ctx.session, ctx.principal, current, lock=True)
    if order.status in ("cancelled", "shipped", "closed", "partially_shipped"):
        raise SetRejected(
            f"order {number} is {order.status.replace('_', ' ')} and can no longer change",
            segment=w05,
            code="order_finished",
        )
    working = ctx.session.scalar(
        select(FulfillmentOrder.id)
        .where(
            FulfillmentOrder.order_id == order.id,
            (FulfillmentOrder.request_status.in_(WORKING))
            | FulfillmentOrder.status.in_(("in_progress", "incomplete")),
        )
        .limit(1)
    )
    if working is not None:
        raise SetRejected(
            f"order {number} cannot change: fulfillment order {working} has been accepted; "
            "cancel it (W05*F) and send a new order instead",
            segment=w05,
            code="order_in_progress",
        )
    fulfillment.cancel_order(ctx.session, ctx.principal, order.id)
    replacement = f"{number}{REVISION}{revision + 1}"
    new_id = intake.place_order(ctx.session, ctx.principal, replace(data, external_id=replacement))
    return Applied(
        {"order_id": new_id, "replaced_order_id": order.id, "external_id": replacement},
        f"order {number} replaced by revision {revision + 1}",
    )


def _cancel(ctx: Context, w05: Segment, number: str) -> Applied:
    current, _ = current_revision(ctx, number)
    if current is None:
        raise SetRejected(
            f"no order {number} to cancel",
            segment=w05,
            element=2,
            value=number,
            code="order_not_found",
        )
    order = orders.get(ctx.session, ctx.principal, current)
    if order.status == "cancelled":
        return Applied({"order_id": current, "status": "cancelled"}, "already cancelled")
    order = fulfillment.cancel_order(ctx.session, ctx.principal, current)
    note = (
        "cancellation requested from the provider"
        if order.status != "cancelled"
        else f"order {number} cancelled"
    )
    return Applied({"order_id": current, "status": order.status}, note)


# --- 945: shipping advice ----------------------------------------------------------------------


@dataclass
class _Package:
    """One parcel of a 945: its carrier and tracking number, and the units in it."""

    carrier: str
    tracking: str
    carrier_at: Segment | None
    tracking_at: Segment | None
    lines: dict[str, int] = field(default_factory=dict)
    places: list[tuple[Segment, int, int]] = field(default_factory=list)


def apply_945(ctx: Context, tset: TransactionSet) -> Applied:
    """The facility's shipping advice: one shipment per package (carrier and tracking number)
    on the fulfillment order. A package already recorded on it (same tracking number, same
    units) is not recorded again, so a 945 resent under new control numbers ships nothing
    twice."""
    w06 = header(tset, "W06")
    fo = _fulfillment_order(ctx, w06)
    ctx.merchant_id = fo.merchant_id
    packages = _packages(ctx, tset, w06)
    recorded = {
        (tracking, _contents(lines)): shipment_id
        for tracking, lines, shipment_id in ctx.session.execute(
            select(Shipment.tracking_number, Shipment.lines, Shipment.id).where(
                Shipment.fulfillment_order_id == fo.id
            )
        )
    }
    new = [p for p in packages if (p.tracking, _contents(p.lines)) not in recorded]
    known = [
        recorded[(p.tracking, _contents(p.lines))]
        for p in packages
        if (p.tracking, _contents(p.lines)) in recorded
    ]
    if new and ctx.principal.is_provider and fo.request_status == "submitted":
        # A WMS that ships has taken the work on: the 945 stands for the acceptance too.
        fulfillment.act(ctx.session, ctx.principal, fo.id, Action.ACCEPT)
    shipment_ids = []
    for package in new:
        ctx.at("carrier", package.carrier_at, 2)
        ctx.at("tracking_number", package.tracking_at)
        for index, (w12, position, sku_position) in enumerate(package.places):
            ctx.at(f"lines[{index}].sku", w12, sku_position)
            ctx.at(f"lines[{index}].quantity", w12, position)
        shipment = fulfillment.ship(
            ctx.session,
            ctx.principal,
            fo.id,
            carrier=package.carrier,
            tracking_number=package.tracking,
            lines=[fulfillment.ShipmentLineInput(sku, n) for sku, n in package.lines.items()],
            source=ctx.document_id or None,
        )
        shipment_ids.append(shipment.id)
    units = sum(sum(p.lines.values()) for p in new)
    if new:
        note = f"{units} unit(s) shipped in {len(new)} package(s): " + ", ".join(
            f"{p.carrier} {p.tracking}" for p in new
        )
    else:
        note = "every package of this 945 is already recorded"
    if new and known:
        note += f"; {len(known)} package(s) already recorded"
    return Applied(
        {
            "fulfillment_order_id": fo.id,
            "order_id": fo.order_id,
            "shipment_id": shipment_ids[0] if shipment_ids else None,
            "shipment_ids": shipment_ids,
            "already_recorded": known,
        },
        note,
        merchant_id=fo.merchant_id,
    )


def _contents(lines: Any) -> tuple[tuple[str, int], ...]:
    """A parcel's units by SKU, comparable whether from a shipment row or a 945."""
    if isinstance(lines, dict):
        pairs = [(str(sku), int(n)) for sku, n in lines.items()]
    else:
        pairs = [(str(x["sku"]), int(x["quantity"])) for x in lines or []]
    return tuple(sorted(pairs))


def _packages(ctx: Context, tset: TransactionSet, w06: Segment) -> list[_Package]:
    """The parcels of a 945, in document order. A W12 is in the parcel named by its own N9
    (2I, CN, BM), else its LX's MAN*CP or N9, else the set's N9 (or, without one, the first
    parcel named in the set, else W06-04); its carrier is its own W27, else the set's."""
    header_w27 = tset.segment("W27")
    header_tracking = _reference(tset.segments("N9"))
    items: list[tuple[Segment, Segment | None, Segment | None, tuple[str, Segment] | None]] = []
    for lx in _loops(tset, "LX"):
        lx_tracking = _man(lx.segments("MAN")) or _reference(lx.segments("N9"))
        for loop in lx.loops("W12"):
            own = _reference(loop.segments("N9")) or lx_tracking
            items.append((loop.trigger, loop.segment("W27"), header_w27, own))
    if not items:
        raise SetRejected("the 945 ships no units (W12-03)", code="nothing_shipped")
    first_named = next((own for *_, own in items if own is not None), None)
    fallback = header_tracking or first_named
    if fallback is None and w06.get(4).strip():
        fallback = (w06.get(4).strip(), w06)
    packages: dict[tuple[str, str], _Package] = {}
    index = 0
    for w12, own_w27, set_w27, own in items:
        # W12-03 is the quantity shipped; a line reported complete (CC) without it shipped
        # what was ordered (W12-02).
        position = 3 if w12.get(3).strip() else 2
        if position == 2 and (w12.get(1) != "CC" or not w12.get(2).strip()):
            continue
        count = quantity(w12, position, allow_zero=True)
        if count == 0:
            continue
        tracking = own or fallback
        if tracking is None:
            raise SetRejected(
                "no tracking number: give N9*2I, N9*CN, N9*BM, MAN*CP or W06-04",
                segment=w06,
                code="no_tracking_number",
            )
        carrier_at = own_w27 if _scac(own_w27) else set_w27
        carrier = _scac(carrier_at)
        if not carrier:
            raise SetRejected(
                "no carrier: give W27-02 (SCAC) or W27-03 (routing)",
                segment=w12,
                code="no_carrier",
            )
        sku = sku_of(ctx, w12, W12_PAIRS, f"lines[{index}].sku")
        sku_position = ctx.where[f"lines[{index}].sku"][1] or 8
        index += 1
        package = packages.setdefault(
            (carrier, tracking[0]), _Package(carrier, tracking[0], carrier_at, tracking[1])
        )
        package.lines[sku] = package.lines.get(sku, 0) + count
        package.places.append((w12, position, sku_position))
    if not packages:
        raise SetRejected("the 945 ships no units (W12-03)", code="nothing_shipped")
    return list(packages.values())


def _scac(w27: Segment | None) -> str:
    """W27-02 (SCAC), else W27-03 (routing)."""
    if w27 is not None:
        for position in (2, 3):
            if w27.get(position).strip():
                return w27.get(position).strip()
    return ""


def _reference(n9s: list[Segment]) -> tuple[str, Segment] | None:
    """The tracking number among N9 references: 2I, else CN, else BM."""
    references = {n9.get(1): n9 for n9 in reversed(n9s) if n9.get(2).strip()}
    for qualifier in ("2I", "CN", "BM"):
        if qualifier in references:
            return references[qualifier].get(2).strip(), references[qualifier]
    return None


def _man(mans: list[Segment]) -> tuple[str, Segment] | None:
    """The first carrier-assigned package ID (MAN*CP)."""
    for man in mans:
        if man.get(1) == "CP" and man.get(2).strip():
            return man.get(2).strip(), man
    return None


def _visible_fos(ctx: Context) -> object:
    if ctx.principal.is_merchant:
        return FulfillmentOrder.merchant_id == ctx.principal.party_id
    return FulfillmentOrder.provider_id == ctx.principal.party_id


def _fulfillment_order(ctx: Context, w06: Segment) -> FulfillmentOrder:
    reference = w06.get(2).strip()
    if not reference:
        raise SetRejected(
            "W06-02 must name the order (the W05-02 Midway sent)",
            segment=w06,
            element=2,
            code="no_order_reference",
        )
    # Midway's 940 carries the fulfillment order id without its "fo_" prefix (W05-02 holds
    # 22 characters); accept it either way.
    for candidate in (reference, f"fo_{reference}"):
        try:
            return fulfillment.get(ctx.session, ctx.principal, candidate)
        except NotFound:
            continue
    matches = list(
        ctx.session.scalars(
            select(FulfillmentOrder)
            .join(Order, Order.id == FulfillmentOrder.order_id)
            .where(
                _visible_fos(ctx),  # type: ignore[arg-type]
                Order.external_id == reference,
                FulfillmentOrder.status.not_in(TERMINAL),
            )
            .limit(2)
        )
    )
    if len(matches) == 1:
        return matches[0]
    why = "matches several open fulfillment orders" if matches else "names no open order"
    raise SetRejected(
        f"W06-02 {reference!r} {why}", segment=w06, element=2, value=reference, code="unknown_order"
    )


# --- 943 and 944: inbound shipments ------------------------------------------------------------


def apply_943(ctx: Context, tset: TransactionSet) -> Applied:
    """A merchant's stock transfer advice: an expected inbound shipment."""
    w06 = header(tset, "W06")
    ctx.require_kind("merchant", "stock transfer advices (943)", w06)
    ctx.merchant_id = ctx.principal.party_id
    reference = w06.get(2).strip() or w06.get(4).strip()
    ctx.at("reference", w06, 2 if w06.get(2).strip() else 4)
    if not reference:
        raise SetRejected("W06-02 (or W06-04) must give the shipment's reference", segment=w06)
    code = facility_code(ctx, tset, ctx.principal.party_id)
    expected: dict[str, int] = {}
    for index, w04 in enumerate(segments(tset, "W04")):
        sku = sku_of(ctx, w04, W04_PAIRS, f"lines[{index}].sku")
        ctx.at(f"lines[{index}].quantity", w04, 1)
        expected[sku] = expected.get(sku, 0) + quantity(w04, 1)
    w27 = tset.segment("W27")
    carrier = (w27.get(2).strip() or w27.get(3).strip()) if w27 is not None else ""
    shipment = inbound.create(
        ctx.session,
        ctx.principal,
        facility_code=code,
        reference=reference,
        lines=[inbound.ExpectedLine(sku, count) for sku, count in expected.items()],
        carrier=carrier or None,
        expected_at=dated(tset, ("17", "02", "10")),
    )
    return Applied(
        {"inbound_id": shipment.id, "reference": reference},
        f"inbound {reference} expected at {code}",
    )


def apply_944(ctx: Context, tset: TransactionSet) -> Applied:
    """The facility's receipt advice: the receipt of an expected inbound shipment."""
    w17 = header(tset, "W17")
    shipment = _inbound_shipment(ctx, w17)
    ctx.merchant_id = shipment.merchant_id
    counted: dict[str, list[int]] = {}
    for index, loop in enumerate(_loops(tset, "W07")):
        w07 = loop.trigger
        sku = sku_of(ctx, w07, W07_PAIRS, f"lines[{index}].sku")
        ctx.at(f"lines[{index}]", w07, 1)
        good = quantity(w07, 1, allow_zero=True)
        damaged = sum(
            quantity(w13, 1) for w13 in segments(loop, "W13") if w13.get(3).strip() == DAMAGED
        )
        total = counted.setdefault(sku, [0, 0])
        total[0] += good + damaged
        total[1] += damaged
    received_at = moment(w17.get(2), w17.get(7))
    if received_at is not None and received_at > ctx.now:
        received_at = ctx.now
    ctx.at("received_at", w17, 2)
    inbound.receive(
        ctx.session,
        ctx.principal,
        shipment.id,
        [inbound.ReceivedLine(sku, got, bad) for sku, (got, bad) in counted.items()],
        received_at=received_at,
        source=ctx.document_id or None,
    )
    return Applied(
        {"inbound_id": shipment.id, "reference": shipment.reference},
        f"inbound {shipment.reference} received",
        merchant_id=shipment.merchant_id,
    )


def _loops(tset: TransactionSet, loop_id: str) -> list[Loop]:
    """Every loop with this ID, wherever the grammar placed it."""
    found: list[Loop] = []
    pending: list[TransactionSet | Loop] = [tset]
    while pending:
        container = pending.pop(0)
        for item in container.items:
            if isinstance(item, Loop):
                if item.id == loop_id:
                    found.append(item)
                else:
                    pending.append(item)
    return found


def _inbound_shipment(ctx: Context, w17: Segment) -> InboundShipment:
    for position in (4, 5):
        reference = w17.get(position).strip()
        if not reference:
            continue
        # Read-only use of the inbound feature's table: it has no lookup by reference for a
        # facility's operator, and receiving itself goes through its service.
        query = select(InboundShipment).where(InboundShipment.reference == reference).limit(2)
        if ctx.principal.is_merchant:
            query = query.where(InboundShipment.merchant_id == ctx.principal.party_id)
        else:
            query = query.where(InboundShipment.provider_id == ctx.principal.party_id)
        found = list(ctx.session.scalars(query))
        if len(found) == 1:
            return found[0]
        if found:
            raise SetRejected(
                f"W17-{position:02d} {reference!r} matches inbound shipments of several merchants",
                segment=w17,
                element=position,
                value=reference,
                code="ambiguous_inbound",
            )
    value = w17.get(4).strip() or w17.get(5).strip()
    raise SetRejected(
        f"W17-04 {value!r} names no expected inbound shipment (the 943 reference)",
        segment=w17,
        element=4,
        value=value,
        code="unknown_inbound",
    )


# --- 180: returns ------------------------------------------------------------------------------


def apply_180(ctx: Context, tset: TransactionSet) -> Applied:
    """A merchant's return authorization."""
    bgn = header(tset, "BGN")
    ctx.require_kind("merchant", "return authorizations (180)", bgn)
    ctx.merchant_id = ctx.principal.party_id
    references = {n9.get(1): n9 for n9 in tset.segments("N9") if n9.get(2).strip()}
    rma_segment, position = (references["RA"], 2) if "RA" in references else (bgn, 2)
    rma = rma_segment.get(position).strip()
    ctx.at("rma_number", rma_segment, position)
    code = facility_code(ctx, tset, ctx.principal.party_id)
    lines: dict[str, int] = {}
    reasons: list[str] = []
    for index, loop in enumerate(_loops(tset, "BLI")):
        bli = loop.trigger
        sku = sku_of(ctx, bli, BLI_PAIRS, f"lines[{index}].sku")
        ctx.at(f"lines[{index}].quantity", bli, 3)
        lines[sku] = lines.get(sku, 0) + quantity(bli, 3)
        rdr = loop.segment("RDR")
        if rdr is not None:
            reasons.append(rdr.get(4).strip() or rdr.get(2).strip())
    header_rdr = tset.segment("RDR")
    if header_rdr is not None:
        reasons.insert(0, header_rdr.get(4).strip() or header_rdr.get(2).strip())
    prf = tset.segment("PRF")
    order_id = None
    if prf is not None and prf.get(1).strip():
        order_id, _ = current_revision(ctx, prf.get(1).strip())
    rma_row = returns.authorize(
        ctx.session,
        ctx.principal,
        facility_code=code,
        rma_number=rma,
        lines=[returns.ReturnLineInput(sku, count) for sku, count in lines.items()],
        order_id=order_id,
        reason="; ".join(r for r in reasons if r) or None,
    )
    return Applied({"return_id": rma_row.id, "rma_number": rma}, f"return {rma} authorized")
