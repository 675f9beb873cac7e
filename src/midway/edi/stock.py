"""Inbound documents about stock: inventory adjustments (947) and inventory snapshots (846).

A 947 posts each W19 line to the ledger through ``inventory.post`` with a Midway reason for
its X12 reason code (:data:`REASONS`). An 846 changes nothing in Midway's book: it is the
provider's book, stored as a snapshot for reconciliation (see
:func:`midway.edi.service.latest_snapshot`).
"""

from __future__ import annotations

from midway.db import new_id, utcnow
from midway.edi.mapping import (
    Applied,
    Context,
    SetRejected,
    depositor,
    facility_code,
    header,
    is_zero,
    moment,
    quantity,
    sku_of,
)
from midway.edi.models import ProviderSnapshot, ProviderSnapshotLine
from midway.facilities import service as facilities
from midway.integrations.edi import Loop, TransactionSet
from midway.inventory import service as inventory

INCREASE, DECREASE, AS_SENT = 1, -1, 0
W19_PAIRS = (5, 7, 17)
LIN_PAIRS = tuple(range(2, 31, 2))
# W19-01 (element 181) → (ledger kind, Midway reason, direction). A direction forces the sign
# of W19-02 (partners differ on whether they send decreases negative); AS_SENT keeps it.
# Midway keeps no separate "on hold" stock: a hold takes units off hand until released.
REASONS: dict[str, tuple[str, str, int]] = {
    "AA": ("count", "physical_count", AS_SENT),
    "AU": ("adjustment", "damaged_in_facility", DECREASE),
    "AV": ("adjustment", "damaged_in_transit", DECREASE),
    "07": ("adjustment", "destroyed", DECREASE),
    "05": ("adjustment", "put_on_hold", DECREASE),
    "55": ("adjustment", "taken_off_hold", INCREASE),
    "52": ("adjustment", "reworked", INCREASE),
    "51": ("adjustment", "found", INCREASE),
    "56": ("adjustment", "book_increase", INCREASE),
    "04": ("adjustment", "receipt_overstated", DECREASE),
    "53": ("adjustment", "shipment_overstated", INCREASE),
    "AW": ("adjustment", "recalled", DECREASE),
    "AX": ("adjustment", "expired", DECREASE),
    "AY": ("adjustment", "receipt_error", AS_SENT),
    "AB": ("adjustment", "accounting_error", AS_SENT),
    "AH": ("adjustment", "other", AS_SENT),
}
# QTY-01 qualifiers of an 846 line, preferred first: on hand, then available for sale.
ON_HAND = ("17", "33")


# Ledger reason → W19-01 for the 947s Midway writes: the reverse of :data:`REASONS`.
CODES: dict[str, str] = {reason: code for code, (_kind, reason, _sign) in REASONS.items()}
OTHER = "AH"  # W19-01 for a reason no code stands for: "other", the sign as posted


def code_for(kind: str, reason: str) -> str:
    """W19-01 for a ledger posting: a count correction is a physical count (``AA``); a
    reason Midway reads from a code (``damaged_in_facility``, ``x12_<code>``) goes back as
    that code; any other reason is ``AH`` (other)."""
    if kind == "count":
        return "AA"
    text = reason.strip()
    if text in CODES:
        return CODES[text]
    code = text.removeprefix("x12_")
    if code != text and len(code) == 2 and code.isalnum():
        return code.upper()
    return OTHER


def reason_for(code: str) -> tuple[str, str, int]:
    """Ledger kind, reason and direction for a W19-01 code (unknown codes keep the sign
    sent and are recorded as ``x12_<code>``)."""
    return REASONS.get(code, ("adjustment", f"x12_{code.lower()}", AS_SENT))


def apply_947(ctx: Context, tset: TransactionSet) -> Applied:
    """The facility's inventory adjustments: one ledger entry per W19 line."""
    w15 = header(tset, "W15")
    code = facility_code(ctx, tset, None)
    merchant = depositor(ctx, tset, code)
    ctx.merchant_id = merchant
    reference = w15.get(2).strip() or w15.get(3).strip() or f"947 {tset.control_number}"
    posted = []
    for loop in tset.loops("W19"):
        w19 = loop.trigger
        reason_code = w19.get(1).strip()
        kind, reason, direction = reason_for(reason_code)
        sku = sku_of(ctx, w19, W19_PAIRS, "sku")
        ctx.at("quantity", w19, 2)
        if kind == "count" and is_zero(w19, 2):
            continue  # a count that found what the book says: nothing to post
        count = quantity(w19, 2, signed=True)
        if direction != AS_SENT:
            count = direction * abs(count)
        inventory.post(
            ctx.session,
            ctx.principal,
            facility_code=code,
            sku=sku,
            quantity=count,
            kind=kind,
            reason=reason,
            reference=reference,
            merchant_id=None if ctx.principal.is_merchant else merchant,
            source=ctx.document_id or None,
        )
        posted.append({"sku": sku, "quantity": count, "reason": reason, "code": reason_code})
    return Applied(
        {"adjustments": posted, "facility_code": code, "reference": reference},
        f"{len(posted)} adjustment(s) posted at {code}",
        merchant_id=merchant,
    )


def apply_846(ctx: Context, tset: TransactionSet) -> Applied:
    """The provider's inventory report: stored as its book, per facility and SKU."""
    bia = header(tset, "BIA")
    default = facility_code(ctx, tset, None)
    merchant = depositor(ctx, tset, default)
    ctx.merchant_id = merchant
    as_of = moment(bia.get(4), bia.get(5)) or ctx.now
    reference = bia.get(3).strip() or f"846 {tset.control_number}"
    snapshot = ProviderSnapshot(
        id=new_id("psn"),
        partner_id=ctx.partner.id,
        provider_id=ctx.principal.party_id,
        merchant_id=merchant,
        reference=reference[:64],
        as_of=as_of,
        document_id=ctx.document_id or None,
        created_at=utcnow(),
    )
    ctx.session.add(snapshot)
    ctx.session.flush()
    facility_ids: dict[str, str] = {}
    lines = []
    for index, loop in enumerate(tset.loops("LIN")):
        lin = loop.trigger
        sku = sku_of(ctx, lin, LIN_PAIRS, f"lines[{index}].sku")
        code = facility_code(ctx, loop, None, default) if loop.loops("N1") else default
        if code not in facility_ids:
            facility_ids[code] = facilities.own_facility(ctx.session, ctx.principal, code).id
        lines.append(
            ProviderSnapshotLine(
                snapshot_id=snapshot.id,
                merchant_id=merchant,
                facility_id=facility_ids[code],
                sku=sku,
                quantity=_on_hand(loop),
                as_of=as_of,
            )
        )
    ctx.session.add_all(lines)
    ctx.session.flush()
    return Applied(
        {"snapshot_id": snapshot.id, "lines": len(lines), "facility_codes": sorted(facility_ids)},
        f"inventory snapshot {reference} of {len(lines)} line(s)",
        merchant_id=merchant,
    )


def _on_hand(loop: Loop) -> int:
    quantities = [q.trigger for q in loop.loops("QTY")] + loop.segments("QTY")
    if not quantities:
        raise SetRejected("the LIN has no QTY", segment=loop.trigger, code="no_quantity")
    chosen = quantities[0]
    for qualifier in ON_HAND:
        match = [q for q in quantities if q.get(1) == qualifier]
        if match:
            chosen = match[0]
            break
    if not chosen.get(2).strip():
        raise SetRejected("QTY-02 is empty", segment=chosen, element=2, code="no_quantity")
    return 0 if is_zero(chosen, 2) else quantity(chosen, 2, signed=True)
