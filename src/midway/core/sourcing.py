"""Order sourcing: which facility fulfils each line of an order.

The goal is as few packages as possible, then the cheapest. First we look for one facility
that can ship the whole order; among several, the cheapest wins (package cost + distance cost
+ unit cost, then ``priority``, then ``facility_id`` so the answer is deterministic). If none
can, we split greedily: repeatedly take the facility that covers the most remaining units
(same tie-breaks), allocate what it can, and stop when no facility can add anything. What is
left is backordered. A line splits across facilities only in whole line units, and a kit is
assembled at one facility, so a unit of a kit line needs every component there.

Each facility is used at most once: after it has been given everything it can cover, later
rounds cannot give it more, because other facilities' allocations never add stock. That keeps
the accounting local (a per-facility tally of components drawn by the lines it took) and the
whole thing small enough to run on every order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from midway.core.errors import SourcingError
from midway.core.regions import is_country_code, region_of

_Plan = list[tuple[int, int]]  # (line index, units) a facility would take


@dataclass(frozen=True, slots=True)
class FacilityOption:
    """A facility that could ship the order, with its costs (lower ``priority`` = preferred)."""

    facility_id: str
    country: str
    cost_per_package: Decimal
    cost_per_unit: Decimal
    priority: int = 0


@dataclass(frozen=True, slots=True)
class LineDemand:
    """An order line to source; ``components`` is ``((sku, 1),)`` for a plain SKU.

    For a kit, ``components`` lists each component SKU with its quantity per kit.
    """

    line_id: str
    sku: str
    quantity: int
    components: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class CostModel:
    """Per-package distance costs and the penalty for each extra package.

    The defaults are a first approximation, configurable: what matters is their order
    (same country < same region < another region), not their absolute values.
    """

    same_country: Decimal = Decimal("0")
    same_region: Decimal = Decimal("4")
    other_region: Decimal = Decimal("15")
    split_penalty: Decimal = Decimal("8.759")

    def distance(self, facility_country: str, destination_country: str) -> Decimal:
        """The distance cost of one package from a facility's country to the destination."""
        origin, destination = facility_country.upper(), destination_country.upper()
        if origin == destination:
            return self.same_country
        region = region_of(origin)
        # OTHER is a catch-all, not a place: two OTHER countries are not neighbours.
        if region != "OTHER" and region == region_of(destination):
            return self.same_region
        return self.other_region


@dataclass(frozen=True, slots=True)
class SourcingRequest:
    """An order to source: its lines, the candidate facilities, their stock and eligibility.

    ``available`` maps (facility id, component sku) to units available (missing = 0).
    ``eligible`` maps a line id to the facilities it may use; a missing line may use none.
    """

    destination_country: str
    lines: tuple[LineDemand, ...]
    facilities: tuple[FacilityOption, ...]
    available: Mapping[tuple[str, str], int]
    eligible: Mapping[str, frozenset[str]]


@dataclass(frozen=True, slots=True)
class Allocation:
    """``quantity`` units of a line to be shipped from a facility."""

    line_id: str
    facility_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class SourcingDecision:
    """Where each line ships from, what is backordered, and the trail of why."""

    allocations: tuple[Allocation, ...]
    backordered: Mapping[str, int]
    reason: str
    steps: tuple[str, ...]
    estimated_cost: Decimal = Decimal("0")

    def facilities(self) -> tuple[str, ...]:
        """The facilities used, each once, in the order they were chosen."""
        return tuple(dict.fromkeys(a.facility_id for a in self.allocations))

    def as_dict(self) -> dict[str, object]:
        """A JSON-safe dictionary of the decision (the cost as a string)."""
        return {
            "allocations": [
                {"line_id": a.line_id, "facility_id": a.facility_id, "quantity": a.quantity}
                for a in self.allocations
            ],
            "backordered": dict(self.backordered),
            "facilities": list(self.facilities()),
            "reason": self.reason,
            "steps": list(self.steps),
            "estimated_cost": str(self.estimated_cost),
        }


