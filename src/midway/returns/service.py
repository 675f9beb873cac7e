"""Returns: the merchant authorizes, the facility receives, and whoever the matrix names
inspects and decides each unit's fate (restock, refurbish, dispose, send to merchant)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from midway import paging
from midway.agreements import service as agreements
from midway.catalog import service as catalog
from midway.core.matrix import Context, resolve
from midway.core.templates import template
from midway.db import new_id, utcnow
from midway.errors import Conflict, InvalidInput, InvalidState, NotFound
from midway.events.service import NewEvent, emit
from midway.facilities.models import Facility
from midway.inventory import service as inventory
from midway.principal import Principal
from midway.returns.models import ReturnAuthorization, ReturnLine

CONDITIONS = ("new", "opened", "damaged", "defective", "missing")
DISPOSITIONS = ("restock", "refurbish", "dispose", "return_to_merchant")


@dataclass(frozen=True)
class ReturnLineInput:
    """Units of a SKU authorized for return."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class LineOutcome:
    """Per SKU: units received, their condition, or their disposition."""

    sku: str
    quantity: int = 0
    condition: str | None = None
    disposition: str | None = None


def authorize(
    session: Session,
    principal: Principal,
    *,
    facility_code: str,
    rma_number: str,
    lines: Sequence[ReturnLineInput],
    order_id: str | None = None,
    reason: str | None = None,
) -> ReturnAuthorization:
    """The merchant authorizes a return to one of its facilities."""
    principal.require("operator")
    principal.require_kind("merchant", "authorize returns")
    if not rma_number.strip():
        raise InvalidInput("rma_number must not be empty", field="rma_number")
    if not lines:
        raise InvalidInput("a return needs at least one line", field="lines")
    site = agreements.site_for(session, principal.party_id, facility_code)
    skus = catalog.skus_by_code(session, principal.party_id, (ln.sku for ln in lines))
    for i, line in enumerate(lines):
        if line.sku not in skus:
            raise InvalidInput(
                f"unknown SKU '{line.sku}'", field=f"lines[{i}].sku", code="unknown_sku"
            )
        if line.quantity <= 0:
            raise InvalidInput("quantity must be positive", field=f"lines[{i}].quantity")
    if len({ln.sku for ln in lines}) != len(lines):
        raise InvalidInput("each SKU once per return", field="lines")
    if session.scalar(
        select(ReturnAuthorization.id).where(
            ReturnAuthorization.merchant_id == principal.party_id,
            ReturnAuthorization.rma_number == rma_number,
        )
    ):
        raise Conflict(
            f"return '{rma_number}' already exists", code="duplicate_return", field="rma_number"
        )
    rma = ReturnAuthorization(
        id=new_id("rma"),
        merchant_id=principal.party_id,
        order_id=order_id,
        facility_id=site.facility.id,
        provider_id=site.provider_id,
        agreement_id=site.terms.agreement_id if site.terms else None,
        rma_number=rma_number,
        status="authorized",
        reason=reason,
        created_at=utcnow(),
        received_at=None,
        inspected_at=None,
        disposed_at=None,
    )
    session.add(rma)
    session.flush()  # the lines reference it
    session.add_all(
        ReturnLine(
            id=new_id("rtl"),
            return_id=rma.id,
            merchant_id=rma.merchant_id,
            sku=ln.sku,
            quantity=ln.quantity,
            received_quantity=0,
            condition=None,
            disposition=None,
        )
        for ln in lines
    )
    session.flush()
    _event(
        session,
        rma,
        "return.authorized",
        principal,
        {"lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in lines]},
    )
    return rma


def _visible(principal: Principal) -> Any:
    if principal.is_merchant:
        return ReturnAuthorization.merchant_id == principal.party_id
    own = select(Facility.id).where(Facility.party_id == principal.party_id)
    return or_(
        ReturnAuthorization.provider_id == principal.party_id,
        ReturnAuthorization.facility_id.in_(own),
    )


def get(
    session: Session, principal: Principal, return_id: str, *, lock: bool = False
) -> ReturnAuthorization:
    """A return the caller may see."""
    query = select(ReturnAuthorization).where(
        ReturnAuthorization.id == return_id, _visible(principal)
    )
    if lock:
        query = query.with_for_update()
    rma = session.scalar(query)
    if rma is None:
        raise NotFound(f"no return {return_id}")
    return rma


def lines_of(session: Session, return_id: str) -> list[ReturnLine]:
    """The lines of a return, by SKU."""
    return list(
        session.scalars(
            select(ReturnLine).where(ReturnLine.return_id == return_id).order_by(ReturnLine.sku)
        )
    )


def list_returns(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    limit: int,
    after: str | None = None,
) -> list[ReturnAuthorization]:
    """A page of the returns the caller may see, newest first; ``after`` is the last return
    of the previous page."""
    visible = _visible(principal)
    query = paging.page(
        session,
        select(ReturnAuthorization).where(visible),
        (ReturnAuthorization.created_at, ReturnAuthorization.id),
        visible,
        after=after,
        limit=limit,
        newest_first=True,
        what="a return",
    )
    if status:
        query = query.where(ReturnAuthorization.status == status)
    return list(session.scalars(query))


def owner_of(session: Session, rma: ReturnAuthorization, process: str) -> tuple[str, str]:
    """(party id, reason) of who owns a returns process for this return, per the matrix."""
    facility = session.get(Facility, rma.facility_id)
    assert facility is not None
    if rma.agreement_id is None:
        return rma.merchant_id, "the merchant runs this facility"
    site = agreements.site_by_id(session, rma.merchant_id, rma.facility_id)
    matrix = site.terms.matrix if site.terms else template("in_house")
    decision = resolve(matrix, process, Context())
    if decision.owner == "provider":
        return facility.party_id, decision.reason
    return rma.merchant_id, decision.reason


def _require_owner(
    session: Session, principal: Principal, rma: ReturnAuthorization, process: str
) -> None:
    party, reason = owner_of(session, rma, process)
    if party != principal.party_id:
        raise InvalidState(
            f"{process} of this return belongs to the other party ({reason})",
            code="not_process_owner",
        )


def receive(
    session: Session, principal: Principal, return_id: str, lines: Sequence[LineOutcome]
) -> ReturnAuthorization:
    """The facility records the returned units it received (starts return processing)."""
    principal.require("operator")
    rma = get(session, principal, return_id, lock=True)
    facility = session.get(Facility, rma.facility_id)
    assert facility is not None
    if facility.party_id != principal.party_id:
        raise InvalidState(
            "only the party that runs the facility receives returns", code="not_facility_operator"
        )
    if rma.status != "authorized":
        raise InvalidState(
            f"the return is already {rma.status}",
            code="invalid_transition",
            state={"status": rma.status},
        )
    rows = {ln.sku: ln for ln in lines_of(session, rma.id)}
    for i, item in enumerate(lines):
        if item.sku not in rows:
            raise InvalidInput(f"'{item.sku}' is not on this return", field=f"lines[{i}].sku")
        if not 0 <= item.quantity <= rows[item.sku].quantity:
            raise InvalidInput(
                f"between 0 and {rows[item.sku].quantity}", field=f"lines[{i}].quantity"
            )
        rows[item.sku].received_quantity = item.quantity
    rma.status = "received"
    rma.received_at = utcnow()
    session.flush()
    units = sum(r.received_quantity for r in rows.values())
    _event(
        session,
        rma,
        "return.received",
        principal,
        {"received_at": rma.received_at.isoformat(), "units": units},
    )
    return rma


def inspect(
    session: Session, principal: Principal, return_id: str, lines: Sequence[LineOutcome]
) -> ReturnAuthorization:
    """The owner of returns inspection records each SKU's condition."""
    principal.require("operator")
    rma = get(session, principal, return_id, lock=True)
    _require_owner(session, principal, rma, "returns_inspection")
    if rma.status != "received":
        raise InvalidState(
            f"cannot inspect a return that is {rma.status}",
            code="invalid_transition",
            state={"status": rma.status},
        )
    rows = {ln.sku: ln for ln in lines_of(session, rma.id)}
    for i, item in enumerate(lines):
        if item.sku not in rows:
            raise InvalidInput(f"'{item.sku}' is not on this return", field=f"lines[{i}].sku")
        if item.condition not in CONDITIONS:
            raise InvalidInput(
                f"condition must be one of {', '.join(CONDITIONS)}", field=f"lines[{i}].condition"
            )
        rows[item.sku].condition = item.condition
    rma.status = "inspected"
    rma.inspected_at = utcnow()
    session.flush()
    _event(
        session,
        rma,
        "return.inspected",
        principal,
        {"lines": [{"sku": r.sku, "condition": r.condition} for r in rows.values()]},
    )
    return rma


def dispose(
    session: Session, principal: Principal, return_id: str, lines: Sequence[LineOutcome]
) -> ReturnAuthorization:
    """The owner of returns disposition decides each SKU's fate; restocked units go back on
    hand at the facility, and a refund signal is sent."""
    principal.require("operator")
    rma = get(session, principal, return_id, lock=True)
    _require_owner(session, principal, rma, "returns_disposition")
    if rma.status not in ("received", "inspected"):
        raise InvalidState(
            f"cannot dispose of a return that is {rma.status}",
            code="invalid_transition",
            state={"status": rma.status},
        )
    rows = {ln.sku: ln for ln in lines_of(session, rma.id)}
    decided = {item.sku: item for item in lines}
    for i, item in enumerate(lines):
        if item.sku not in rows:
            raise InvalidInput(f"'{item.sku}' is not on this return", field=f"lines[{i}].sku")
        if item.disposition not in DISPOSITIONS:
            raise InvalidInput(
                f"disposition must be one of {', '.join(DISPOSITIONS)}",
                field=f"lines[{i}].disposition",
            )
    missing = [sku for sku, row in rows.items() if row.received_quantity and sku not in decided]
    if missing:
        raise InvalidInput(
            f"decide every received SKU; missing: {', '.join(missing)}", field="lines"
        )
    for sku, item in decided.items():
        row = rows[sku]
        row.disposition = item.disposition
        if item.disposition == "restock":
            inventory.restock_return(
                session,
                rma.merchant_id,
                rma.facility_id,
                sku,
                row.received_quantity,
                reference=rma.id,
                actor=principal.party_id,
            )
    rma.status = "disposed"
    rma.disposed_at = utcnow()
    session.flush()
    _event(
        session,
        rma,
        "return.disposed",
        principal,
        {
            "disposed_at": rma.disposed_at.isoformat(),
            "lines": [
                {"sku": r.sku, "received": r.received_quantity, "disposition": r.disposition}
                for r in rows.values()
            ],
            "refund_due": any(r.received_quantity for r in rows.values()),
        },
    )
    return rma


def _event(
    session: Session,
    rma: ReturnAuthorization,
    kind: str,
    principal: Principal,
    data: dict[str, Any],
) -> None:
    emit(
        session,
        [
            NewEvent(
                type=kind,
                merchant_id=rma.merchant_id,
                provider_id=rma.provider_id,
                subject_type="return",
                subject_id=rma.id,
                actor_party_id=principal.party_id,
                data={
                    "return_id": rma.id,
                    "rma_number": rma.rma_number,
                    "order_id": rma.order_id,
                    "facility_id": rma.facility_id,
                    "agreement_id": rma.agreement_id,
                    **data,
                },
            )
        ],
    )
