"""Receiving a partner's X12 file: every transaction set applied on its own, every group
acknowledged.

The file is streamed through the engine's :class:`~midway.integrations.edi.Reader`, set by
set. Each set is applied in its own savepoint, inside a savepoint per functional group:

* a set with syntax errors, or one a mapping or service refuses, is rolled back alone and
  reported (in the 997 as AK5 R, in the document record, and as an ``edi.set_rejected``
  event); the other sets stand;
* a group whose envelope is broken (GE count or control number, no GE) is rolled back whole,
  as its 997 rejects it;
* a set already received (same partner, ISA13, GS06 and ST02) is a duplicate and is not
  applied again, unless it was rejected the first time.

Interchange envelope defects (reported in a TA1 when ISA14 asks for one) do not block groups
that are themselves whole and correct. An interchange from another sender than the partner's
ISA05/ISA06 is refused without an acknowledgment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from midway import heap
from midway.core.errors import DomainError
from midway.db import new_id, utcnow
from midway.edi import acks, inbound, stock
from midway.edi.mapping import Applied, Context, SetRejected
from midway.edi.models import EdiDocument, EdiPartner
from midway.edi.service import StoredCounter, control, engine_profile, principal_of
from midway.errors import Conflict, MidwayError
from midway.events.service import NewEvent, emit
from midway.fulfillment import batch, intake
from midway.integrations.edi import (
    Diagnostic,
    FunctionalGroup,
    Interchange,
    Reader,
    Segment,
    Severity,
    TransactionSet,
    acknowledge,
    serialize_interchange,
)
from midway.orders.service import OrderInput
from midway.principal import Principal

Mapping = Callable[[Context, TransactionSet], Applied]
MAPPINGS: dict[str, Mapping] = {
    "940": inbound.apply_940,
    "945": inbound.apply_945,
    "943": inbound.apply_943,
    "944": inbound.apply_944,
    "180": inbound.apply_180,
    "947": stock.apply_947,
    "846": stock.apply_846,
    "997": acks.apply_997,
    "999": acks.apply_997,
}
ACCEPTED, REJECTED, DUPLICATE = "accepted", "rejected", "duplicate"
_MAX_EVENT_DIAGNOSTICS = 5


@dataclass
class SetOutcome:
    """What happened to one transaction set of the file."""

    set_id: str
    interchange_control: str
    group_control: str
    set_control: str
    status: str
    document_id: str | None = None
    objects: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    merchant_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (results of the API, the CLI and diagnostics files)."""
        return {
            "set_id": self.set_id,
            "interchange_control": self.interchange_control,
            "group_control": self.group_control,
            "set_control": self.set_control,
            "status": self.status,
            "document_id": self.document_id,
            "objects": self.objects,
            "note": self.note,
            "diagnostics": self.diagnostics,
        }


@dataclass
class Acknowledgment:
    """An interchange Midway answers with: its 997s (and TA1), as text for the partner."""

    text: str
    interchange_control: str
    kind: str
    document_ids: list[str] = field(default_factory=list)


