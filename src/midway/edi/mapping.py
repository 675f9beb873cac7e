"""What every inbound mapping shares: the context a set is applied in, how a set is refused,
and reading products, quantities, dates, parties and places out of X12 segments.

A mapping either returns :class:`Applied` (what it created or changed) or raises
:class:`SetRejected` naming the segment and element at fault, so that the 997 and the
diagnostics file can point at it. Errors of Midway's services are translated the same way
through the locations a mapping registers with :meth:`Context.at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from midway.agreements import service as agreements
from midway.edi.models import EdiPartner
from midway.errors import MidwayError
from midway.integrations.edi import Loop, Segment, TransactionSet
from midway.principal import Principal

# Product ID qualifiers tried after the partner's own, most specific first: the buyer's or
# seller's item number, then vendor and catalogue numbers, then barcodes.
PRODUCT_QUALIFIERS = ("SK", "VN", "BP", "IN", "VP", "MG", "CB", "UP", "UK", "UA", "EN")


class SetRejected(Exception):
    """A transaction set Midway will not apply, with where the problem is.

    ``segment`` and ``element`` locate it (the 997 then carries AK3/AK4 notes); ``value`` is
    the offending value; ``code`` is Midway's stable error code.
    """

    def __init__(
        self,
        message: str,
        *,
        segment: Segment | None = None,
        element: int | None = None,
        value: str | None = None,
        code: str = "edi_rejected",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.segment = segment
        self.element = element
        self.value = value
        self.code = code


@dataclass
class Applied:
    """What a set did: ids of the Midway objects it created or changed, and a short note."""

    objects: dict[str, Any]
    note: str = ""
    merchant_id: str | None = None


@dataclass
class Context:
    """Everything a mapping needs: the session, the partner, who it acts as, and the clock."""

    session: Session
    partner: EdiPartner
    principal: Principal
    now: datetime
    document_id: str = ""
    where: dict[str, tuple[Segment, int | None]] = field(default_factory=dict)
    merchant_id: str | None = None

    def at(self, path: str, segment: Segment | None, element: int | None = None) -> None:
        """Remember which segment (and element) a service input field came from."""
        if segment is not None:
            self.where[path] = (segment, element)

    def locate(self, path: str | None) -> tuple[Segment | None, int | None]:
        """The segment and element behind a service field path (the longest known prefix)."""
        if not path:
            return None, None
        best = ""
        for known in self.where:
            if (path == known or path.startswith(known + ".") or path.startswith(known + "[")) and (
                len(known) > len(best)
            ):
                best = known
        return self.where[best] if best else (None, None)

    def require_kind(self, kind: str, what: str, header: Segment | None) -> None:
        """Refuse the set unless the partner's party is a ``kind``."""
        if self.principal.kind != kind:
            raise SetRejected(
                f"{what} come from a {kind}'s system; this partner belongs to a "
                f"{self.principal.kind}",
                segment=header,
                code="wrong_party_kind",
            )


def header(tset: TransactionSet, segment_id: str) -> Segment:
    """The set's beginning segment (the engine has already rejected a set without it)."""
    found = tset.segment(segment_id)
    if found is None:
        raise SetRejected(f"the {tset.id} has no {segment_id} segment", code="missing_segment")
    return found


def segments(container: TransactionSet | Loop, segment_id: str) -> list[Segment]:
    """Every segment with this ID anywhere below, in document order."""
    return [s for s in container.walk() if s.elements[0] == segment_id]


def product(segment: Segment, pairs: Sequence[int], preferred: str) -> tuple[str, int] | None:
    """The product ID of an item segment and its element position.

    ``pairs`` are the positions of the (qualifier, ID) pairs; the partner's ``preferred``
    qualifier wins, then :data:`PRODUCT_QUALIFIERS`, then whatever pair comes first.
    """
    found: dict[str, tuple[str, int]] = {}
    first: tuple[str, int] | None = None
    for position in pairs:
        qualifier, value = segment.get(position).strip(), segment.get(position + 1).strip()
        if qualifier and value:
            found.setdefault(qualifier, (value, position + 1))
            first = first or (value, position + 1)
    for qualifier in (preferred, *PRODUCT_QUALIFIERS):
        if qualifier in found:
            return found[qualifier]
    return first


def sku_of(ctx: Context, segment: Segment, pairs: Sequence[int], path: str) -> str:
    """The SKU an item segment names, or the set is refused."""
    found = product(segment, pairs, ctx.partner.item_qualifier)
    if found is None:
        raise SetRejected(
            f"{segment.id} names no product (no qualifier and ID pair)",
            segment=segment,
            code="no_product_id",
        )
    ctx.at(path, segment, found[1])
    return found[0]


def quantity(
    segment: Segment, position: int, *, allow_zero: bool = False, signed: bool = False
) -> int:
    """A whole number of units from a decimal element."""
    raw = segment.get(position).strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    whole = value.is_finite() and value == value.to_integral_value()
    if whole and (value > 0 or (allow_zero and value == 0) or (signed and value != 0)):
        return int(value)
    if not whole:
        why = "a whole number of units"
    elif signed:
        why = "a non-zero whole number"
    else:
        why = "a positive whole number" if not allow_zero else "zero or more"
    raise SetRejected(
        f"{segment.id}{position:02d} {raw!r} must be {why}",
        segment=segment,
        element=position,
        value=raw,
        code="invalid_quantity",
    )