def reserve_units(line: LineDemand, quantity: int) -> dict[str, int]:
    """Component SKU -> units to reserve for ``quantity`` units of ``line``."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise SourcingError(
            f"quantity must be a non-negative integer, got {quantity!r}", field="quantity"
        )
    return {sku: per_unit * quantity for sku, per_unit in _per_unit(line)}


def _per_unit(line: LineDemand) -> tuple[tuple[str, int], ...]:
    # A kit may list the same component twice; merge so stock is checked against the total.
    merged: dict[str, int] = {}
    for sku, count in line.components:
        merged[sku] = merged.get(sku, 0) + count
    return tuple(merged.items())


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _is_count(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _check_country(code: object, where: str) -> None:
    if not isinstance(code, str) or not is_country_code(code.upper()):
        raise SourcingError(
            f"{where} must be an ISO 3166-1 alpha-2 code, got {code!r}", field=where
        )


def _check(request: SourcingRequest) -> None:
    _check_country(request.destination_country, "destination_country")
    seen: set[str] = set()
    for i, line in enumerate(request.lines):
        where = f"lines[{i}]"
        if not line.line_id or line.line_id in seen:
            raise SourcingError(
                f"{where}.line_id {line.line_id!r} is empty or repeated", field=f"{where}.line_id"
            )
        seen.add(line.line_id)
        if not _is_count(line.quantity, 1):
            raise SourcingError(
                f"{where}.quantity must be a positive integer, got {line.quantity!r}",
                field=f"{where}.quantity",
            )
        if not line.components:
            raise SourcingError(
                f"{where}.components must not be empty", field=f"{where}.components"
            )
        for j, (sku, count) in enumerate(line.components):
            if not sku or not _is_count(count, 1):
                raise SourcingError(
                    f"{where}.components[{j}] needs a sku and a positive count, "
                    f"got {(sku, count)!r}",
                    field=f"{where}.components[{j}]",
                )
    facilities = request.facilities
    if facilities is not _checked_facilities[0]:
        _check_facilities(facilities)
        if isinstance(facilities, tuple):  # immutable: checked once is checked for good
            _checked_facilities[0] = facilities


# The facilities last checked (kept, so the identity test cannot be fooled by a reused id): a
# batch sources all its orders against one network, which is then checked once.
_checked_facilities: list[object] = [None]


def _check_facilities(facilities: Sequence[FacilityOption]) -> None:
    ids: set[str] = set()
    for i, option in enumerate(facilities):
        where = f"facilities[{i}]"
        if not option.facility_id or option.facility_id in ids:
            raise SourcingError(
                f"{where}.facility_id {option.facility_id!r} is empty or repeated",
                field=f"{where}.facility_id",
            )
        ids.add(option.facility_id)
        _check_country(option.country, f"{where}.country")
        for name, value in (
            ("cost_per_package", option.cost_per_package),
            ("cost_per_unit", option.cost_per_unit),
        ):
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise SourcingError(
                    f"{where}.{name} must be a non-negative Decimal, got {value!r}",
                    field=f"{where}.{name}",
                )


@dataclass(slots=True)
class _Candidate:
    option: FacilityOption
    fixed: Decimal  # package + distance cost
    indexes: list[int]  # the lines this facility is eligible for
    stock: dict[str, int]  # component sku -> units, oversold (negative) stock as none


def _plan(
    candidate: _Candidate,
    needs: Sequence[tuple[tuple[str, int], ...]],
    remaining: Sequence[int],
) -> tuple[_Plan, int]:
    """What one facility could take of the remaining demand, lines in order."""
    stock = candidate.stock
    drawn: dict[str, int] = {}
    plan: _Plan = []
    covered = 0
    for i in candidate.indexes:
        units = remaining[i]
        if units == 0:
            continue
        for sku, per_unit in needs[i]:
            can = (stock[sku] - drawn.get(sku, 0)) // per_unit
            if can < units:
                units = can
                if units <= 0:
                    break
        if units <= 0:
            continue
        for sku, per_unit in needs[i]:
            drawn[sku] = drawn.get(sku, 0) + units * per_unit
        plan.append((i, units))
        covered += units
    return plan, covered


def _candidates(
    request: SourcingRequest,
    needs: Sequence[tuple[tuple[str, int], ...]],
    cost: CostModel,
    steps: list[str],
) -> list[_Candidate]:
    candidates: list[_Candidate] = []
    for option in request.facilities:
        facility_id = option.facility_id
        indexes = [
            i
            for i, line in enumerate(request.lines)
            if facility_id in request.eligible.get(line.line_id, ())
        ]
        if not indexes:
            steps.append(f"{facility_id}: not eligible for any line")
            continue
        stock = {
            sku: max(request.available.get((facility_id, sku), 0), 0)
            for i in indexes
            for sku, _ in needs[i]
        }
        fixed = option.cost_per_package + cost.distance(option.country, request.destination_country)
        candidates.append(_Candidate(option, fixed, indexes, stock))
    return candidates


def source(request: SourcingRequest, cost: CostModel = CostModel()) -> SourcingDecision:
    """Choose the facilities that ship each line of ``request``; see the module docstring."""
    _check(request)
    lines = request.lines
    if not lines:
        return SourcingDecision((), MappingProxyType({}), "order has no lines", ())
    needs = [_per_unit(line) for line in lines]
    remaining = [line.quantity for line in lines]
    total = sum(remaining)
    steps: list[str] = []
    candidates = _candidates(request, needs, cost, steps)

    chosen: list[tuple[FacilityOption, _Plan, Decimal]] = []
    whole: list[tuple[str, Decimal]] = []
    while candidates:
        best: tuple[_Candidate, tuple[int, Decimal, int, str], _Plan, Decimal] | None = None
        first_round = not chosen
        useful: list[_Candidate] = []
        for candidate in candidates:
            option = candidate.option
            plan, covered = _plan(candidate, needs, remaining)
            if covered == 0:
                # It cannot build one unit of any of its lines from full stock, and less
                # remaining demand will not change that: drop it for good.
                if first_round:
                    steps.append(f"{option.facility_id}: no stock for any eligible line")
                continue
            useful.append(candidate)
            price = candidate.fixed + option.cost_per_unit * covered
            if first_round:
                if covered == total:
                    whole.append((option.facility_id, price))
                    what = f"all {len(lines)} lines" if len(lines) > 1 else "the only line"
                    steps.append(f"{option.facility_id} covers {what} (cost {price:.2f})")
                else:
                    steps.append(f"{option.facility_id} covers {covered} of {total} units")
            key = (-covered, price, option.priority, option.facility_id)
            if best is None or key < best[1]:
                best = (candidate, key, plan, price)
        if best is None:
            break
        picked, _, plan, price = best
        option = picked.option
        if chosen:
            taken = ", ".join(f"{lines[i].line_id} x{units}" for i, units in plan)
            steps.append(f"{option.facility_id} takes {taken}")
        chosen.append((option, plan, price))
        for i, units in plan:
            remaining[i] -= units
        if not any(remaining):
            break
        candidates = [c for c in useful if c is not picked]

    allocations = tuple(
        Allocation(lines[i].line_id, option.facility_id, units)
        for option, plan, _ in chosen
        for i, units in plan
    )
    backordered = {line.line_id: left for line, left in zip(lines, remaining, strict=True) if left}
    for line, left in zip(lines, remaining, strict=True):
        if left:
            why = (
                "no eligible facility has stock for it"
                if request.eligible.get(line.line_id)
                else "no facility is eligible for it"
            )
            steps.append(f"line {line.line_id}: {_plural(left, 'unit')} backordered: {why}")

    estimated = sum((price for _, _, price in chosen), Decimal("0"))
    if len(chosen) > 1:
        estimated += cost.split_penalty * (len(chosen) - 1)
    reason = _reason(chosen, whole, sum(backordered.values()))
    steps.append(reason)
    return SourcingDecision(
        allocations=allocations,
        backordered=MappingProxyType(backordered),
        reason=reason,
        steps=tuple(steps),
        estimated_cost=estimated,
    )


def _reason(
    chosen: Sequence[tuple[FacilityOption, _Plan, Decimal]],
    whole: Sequence[tuple[str, Decimal]],
    backordered_units: int,
) -> str:
    if not chosen:
        return f"nothing can be allocated; {_plural(backordered_units, 'unit')} backordered"
    if whole:
        winner = chosen[0][0].facility_id
        if len(whole) == 1:
            return f"{winner} covers the whole order"
        return f"{winner} covers the whole order (the cheapest of {len(whole)} that could)"
    used = ", ".join(
        f"{option.facility_id} ({_plural(len(plan), 'line')})" for option, plan, _ in chosen
    )
    text = (
        f"no single facility covers the order; split over {used}"
        if len(chosen) > 1
        else f"no single facility covers the order; sourced from {used}"
    )
    if backordered_units:
        text += f"; {_plural(backordered_units, 'unit')} backordered"
    return text