@dataclass
class Receipt:
    """What a file did: per-set outcomes, the acknowledgments it produced, other findings."""

    partner_id: str
    file_name: str | None = None
    sets: list[SetOutcome] = field(default_factory=list)
    acknowledgments: list[Acknowledgment] = field(default_factory=list)
    diagnostics: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file held sets and every one was accepted (or already had been)."""
        return bool(self.sets) and all(s.status in (ACCEPTED, DUPLICATE) for s in self.sets)

    def counts(self) -> dict[str, int]:
        """How many sets ended in each status."""
        found = {ACCEPTED: 0, REJECTED: 0, DUPLICATE: 0}
        for outcome in self.sets:
            found[outcome.status] = found.get(outcome.status, 0) + 1
        return found

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "partner_id": self.partner_id,
            "file_name": self.file_name,
            "ok": self.ok,
            "counts": self.counts(),
            "sets": [s.as_dict() for s in self.sets],
            "acknowledgment": "".join(a.text for a in self.acknowledgments),
            "acknowledgment_document_ids": [
                i for a in self.acknowledgments for i in a.document_ids
            ],
            "diagnostics": self.diagnostics,
        }


@dataclass
class _Prior:
    id: str
    status: str
    objects: dict[str, Any]


@dataclass
class _Pending:
    """A 940 new order read and checked, waiting to be placed with the rest of its group."""

    tset: TransactionSet
    outcome: SetOutcome
    state: _Group
    index: int
    ctx: Context
    data: OrderInput
    w05: Segment


@dataclass
class _Group:
    """The sets of one functional group while it is being read."""

    savepoint: SessionTransaction | None
    refused: str | None
    existing: dict[str, _Prior]
    outcomes: list[tuple[SetOutcome, int, _Prior | None]] = field(default_factory=list)
    business: dict[int, Diagnostic] = field(default_factory=dict)


def receive(
    session: Session,
    partner: EdiPartner,
    source: bytes | Path | BinaryIO,
    *,
    file_name: str | None = None,
    now: datetime | None = None,
    after_interchange: Callable[[], None] | None = None,
) -> Receipt:
    """Apply every transaction set of an X12 file from ``partner`` and build its 997s (and
    TA1s) in the caller's transaction.

    ``after_interchange`` is called after each interchange is applied and acknowledged, when
    no savepoint is open: a caller importing a large file may commit there (each interchange
    then stands on its own; resending the file skips what was committed).
    """
    run = _Run(session, partner, file_name, now or utcnow())
    reader = Reader(source, overrides=run.profile.overrides, keep_sets=False)
    with heap.frozen():  # a large file is a long job (see midway.heap)
        for item in reader:
            if isinstance(item, TransactionSet):
                run.on_set(item)
            elif isinstance(item, FunctionalGroup):
                run.on_group(item)
            else:
                run.on_interchange(item)
                if after_interchange is not None:
                    after_interchange()
    run.receipt.diagnostics.extend(d.to_dict() for d in reader.diagnostics)
    if not run.receipt.sets and not run.receipt.diagnostics:
        run.receipt.diagnostics.append(
            {"code": "NO_TRANSACTION_SETS", "severity": "error", "message": "no set found"}
        )
    return run.receipt


class _Run:
    """The state of one file being received."""

    def __init__(
        self, session: Session, partner: EdiPartner, file_name: str | None, now: datetime
    ) -> None:
        self.session = session
        self.partner = partner
        self.file_name = file_name
        self.now = now
        self.profile = engine_profile(partner)
        self.principal: Principal = principal_of(session, partner)
        self.receipt = Receipt(partner.id, file_name)
        self.groups: dict[int, _Group] = {}
        self.refused: dict[int, str | None] = {}
        self.seen: set[tuple[str, str, str]] = set()
        self.pending: list[_Pending] = []

    # --- envelopes -----------------------------------------------------------------------------

    def _refusal(self, interchange: Interchange) -> str | None:
        key = id(interchange)
        if key not in self.refused:
            qualifier, sender = interchange.sender
            reason = None
            if sender != self.partner.interchange_id or (
                qualifier.upper() != self.partner.interchange_qualifier
            ):
                reason = (
                    f"interchange {interchange.control_number.strip()} comes from "
                    f"{qualifier}/{sender}, not from partner {self.partner.name} "
                    f"({self.partner.interchange_qualifier}/{self.partner.interchange_id})"
                )
                self.receipt.diagnostics.append(
                    {"code": "WRONG_SENDER", "severity": "error", "message": reason}
                )
            self.refused[key] = reason
        return self.refused[key]

    def _group(self, group: FunctionalGroup, interchange: Interchange) -> _Group:
        state = self.groups.get(id(group))
        if state is not None:
            return state
        refused = self._refusal(interchange)
        existing: dict[str, _Prior] = {}
        if refused is None:
            rows = self.session.execute(
                select(
                    EdiDocument.set_control,
                    EdiDocument.id,
                    EdiDocument.status,
                    EdiDocument.objects,
                ).where(
                    EdiDocument.partner_id == self.partner.id,
                    EdiDocument.direction == "in",
                    EdiDocument.interchange_control == control(interchange.control_number),
                    EdiDocument.group_control == control(group.control_number),
                )
            )
            existing = {row[0]: _Prior(row[1], row[2], row[3]) for row in rows}
        savepoint = self.session.begin_nested() if refused is None else None
        state = _Group(savepoint, refused, existing)
        self.groups[id(group)] = state
        return state

    def on_set(self, tset: TransactionSet) -> None:
        """Apply one set (or record why not)."""
        group = tset.group
        interchange = group.interchange if group is not None else None
        isa13 = control(interchange.control_number) if interchange is not None else ""
        gs06 = control(group.control_number) if group is not None else ""
        outcome = SetOutcome(tset.id, isa13, gs06, control(tset.control_number), REJECTED)
        outcome.diagnostics = [d.to_dict() for d in tset.diagnostics]
        if group is None or interchange is None:
            outcome.note = "no ISA/GS envelope: the set cannot be identified or acknowledged"
            self.receipt.sets.append(outcome)
            return
        state = self._group(group, interchange)
        index = len(group.results) - 1
        if state.refused is not None:
            outcome.note = state.refused
            self.receipt.sets.append(outcome)
            return
        key = (isa13, gs06, outcome.set_control)
        prior = state.existing.get(outcome.set_control)
        if key in self.seen or (prior is not None and prior.status != REJECTED):
            outcome.status = DUPLICATE
            outcome.note = "duplicate, already applied"
            if prior is not None:
                outcome.document_id, outcome.objects = prior.id, dict(prior.objects)
            self.receipt.sets.append(outcome)
            state.outcomes.append((outcome, index, None))
            return
        self.seen.add(key)
        outcome.document_id = prior.id if prior is not None else new_id("edd")
        self._apply(tset, outcome, state, index)
        self.receipt.sets.append(outcome)
        state.outcomes.append((outcome, index, prior))

    def _apply(self, tset: TransactionSet, outcome: SetOutcome, state: _Group, index: int) -> None:
        if not tset.accepted:
            outcome.note = "rejected by the X12 checks (see diagnostics)"
            return
        mapping = MAPPINGS.get(tset.id)
        if mapping is None:
            problem = self._rejection(
                tset, f"Midway does not take {tset.id} documents from partners", "set_not_taken"
            )
            state.business[index] = problem
            outcome.note = problem.message
            outcome.diagnostics.append(problem.to_dict())
            return
        assert outcome.document_id is not None
        ctx = Context(self.session, self.partner, self.principal, self.now, outcome.document_id)
        try:
            if tset.id == "940":
                new_order = inbound.new_order_940(ctx, tset)
                if new_order is not None:  # placed with the group's other new orders
                    data, w05 = new_order
                    self.pending.append(_Pending(tset, outcome, state, index, ctx, data, w05))
                    return
            self._flush()  # sets apply in file order: earlier new orders first
            with self.session.begin_nested():
                applied = mapping(ctx, tset)
        except SetRejected as exc:
            problem = self._rejection(
                tset, exc.message, exc.code, exc.segment, exc.element, exc.value
            )
        except MidwayError as exc:
            segment, element = ctx.locate(exc.extra.get("field"))
            problem = self._rejection(tset, exc.detail, exc.code, segment, element)
        except DomainError as exc:
            segment, element = ctx.locate(exc.field)
            problem = self._rejection(tset, exc.message, exc.code, segment, element)
        except IntegrityError:
            problem = self._rejection(
                tset, "another request changed the same data at the same time; resend", "conflict"
            )
        else:
            self._accepted(outcome, applied, ctx)
            return
        self._refused(outcome, state, index, ctx, problem)

    def _accepted(self, outcome: SetOutcome, applied: Applied, ctx: Context) -> None:
        outcome.status = ACCEPTED
        outcome.objects = applied.objects
        outcome.note = applied.note
        outcome.merchant_id = applied.merchant_id or ctx.merchant_id

    def _refused(
        self, outcome: SetOutcome, state: _Group, index: int, ctx: Context, problem: Diagnostic
    ) -> None:
        outcome.merchant_id = ctx.merchant_id
        state.business[index] = problem
        outcome.note = problem.message
        outcome.diagnostics.append(problem.to_dict())

    def _flush(self) -> None:
        """Place the waiting 940 new orders together; each set is accepted or refused alone."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        try:
            results: list[batch.Outcome] = list(
                batch.place_many(self.session, self.principal, [p.data for p in pending])
            )
        except MidwayError as exc:  # the partner's key may not place orders at all
            results = [exc] * len(pending)
        for item, result in zip(pending, results, strict=True):
            number = item.data.external_id
            if isinstance(result, intake.Placed):
                self._accepted(item.outcome, inbound.placed_940(result.order.id, number), item.ctx)
                continue
            if isinstance(result, MidwayError):
                refused = inbound.placement_refused(result, item.w05, number)
                if isinstance(refused, SetRejected):
                    problem = self._rejection(
                        item.tset,
                        refused.message,
                        refused.code,
                        refused.segment,
                        refused.element,
                        refused.value,
                    )
                else:
                    segment, element = item.ctx.locate(result.extra.get("field"))
                    problem = self._rejection(
                        item.tset, result.detail, result.code, segment, element
                    )
            else:
                segment, element = item.ctx.locate(result.field)
                problem = self._rejection(item.tset, result.message, result.code, segment, element)
            self._refused(item.outcome, item.state, item.index, item.ctx, problem)

    def _rejection(
        self,
        tset: TransactionSet,
        message: str,
        code: str,
        segment: Any = None,
        element: int | None = None,
        value: str | None = None,
    ) -> Diagnostic:
        """A finding for a set Midway refused: an AK4 note on the element at fault when it
        is known (code 7, a value Midway does not know), else AK5 code 5."""
        if segment is not None and element is not None:
            where, ack, offset = "AK4", "7", segment.element_offset(element)
            value = value if value is not None else segment.get(element)
        else:
            where, ack = "AK5", "5"
            offset = segment.offset if segment is not None else tset.header.offset
        return Diagnostic(
            code=code,
            message=message,
            severity=Severity.ERROR,
            offset=offset,
            segment_id=segment.id if segment is not None else "",
            segment_position=segment.position if segment is not None else None,
            element_position=element if segment is not None else None,
            ack_segment=where,
            ack_code=ack,
            bad_value=value,
        )

    def on_group(self, group: FunctionalGroup) -> None:
        """A group ended: keep or undo its sets, correct its 997 results, record them."""
        state = self.groups.pop(id(group), None)
        if state is None:
            return
        self._flush()
        errors = [d for d in group.diagnostics if d.severity is Severity.ERROR]
        if state.savepoint is not None:
            if errors:
                state.savepoint.rollback()
                reason = "the functional group was rejected: " + ", ".join(
                    sorted({d.code for d in errors})
                )
                for outcome, _index, _prior in state.outcomes:
                    if outcome.status == ACCEPTED:
                        outcome.status, outcome.objects, outcome.note = REJECTED, {}, reason
                        outcome.diagnostics.extend(d.to_dict() for d in errors)
            else:
                state.savepoint.commit()
        for index, problem in state.business.items():
            if 0 <= index < len(group.results):
                result = group.results[index]
                group.results[index] = dataclasses.replace(
                    result, diagnostics=(*result.diagnostics, problem)
                )
        self._record(state)

    def _record(self, state: _Group) -> None:
        now = utcnow()
        rows: list[dict[str, Any]] = []
        events: list[NewEvent] = []
        for outcome, _index, prior in state.outcomes:
            if outcome.status == DUPLICATE or outcome.document_id is None:
                continue
            values = {
                "status": outcome.status,
                "objects": outcome.objects,
                "diagnostics": outcome.diagnostics,
                "note": outcome.note[:2000],
                "file_name": self.file_name,
                "updated_at": now,
            }
            if prior is not None:
                self.session.execute(
                    update(EdiDocument).where(EdiDocument.id == prior.id).values(**values)
                )
            else:
                rows.append(
                    {
                        "id": outcome.document_id,
                        "partner_id": self.partner.id,
                        "direction": "in",
                        "set_id": outcome.set_id[:6],
                        "interchange_control": outcome.interchange_control,
                        "group_control": outcome.group_control,
                        "set_control": outcome.set_control,
                        "created_at": now,
                        "ack_status": None,
                        "ack_codes": None,
                        "acknowledged_at": None,
                        "ack_document_id": None,
                        **values,
                    }
                )
            if outcome.status == REJECTED:
                events.append(self._rejected_event(outcome))
        if rows:
            try:
                with self.session.begin_nested():
                    self.session.execute(insert(EdiDocument), rows)
            except IntegrityError:
                raise Conflict(
                    "these transaction sets are being received by another request; resend later",
                    code="edi_in_flight",
                ) from None
        emit(self.session, events)

    def _rejected_event(self, outcome: SetOutcome) -> NewEvent:
        provider = self.principal.party_id if self.principal.is_provider else None
        merchant = outcome.merchant_id or self.principal.party_id
        assert outcome.document_id is not None
        return NewEvent(
            type="edi.set_rejected",
            merchant_id=merchant,
            provider_id=provider,
            subject_type="edi_document",
            subject_id=outcome.document_id,
            actor_party_id=self.principal.party_id,
            data={
                "document_id": outcome.document_id,
                "partner_id": self.partner.id,
                "set_id": outcome.set_id,
                "interchange_control": outcome.interchange_control,
                "group_control": outcome.group_control,
                "set_control": outcome.set_control,
                "reason": outcome.note,
                "diagnostics": [
                    {k: d.get(k) for k in ("code", "message", "segment_id", "element_position")}
                    for d in outcome.diagnostics
                    if d.get("severity") == "error"
                ][:_MAX_EVENT_DIAGNOSTICS],
            },
        )

    def on_interchange(self, interchange: Interchange) -> None:
        """An interchange ended: answer it (997 per group, TA1 if asked)."""
        self._flush()  # a group cut short (no GE) still gets its new orders placed
        refused = self._refusal(interchange)
        # Objects are keyed by identity while they are read; the next one may reuse the id.
        del self.refused[id(interchange)]
        if refused is not None:
            return
        self.receipt.diagnostics.extend(d.to_dict() for d in interchange.diagnostics)
        reply = acknowledge(
            interchange,
            profile=self.profile,
            counter=StoredCounter(self.session, self.partner.id),
            now=self.now,
        )
        if reply is None:
            return
        rendered = serialize_interchange(
            reply,
            delimiters=self.profile.delimiters,
            newline=self.profile.newline_after_terminator,
        )
        answer = Acknowledgment(
            rendered.text, control(reply.control_number), "997" if reply.groups else "TA1"
        )
        self.receipt.acknowledgments.append(answer)
        answered = [g for g in interchange.groups if g.functional_id != "FA"]
        now = utcnow()
        rows = []
        for ack_group in reply.groups:
            for position, tset in enumerate(ack_group.sets):
                source = answered[position] if position < len(answered) else None
                document_id = new_id("edd")
                answer.document_ids.append(document_id)
                rows.append(
                    {
                        "id": document_id,
                        "partner_id": self.partner.id,
                        "direction": "out",
                        "set_id": "997",
                        "interchange_control": control(reply.control_number),
                        "group_control": control(ack_group.control_number),
                        "set_control": control(tset.control_number),
                        "status": "sent",
                        "objects": {
                            "acknowledges": {
                                "interchange_control": control(interchange.control_number),
                                "group_control": control(source.control_number)
                                if source is not None
                                else None,
                            }
                        },
                        "diagnostics": [d.to_dict() for d in rendered.diagnostics],
                        "note": None,
                        "file_name": None,
                        "created_at": now,
                        "updated_at": now,
                        "ack_status": None,
                        "ack_codes": None,
                        "acknowledged_at": None,
                        "ack_document_id": None,
                    }
                )
        if rows:
            self.session.execute(insert(EdiDocument), rows)
