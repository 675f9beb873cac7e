"""Order sourcing: hand-worked cases, regions, and invariants over random requests."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from midway.core.errors import SourcingError
from midway.core.regions import COUNTRY_CODES, is_country_code, region_of
from midway.core.sourcing import (
    CostModel,
    FacilityOption,
    LineDemand,
    SourcingDecision,
    SourcingRequest,
    reserve_units,
    source,
)


def fac(
    facility_id: str, country: str = "US", package: str = "5", unit: str = "0", priority: int = 0
) -> FacilityOption:
    return FacilityOption(facility_id, country, Decimal(package), Decimal(unit), priority)


def line(
    line_id: str, sku: str, quantity: int, components: tuple[tuple[str, int], ...] | None = None
) -> LineDemand:
    return LineDemand(line_id, sku, quantity, components or ((sku, 1),))


def request(
    lines: Iterable[LineDemand],
    facilities: Iterable[FacilityOption],
    available: Mapping[tuple[str, str], int],
    *,
    destination: str = "US",
    eligible: Mapping[str, Iterable[str]] | None = None,
) -> SourcingRequest:
    lines, facilities = tuple(lines), tuple(facilities)
    everywhere = frozenset(f.facility_id for f in facilities)
    chosen = (
        {ln.line_id: everywhere for ln in lines}
        if eligible is None
        else {k: frozenset(v) for k, v in eligible.items()}
    )
    return SourcingRequest(destination, lines, facilities, dict(available), chosen)


def placed(decision: SourcingDecision) -> list[tuple[str, str, int]]:
    return [(a.line_id, a.facility_id, a.quantity) for a in decision.allocations]


# --- hand-worked cases -------------------------------------------------------------------


def test_single_facility_beats_a_cheaper_split() -> None:
    lines = [line("l1", "A", 1), line("l2", "B", 1)]
    facilities = [fac("F-ALL", package="40"), fac("F-A", package="1"), fac("F-B", package="1")]
    stock = {("F-ALL", "A"): 1, ("F-ALL", "B"): 1, ("F-A", "A"): 5, ("F-B", "B"): 5}
    decision = source(request(lines, facilities, stock))
    assert placed(decision) == [("l1", "F-ALL", 1), ("l2", "F-ALL", 1)]
    assert decision.backordered == {}
    assert decision.reason == "F-ALL covers the whole order"
    assert "F-ALL covers all 2 lines (cost 40.00)" in decision.steps
    assert decision.estimated_cost == Decimal("40")


def test_same_country_then_same_region_then_elsewhere() -> None:
    lines = [line("l1", "A", 2)]
    stock = {("F-DE", "A"): 9, ("F-CA", "A"): 9, ("F-US", "A"): 9}
    everyone = [fac("F-DE", "DE"), fac("F-CA", "CA"), fac("F-US", "US")]
    decision = source(request(lines, everyone, stock))
    assert decision.facilities() == ("F-US",)
    assert decision.reason == "F-US covers the whole order (the cheapest of 3 that could)"
    no_us = [fac("F-DE", "DE"), fac("F-CA", "CA")]
    decision = source(request(lines, no_us, stock))
    assert decision.facilities() == ("F-CA",)
    # 5 per package + 4 for the same region (CA and US are both NA).
    assert "F-CA covers the only line (cost 9.00)" in decision.steps
    assert "F-DE covers the only line (cost 20.00)" in decision.steps


def test_cost_model_is_configurable() -> None:
    lines = [line("l1", "A", 1)]
    stock = {("F-DE", "A"): 1, ("F-US", "A"): 1}
    facilities = [fac("F-US", "US", package="14"), fac("F-DE", "DE", package="1")]
    assert source(request(lines, facilities, stock)).facilities() == ("F-US",)  # 14 < 1 + 15
    cheap_abroad = CostModel(other_region=Decimal("2"))
    assert source(request(lines, facilities, stock), cheap_abroad).facilities() == ("F-DE",)


def test_unit_cost_counts_every_unit() -> None:
    lines = [line("l1", "A", 10)]
    stock = {("F1", "A"): 10, ("F2", "A"): 10}
    # F1: 5 + 10 x 1 = 15; F2: 12 + 10 x 0.2 = 14.
    facilities = [fac("F1", package="5", unit="1"), fac("F2", package="12", unit="0.2")]
    assert source(request(lines, facilities, stock)).facilities() == ("F2",)


def test_ties_fall_to_priority_then_id() -> None:
    lines = [line("l1", "A", 1)]
    stock = {("F-B", "A"): 1, ("F-A", "A"): 1, ("F-C", "A"): 1}
    same = [fac("F-B"), fac("F-A"), fac("F-C")]
    assert source(request(lines, same, stock)).facilities() == ("F-A",)
    preferred = [fac("F-B"), fac("F-A", priority=2), fac("F-C", priority=-1)]
    assert source(request(lines, preferred, stock)).facilities() == ("F-C",)


def test_ineligible_facilities_are_skipped() -> None:
    lines = [line("l1", "A", 1), line("l2", "B", 1)]
    facilities = [fac("F-CHEAP", package="0"), fac("F-OK", package="30")]
    stock = {("F-CHEAP", "A"): 5, ("F-CHEAP", "B"): 5, ("F-OK", "A"): 5, ("F-OK", "B"): 5}
    eligible = {"l1": {"F-OK", "F-CHEAP"}, "l2": {"F-OK"}}
    decision = source(request(lines, facilities, stock, eligible=eligible))
    assert placed(decision) == [("l1", "F-OK", 1), ("l2", "F-OK", 1)]
    only_l2 = {"l2": {"F-CHEAP"}}
    decision = source(request(lines, facilities, stock, eligible=only_l2))
    assert placed(decision) == [("l2", "F-CHEAP", 1)]
    assert decision.backordered == {"l1": 1}
    assert "F-OK: not eligible for any line" in decision.steps
    assert "line l1: 1 unit backordered: no facility is eligible for it" in decision.steps


def test_two_lines_of_one_sku_share_the_stock() -> None:
    lines = [line("l1", "A", 3), line("l2", "A", 3)]
    facilities = [fac("F-NEAR"), fac("F-FAR", "DE")]
    stock = {("F-NEAR", "A"): 4, ("F-FAR", "A"): 6}
    # Each line alone fits F-NEAR, both together do not: the whole order goes to F-FAR.
    assert source(request(lines, facilities, stock)).facilities() == ("F-FAR",)
    stock = {("F-NEAR", "A"): 4, ("F-FAR", "A"): 3}
    decision = source(request(lines, facilities, stock))
    assert placed(decision) == [("l1", "F-NEAR", 3), ("l2", "F-NEAR", 1), ("l2", "F-FAR", 2)]
    assert decision.reason == (
        "no single facility covers the order; split over F-NEAR (2 lines), F-FAR (1 line)"
    )
    # 5 + (5 + 15) for the two packages, plus one split penalty.
    assert decision.estimated_cost == Decimal("25") + CostModel().split_penalty


def test_kit_is_assembled_at_one_facility() -> None:
    kit = line("l1", "KIT", 2, (("A", 1), ("B", 2)))
    facilities = [fac("F1"), fac("F2")]
    # F1 has the A's and F2 the B's: no facility can build a single kit.
    stock = {("F1", "A"): 5, ("F1", "B"): 1, ("F2", "B"): 10}
    decision = source(request([kit], facilities, stock))
    assert decision.allocations == ()
    assert decision.backordered == {"l1": 2}
    assert decision.reason == "nothing can be allocated; 2 units backordered"
    assert "line l1: 2 units backordered: no eligible facility has stock for it" in decision.steps
    stock[("F2", "A")] = 1
    decision = source(request([kit], facilities, stock))
    assert placed(decision) == [("l1", "F2", 1)]
    assert decision.backordered == {"l1": 1}


def test_kit_and_plain_line_draw_on_the_same_component() -> None:
    kit = line("l1", "KIT", 2, (("A", 1), ("B", 1)))
    plain = line("l2", "A", 2)
    facilities = [fac("F1"), fac("F2", "MX")]
    stock = {("F1", "A"): 3, ("F1", "B"): 2, ("F2", "A"): 5}
    decision = source(request([kit, plain], facilities, stock))
    assert placed(decision) == [("l1", "F1", 2), ("l2", "F1", 1), ("l2", "F2", 1)]
    assert "F2 takes l2 x1" in decision.steps


def test_greedy_takes_the_biggest_share_first() -> None:
    lines = [line("l1", "A", 5), line("l2", "B", 2)]
    facilities = [fac("F-SMALL", package="0"), fac("F-BIG", package="50"), fac("F-B", "JP")]
    stock = {("F-SMALL", "A"): 1, ("F-SMALL", "B"): 2, ("F-BIG", "A"): 5, ("F-B", "B"): 2}
    decision = source(request(lines, facilities, stock))
    assert decision.facilities() == ("F-BIG", "F-SMALL")
    assert placed(decision) == [("l1", "F-BIG", 5), ("l2", "F-SMALL", 2)]
    assert "F-SMALL covers 3 of 7 units" in decision.steps


def test_partial_single_facility_with_backorder() -> None:
    lines = [line("l1", "A", 4), line("l2", "B", 3)]
    stock = {("F1", "A"): 4}
    decision = source(request(lines, [fac("F1")], stock))
    assert placed(decision) == [("l1", "F1", 4)]
    assert decision.backordered == {"l2": 3}
    assert decision.reason == (
        "no single facility covers the order; sourced from F1 (1 line); 3 units backordered"
    )


def test_negative_or_missing_stock_counts_as_none() -> None:
    decision = source(request([line("l1", "A", 1)], [fac("F1")], {("F1", "A"): -3}))
    assert decision.backordered == {"l1": 1}


def test_empty_order() -> None:
    decision = source(request([], [fac("F1")], {}))
    assert decision.allocations == ()
    assert decision.backordered == {}
    assert decision.reason == "order has no lines"


def test_decision_as_dict_is_json_safe() -> None:
    lines = [line("l1", "A", 1), line("l2", "B", 1)]
    stock = {("F1", "A"): 1, ("F2", "B"): 1}
    decision = source(request(lines, [fac("F1"), fac("F2")], stock))
    data = decision.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["facilities"] == ["F1", "F2"]
    assert data["allocations"] == [
        {"line_id": "l1", "facility_id": "F1", "quantity": 1},
        {"line_id": "l2", "facility_id": "F2", "quantity": 1},
    ]
    assert data["estimated_cost"] == "18.759"


@pytest.mark.parametrize(
    ("lines", "facilities", "destination", "field"),
    [
        ([line("l1", "A", 0)], [fac("F1")], "US", "lines[0].quantity"),
        ([line("l1", "A", 1), line("l1", "B", 1)], [fac("F1")], "US", "lines[1].line_id"),
        ([line("l1", "K", 1, (("A", 0),))], [fac("F1")], "US", "lines[0].components[0]"),
        ([LineDemand("l1", "K", 1, ())], [fac("F1")], "US", "lines[0].components"),
        ([line("l1", "A", 1)], [fac("F1"), fac("F1")], "US", "facilities[1].facility_id"),
        ([line("l1", "A", 1)], [fac("F1", "XX")], "US", "facilities[0].country"),
        ([line("l1", "A", 1)], [fac("F1", unit="-1")], "US", "facilities[0].cost_per_unit"),
        ([line("l1", "A", 1)], [fac("F1")], "USA", "destination_country"),
    ],
)
def test_bad_requests_name_the_field(
    lines: list[LineDemand], facilities: list[FacilityOption], destination: str, field: str
) -> None:
    with pytest.raises(SourcingError) as caught:
        source(request(lines, facilities, {}, destination=destination))
    assert caught.value.field == field
    assert caught.value.code == "invalid_sourcing_request"


def test_a_network_is_checked_once_but_a_bad_one_every_time() -> None:
    """A batch sources every order against the same facilities: once they passed, later
    requests with that very tuple skip their check; a bad tuple is refused on every use."""
    good = (fac("F1"),)
    bad = (fac("F1", unit="-1"),)
    for _ in range(2):
        with pytest.raises(SourcingError) as caught:
            source(SourcingRequest("US", (line("l1", "A", 1),), bad, {}, {"l1": frozenset()}))
        assert caught.value.field == "facilities[0].cost_per_unit"
    for _ in range(2):
        decision = source(request([line("l1", "A", 1)], good, {("F1", "A"): 1}))
        assert placed(decision) == [("l1", "F1", 1)]


def test_reserve_units() -> None:
    kit = line("l1", "KIT", 1, (("A", 1), ("B", 2), ("A", 1)))
    assert reserve_units(kit, 3) == {"A": 6, "B": 6}
    assert reserve_units(line("l2", "C", 9), 4) == {"C": 4}
    with pytest.raises(SourcingError) as caught:
        reserve_units(kit, -1)
    assert caught.value.field == "quantity"


# --- regions -----------------------------------------------------------------------------


def test_country_codes() -> None:
    assert len(COUNTRY_CODES) == 249
    assert len(set(COUNTRY_CODES)) == 249
    assert all(len(c) == 2 and c.isupper() for c in COUNTRY_CODES)
    assert is_country_code("GB")
    assert not is_country_code("UK")
    assert not is_country_code("gb")


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("US", "NA"),
        ("mx", "NA"),
        ("DE", "EU"),
        ("GB", "EU"),
        ("CH", "EU"),
        ("LI", "EU"),
        ("BR", "LATAM"),
        ("PR", "LATAM"),
        ("JP", "APAC"),
        ("AU", "APAC"),
        ("AE", "MEA"),
        ("ZA", "MEA"),
        ("RS", "OTHER"),
        ("AQ", "OTHER"),
        ("ZZ", "OTHER"),
    ],
)
def test_region_of(country: str, region: str) -> None:
    assert region_of(country) == region


def test_other_is_never_the_same_region() -> None:
    model = CostModel()
    assert model.distance("RS", "UA") == model.other_region
    assert model.distance("FR", "ES") == model.same_region
    assert model.distance("fr", "FR") == model.same_country


# --- invariants over random requests -----------------------------------------------------

SKUS = ("A", "B", "C")
FACILITY_IDS = ("F0", "F1", "F2", "F3")


@st.composite
def sourcing_requests(draw: st.DrawFn) -> SourcingRequest:
    facility_count = draw(st.integers(min_value=1, max_value=4))
    facilities = tuple(
        FacilityOption(
            FACILITY_IDS[i],
            draw(st.sampled_from(("US", "CA", "DE", "JP"))),
            Decimal(draw(st.integers(min_value=0, max_value=20))),
            Decimal(draw(st.integers(min_value=0, max_value=3))),
            draw(st.integers(min_value=0, max_value=2)),
        )
        for i in range(facility_count)
    )
    component = st.tuples(st.sampled_from(SKUS), st.integers(min_value=1, max_value=3))
    lines = tuple(
        LineDemand(
            f"l{i}",
            f"P{i}",
            draw(st.integers(min_value=1, max_value=6)),
            tuple(draw(st.lists(component, min_size=1, max_size=3))),
        )
        for i in range(draw(st.integers(min_value=1, max_value=4)))
    )
    ids = [f.facility_id for f in facilities]
    eligible = {
        ln.line_id: frozenset(draw(st.lists(st.sampled_from(ids), unique=True)))
        for ln in lines
        if draw(st.booleans()) or draw(st.booleans())
    }
    available = {
        (fid, sku): draw(st.integers(min_value=-1, max_value=12)) for fid in ids for sku in SKUS
    }
    return SourcingRequest(
        draw(st.sampled_from(("US", "FR"))), lines, facilities, available, eligible
    )


def needs(ln: LineDemand) -> Counter[str]:
    per_unit: Counter[str] = Counter()
    for sku, count in ln.components:
        per_unit[sku] += count
    return per_unit


def can_cover_everything(req: SourcingRequest, facility_id: str) -> bool:
    total: Counter[str] = Counter()
    for ln in req.lines:
        if facility_id not in req.eligible.get(ln.line_id, frozenset()):
            return False
        for sku, count in needs(ln).items():
            total[sku] += count * ln.quantity
    return all(req.available.get((facility_id, sku), 0) >= n for sku, n in total.items())


@settings(max_examples=300, deadline=None)
@given(sourcing_requests())
def test_sourcing_invariants(req: SourcingRequest) -> None:
    decision = source(req)
    by_id = {ln.line_id: ln for ln in req.lines}
    drawn: Counter[tuple[str, str]] = Counter()
    allocated: Counter[str] = Counter()
    for a in decision.allocations:
        assert a.quantity > 0
        assert a.facility_id in req.eligible.get(a.line_id, frozenset())
        allocated[a.line_id] += a.quantity
        for sku, count in needs(by_id[a.line_id]).items():
            drawn[(a.facility_id, sku)] += count * a.quantity
    for key, units in drawn.items():
        assert units <= req.available.get(key, 0), key
    for ln in req.lines:
        assert allocated[ln.line_id] + decision.backordered.get(ln.line_id, 0) == ln.quantity
    assert all(units > 0 for units in decision.backordered.values())

    # Nothing left on the table: no eligible facility could build one more unit of a
    # backordered line from what remains.
    for line_id in decision.backordered:
        for facility_id in req.eligible.get(line_id, frozenset()):
            if facility_id not in FACILITY_IDS[: len(req.facilities)]:
                continue
            left = {
                sku: req.available.get((facility_id, sku), 0) - drawn[(facility_id, sku)]
                for sku in SKUS
            }
            assert any(left[sku] < count for sku, count in needs(by_id[line_id]).items())

    if any(can_cover_everything(req, f.facility_id) for f in req.facilities):
        assert len(decision.facilities()) == 1
        assert decision.backordered == {}
