"""KPI ratios, percentiles (numpy 'linear' definition) and the perfect order index."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from midway.core.kpi import (
    WERC_BEST_IN_CLASS,
    WERC_BEST_IN_CLASS_LABEL,
    DurationSummary,
    KpiError,
    Ratio,
    percentile,
    perfect_order_index,
    summarize_durations,
)

# --- Ratio ---


def test_ratio_value_and_percent() -> None:
    ratio = Ratio(997, 1000)
    assert ratio.value() == Decimal("0.997")
    percent = ratio.percent()
    assert str(percent) == "99.70"


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (1, 1, "100.00"),
        (0, 5, "0.00"),
        (1, 3, "33.33"),  # 33.333...
        (2, 3, "66.67"),  # 66.666...
        (1, 32, "3.12"),  # exactly 3.125: half-even keeps the even 2
        (3, 32, "9.38"),  # exactly 9.375: half-even goes up to the even 8
        (1, 160, "0.62"),  # exactly 0.625
        (99, 101, "98.02"),  # 98.0198...
    ],
)
def test_percent_rounds_half_even(numerator: int, denominator: int, expected: str) -> None:
    assert str(Ratio(numerator, denominator).percent()) == expected


def test_empty_ratio_has_no_value() -> None:
    empty = Ratio(0, 0)
    assert empty.value() is None
    assert empty.percent() is None


def test_adding_ratios_sums_numerators_and_denominators() -> None:
    busy_day = Ratio(99, 100)
    quiet_day = Ratio(0, 1)
    combined = busy_day + quiet_day
    assert combined == Ratio(99, 101)
    # Averaging the two percentages would claim 49.5 %; the combined ratio is 98.02 %.
    assert combined.percent() == Decimal("98.02")
    assert Ratio(0, 0) + Ratio(3, 4) == Ratio(3, 4)


def test_adding_a_non_ratio_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = Ratio(1, 2) + 1


@pytest.mark.parametrize(
    ("numerator", "denominator", "field", "message"),
    [
        (5, 4, "numerator", "must not exceed denominator"),
        (-1, 4, "numerator", "must not be negative"),
        (0, -4, "denominator", "must not be negative"),
        (True, 4, "numerator", "must be an int"),
        (Decimal(1), 4, "numerator", "must be an int"),
    ],
)
def test_bad_ratios_are_rejected(
    numerator: object, denominator: object, field: str, message: str
) -> None:
    with pytest.raises(KpiError, match=message) as info:
        Ratio(numerator, denominator)  # type: ignore[arg-type]
    assert info.value.field == field


# --- percentile, checked against hand-computed numpy 'linear' values ---


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 50, Decimal("2.5")),  # position 1.5
        ([15, 20, 35, 40, 50], 40, Decimal(29)),  # position 1.6: 20 + 0.6 * 15
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, Decimal("9.1")),  # position 8.1
        ([3, 1, 2], 50, Decimal(2)),  # unsorted input
        ([3, 1, 2], 0, Decimal(1)),
        ([3, 1, 2], 100, Decimal(3)),
        ([7], 95, Decimal(7)),
        ([0.1, 0.2], 50, Decimal("0.15")),  # floats read by their repr, not binary value
        ([Decimal("10.00"), Decimal("20.00")], 25, Decimal("12.5")),
        ([10, 20], Decimal("12.5"), Decimal("11.25")),
        ([10, 20], 37.5, Decimal("13.75")),
    ],
)
def test_percentile_of_numbers(
    values: list[Decimal | float | int], q: Decimal | float | int, expected: Decimal
) -> None:
    result = percentile(values, q)
    assert isinstance(result, Decimal)
    assert result == expected


def test_percentile_of_durations() -> None:
    minutes = [timedelta(minutes=m) for m in (60, 10, 30, 20)]
    assert percentile(minutes, 50) == timedelta(minutes=25)  # position 1.5
    assert percentile(minutes, 90) == timedelta(minutes=51)  # position 2.7: 30 + 0.7 * 30


def test_percentile_of_durations_rounds_to_the_microsecond_half_even() -> None:
    assert percentile([timedelta(0), timedelta(microseconds=1)], 50) == timedelta(0)
    tiny = [timedelta(microseconds=1), timedelta(microseconds=2)]
    assert percentile(tiny, 50) == timedelta(microseconds=2)


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 50) is None


@pytest.mark.parametrize("q", [-1, 101, Decimal("NaN"), float("inf"), True])
def test_percentile_rejects_bad_q(q: Decimal | float | int) -> None:
    with pytest.raises(KpiError, match="q must be") as info:
        percentile([1, 2, 3], q)
    assert info.value.field == "q"


def test_percentile_rejects_mixed_values() -> None:
    mixed: Any = [timedelta(minutes=1), 5]
    with pytest.raises(KpiError, match="all numbers or all timedeltas"):
        percentile(mixed, 50)


def test_percentile_rejects_nan_values() -> None:
    with pytest.raises(KpiError, match="values must be finite"):
        percentile([1.0, float("nan")], 50)


# --- duration summaries ---


def test_summarize_durations() -> None:
    durations = [timedelta(minutes=m) for m in (30, 10, 50, 20, 40)]
    summary = summarize_durations(durations, target=timedelta(minutes=30))
    assert summary == DurationSummary(
        count=5,
        p50=timedelta(minutes=30),  # position 2
        p90=timedelta(minutes=46),  # position 3.6: 40 + 0.6 * 10
        p95=timedelta(minutes=48),  # position 3.8: 40 + 0.8 * 10
        within_target=Ratio(3, 5),  # 10, 20 and exactly 30 count as within
    )


def test_summarize_no_durations() -> None:
    summary = summarize_durations([], target=timedelta(hours=1))
    assert summary == DurationSummary(0, None, None, None, Ratio(0, 0))
    assert summary.within_target.percent() is None


def test_summarize_rejects_negative_durations_and_target() -> None:
    with pytest.raises(KpiError, match="durations must not be negative") as info:
        summarize_durations([timedelta(minutes=-1)], timedelta(hours=1))
    assert info.value.field == "durations"
    with pytest.raises(KpiError, match="target must be a non-negative timedelta") as info:
        summarize_durations([], timedelta(minutes=-1))
    assert info.value.field == "target"


# --- perfect order index and reference band ---


def test_perfect_order_index_is_the_product_of_the_shares() -> None:
    index = perfect_order_index(
        on_time=Ratio(98, 100),
        complete=Ratio(99, 100),
        damage_free=Ratio(995, 1000),
        accurate=Ratio(97, 100),
    )
    # 0.98 * 0.99 = 0.9702; * 0.995 = 0.965349; * 0.97 = 0.93638853
    assert index == Decimal("0.93638853")


def test_perfect_order_index_is_none_if_a_component_is_empty() -> None:
    full = Ratio(10, 10)
    assert perfect_order_index(full, full, Ratio(0, 0), full) is None


def test_perfect_order_index_of_zero_share_is_zero() -> None:
    full = Ratio(10, 10)
    assert perfect_order_index(full, Ratio(0, 4), full, full) == Decimal(0)


def test_werc_reference_band() -> None:
    assert dict(WERC_BEST_IN_CLASS) == {
        "picking_accuracy": Decimal("99.9"),
        "on_time_shipment": Decimal("99.7"),
        "shipped_complete": Decimal("99.56"),
        "on_time_delivery": Decimal("99.48"),
    }
    assert "2020" in WERC_BEST_IN_CLASS_LABEL
    assert "reference band" in WERC_BEST_IN_CLASS_LABEL
    # Comparable with Ratio.percent(): 997 of 1000 shipments on time meets the band exactly.
    assert Ratio(997, 1000).percent() == WERC_BEST_IN_CLASS["on_time_shipment"]
    with pytest.raises(TypeError):
        WERC_BEST_IN_CLASS["picking_accuracy"] = Decimal(0)  # type: ignore[index]