def is_zero(segment: Segment, position: int) -> bool:
    """True when a numeric element says zero (``0``, ``0.00``, ``-0``)."""
    try:
        return Decimal(segment.get(position).strip()) == 0
    except InvalidOperation:
        return False


def moment(date: str, clock: str = "", *, end_of_day: bool = False) -> datetime | None:
    """A CCYYMMDD date (and HHMM[SS] time) as UTC; a date alone is the start of the day, or
    its last second when it is a deadline."""
    date = date.strip()
    if len(date) != 8 or not date.isdigit():
        return None
    try:
        day = datetime.strptime(date, "%Y%m%d").date()
    except ValueError:
        return None
    digits = clock.strip()
    at = time(23, 59, 59) if end_of_day else time(0, 0)
    if len(digits) >= 4 and digits[:4].isdigit():
        seconds = int(digits[4:6]) if len(digits) >= 6 and digits[4:6].isdigit() else 0
        try:
            at = time(int(digits[:2]), int(digits[2:4]), seconds)
        except ValueError:
            return None
    return datetime.combine(day, at, tzinfo=UTC)


def dated(
    container: TransactionSet, qualifiers: Sequence[str], *, end_of_day: bool = False
) -> datetime | None:
    """The first G62 date among ``qualifiers`` (in their order of preference)."""
    by_qualifier = {s.get(1): s for s in container.segments("G62") if s.get(1)}
    for qualifier in qualifiers:
        found = by_qualifier.get(qualifier)
        if found is not None:
            return moment(found.get(2), found.get(4), end_of_day=end_of_day)
    return None


def party(container: TransactionSet | Loop, *entities: str) -> Loop | None:
    """The first N1 loop whose N101 is one of ``entities`` (in their order of preference)."""
    loops = container.loops("N1")
    for entity in entities:
        for loop in loops:
            if loop.trigger.get(1) == entity:
                return loop
    return None


def facility_code(
    ctx: Context,
    container: TransactionSet | Loop,
    merchant_id: str | None,
    default: str | None = None,
) -> str:
    """The facility a document (or one of its loops) is about: the warehouse N1 (N104, else
    N102) when it names a facility serving the merchant (or run by the partner's party),
    else ``default``, else the partner's default facility."""
    loop = party(container, "WH", "SF")
    candidates = [loop.trigger.get(4).strip(), loop.trigger.get(2).strip()] if loop else []
    owner = merchant_id or ctx.principal.party_id
    for code in (c for c in candidates if c):
        try:
            site = agreements.site_for(ctx.session, owner, code)
        except MidwayError:  # unknown here, or a code several parties use
            continue
        if ctx.principal.is_merchant or site.operator_id == ctx.principal.party_id:
            return code
    if default or ctx.partner.facility_code:
        return default or ctx.partner.facility_code or ""
    raise SetRejected(
        "no facility: name it in N1*WH (N104) or give the partner a default facility",
        segment=loop.trigger if loop else None,
        element=4 if loop else None,
        value=candidates[0] if candidates else None,
        code="unknown_facility",
    )


def depositor(ctx: Context, tset: TransactionSet, facility_code_: str | None) -> str:
    """Whose stock a provider's document is about (the merchant, "depositor").

    A merchant's own system speaks for the merchant. For a provider: the N1*DE code (N104,
    else N102) through the partner's depositor table or as a Midway merchant id; without
    one, the only merchant whose active agreement covers the facility.
    """
    if ctx.principal.is_merchant:
        return ctx.principal.party_id
    served = _served_merchants(ctx)
    loop = party(tset, "DE")
    if loop is not None:
        for position in (4, 2):
            code = loop.trigger.get(position).strip()
            if not code:
                continue
            mapped = ctx.partner.depositors.get(code)
            if isinstance(mapped, str) and mapped in served:
                return mapped
            if code in served:
                return code
        raise SetRejected(
            f"depositor {loop.trigger.get(4) or loop.trigger.get(2)!r} is not a merchant you "
            "serve (map it in the partner's depositors)",
            segment=loop.trigger,
            element=4 if loop.trigger.get(4) else 2,
            value=loop.trigger.get(4) or loop.trigger.get(2),
            code="unknown_depositor",
        )
    candidates = sorted(served)
    if facility_code_ is not None and len(candidates) > 1:
        candidates = [m for m in candidates if _covers(ctx, m, facility_code_)]
    if len(candidates) == 1:
        return candidates[0]
    raise SetRejected(
        "say whose stock this is: an N1*DE with the merchant's code",
        code="depositor_required",
    )


def _served_merchants(ctx: Context) -> set[str]:
    return {
        a.merchant_id
        for a in agreements.list_visible(ctx.session, ctx.principal)
        if a.provider_id == ctx.principal.party_id and a.active_version is not None
    }


def _covers(ctx: Context, merchant_id: str, code: str) -> bool:
    try:
        site = agreements.site_for(ctx.session, merchant_id, code)
    except MidwayError:
        return False
    return site.provider_id == ctx.principal.party_id
