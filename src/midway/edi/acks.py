"""Inbound acknowledgments: a partner's 997 (or 999) about what Midway sent.

The 997 names the group it answers (AK1: functional ID and GS06) and, usually, each set
(AK2: set ID and ST02) with its verdict (AK5). The documents Midway sent with those numbers
become ``acknowledged`` (AK5 A or E) or ``ack_rejected`` (R, M, W, X); a set the 997 does not
list takes the group's verdict (AK9), except a partial one (P), which is recorded as such.
"""

from __future__ import annotations

from sqlalchemy import select

from midway.edi.mapping import Applied, Context, SetRejected, header
from midway.edi.models import EdiDocument
from midway.edi.service import control
from midway.integrations.edi import TransactionSet, read_acknowledgment

# GS01 of the sets Midway sends, to check AK1-01 against.
FUNCTIONAL_IDS = {
    "940": "OW",
    "945": "SW",
    "943": "AR",
    "944": "RE",
    "947": "AW",
    "846": "IB",
    "180": "AN",
    "856": "SH",
    "997": "FA",
}
GOOD = ("A", "E")


def apply_997(ctx: Context, tset: TransactionSet) -> Applied:
    """Mark the documents a partner's acknowledgment answers."""
    ak1 = header(tset, "AK1")
    ack = read_acknowledgment(tset)
    if ack is None:  # pragma: no cover - only 997 and 999 are routed here
        raise SetRejected("not an acknowledgment", code="not_an_acknowledgment")
    group = control(ack.group_control_number)
    sent = [
        d
        for d in ctx.session.scalars(
            select(EdiDocument)
            .where(
                EdiDocument.partner_id == ctx.partner.id,
                EdiDocument.direction == "out",
                EdiDocument.group_control == group,
            )
            .order_by(EdiDocument.created_at)
        )
        if FUNCTIONAL_IDS.get(d.set_id) == ack.functional_id
    ]
    if not sent:
        raise SetRejected(
            f"this acknowledges group {ack.functional_id} {ack.group_control_number}, which "
            "Midway did not send to this partner",
            segment=ak1,
            element=2,
            value=ack.group_control_number,
            code="unknown_group",
        )
    verdicts = {control(s.control_number): s for s in ack.sets}
    marked: dict[str, str] = {}
    for document in sent:
        listed = verdicts.get(document.set_control)
        status = listed.status if listed is not None else ack.status
        codes = list(listed.codes) if listed is not None else list(ack.codes)
        document.ack_status = status[:2] or None
        document.ack_codes = codes
        document.acknowledged_at = ctx.now
        document.ack_document_id = ctx.document_id or None
        document.updated_at = ctx.now
        if status in GOOD:
            document.status = "acknowledged"
        elif status and status != "P":
            document.status = "ack_rejected"
        marked[document.id] = document.status
    ctx.session.flush()
    rejected = sum(1 for s in marked.values() if s == "ack_rejected")
    note = f"{len(marked)} sent document(s) acknowledged" + (
        f", {rejected} rejected by the partner" if rejected else ""
    )
    return Applied({"documents": marked, "group_control": group}, note)
