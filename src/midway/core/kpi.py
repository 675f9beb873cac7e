"""KPI arithmetic: ratios that keep numerator and denominator, percentiles, perfect order.

A KPI is never stored as a bare percentage: two ratios can only be combined correctly by
adding numerators and denominators, and an empty period has no value at all rather than a
flattering 100 %.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType
from typing import overload

__all__ = [
    "WERC_BEST_IN_CLASS",
    "WERC_BEST_IN_CLASS_LABEL",
    "DurationSummary",
    "KpiError",
    "Ratio",
    "percentile",
    "perfect_order_index",
    "summarize_durations",
]

_HUNDRED = Decimal(100)


class KpiError(ValueError):
    """Invalid KPI input; ``field`` names the offending argument."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Ratio:
    """A share such as "orders shipped on time / orders due": 0 <= numerator <= denominator."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        for name in ("numerator", "denominator"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise KpiError(f"{name} must be an int, got {value!r}", name)
            if value < 0:
                raise KpiError(f"{name} must not be negative, got {value}", name)
        if self.numerator > self.denominator:
            raise KpiError(
                f"numerator ({self.numerator}) must not exceed denominator ({self.denominator})",
                "numerator",
            )

    def value(self) -> Decimal | None:
        """The share as a fraction between 0 and 1, or None when nothing was counted."""
        if self.denominator == 0:
            return None
        return Decimal(self.numerator) / Decimal(self.denominator)

    def percent(self) -> Decimal | None:
        """The share in percent with 2 decimal places (half-even), or None when empty."""
        if self.denominator == 0:
            return None
        # Integer arithmetic so the rounding is exact even for huge denominators.
        hundredths, remainder = divmod(self.numerator * 10_000, self.denominator)
        twice = 2 * remainder
        if twice > self.denominator or (twice == self.denominator and hundredths % 2 == 1):
            hundredths += 1
        return Decimal(hundredths).scaleb(-2)

    def __add__(self, other: object) -> Ratio:
        if not isinstance(other, Ratio):
            return NotImplemented
        return Ratio(self.numerator + other.numerator, self.denominator + other.denominator)


@overload
def percentile(values: Sequence[timedelta], q: Decimal | float | int) -> timedelta | None: ...


@overload
def percentile(
    values: Sequence[Decimal | float | int], q: Decimal | float | int
) -> Decimal | None: ...


def percentile(
    values: Sequence[Decimal | float | int] | Sequence[timedelta], q: Decimal | float | int
) -> Decimal | timedelta | None:
    """The ``q``-th percentile (0-100) of ``values`` by linear interpolation, None if empty.

    Same definition as numpy's default ``method="linear"``: sort the values, take the
    position ``(n - 1) * q / 100`` and interpolate between its two neighbours. Numbers come
    back as Decimal (floats are read by their shortest repr); timedeltas as timedelta rounded
    to the microsecond.
    """
    share = _percent_rank(q)
    if not values:
        return None
    durations = [value for value in values if isinstance(value, timedelta)]
    if durations:
        if len(durations) != len(values):
            raise KpiError("values must be all numbers or all timedeltas, not a mix", "values")
        micros = sorted(Decimal(_microseconds(value)) for value in durations)
        result = _interpolate(micros, share)
        return timedelta(microseconds=int(result.to_integral_value(ROUND_HALF_EVEN)))
    numbers = sorted(_number(value) for value in values if not isinstance(value, timedelta))
    return _interpolate(numbers, share)


@dataclass(frozen=True)
class DurationSummary:
    """Distribution of durations (e.g. release to hand-over) against a target."""

    count: int
    p50: timedelta | None
    p90: timedelta | None
    p95: timedelta | None
    within_target: Ratio


def summarize_durations(durations: Sequence[timedelta], target: timedelta) -> DurationSummary:
    """Median, p90 and p95 of ``durations`` and how many were at most ``target``."""
    if not isinstance(target, timedelta) or target < timedelta(0):
        raise KpiError(f"target must be a non-negative timedelta, got {target!r}", "target")
    for duration in durations:
        if not isinstance(duration, timedelta):
            raise KpiError(f"durations must be timedeltas, got {duration!r}", "durations")
        if duration < timedelta(0):
            raise KpiError(f"durations must not be negative, got {duration}", "durations")
    within = sum(1 for duration in durations if duration <= target)
    return DurationSummary(
        count=len(durations),
        p50=percentile(durations, 50),
        p90=percentile(durations, 90),
        p95=percentile(durations, 95),
        within_target=Ratio(within, len(durations)),
    )


def perfect_order_index(
    on_time: Ratio, complete: Ratio, damage_free: Ratio, accurate: Ratio
) -> Decimal | None:
    """Perfect order index as a fraction: the product of the four component shares.

    None if any component has nothing counted. The product treats the components as
    independent; counting orders that were perfect on all four at once is the exact measure.
    """
    product = Decimal(1)
    for name, ratio in (
        ("on_time", on_time),
        ("complete", complete),
        ("damage_free", damage_free),
        ("accurate", accurate),
    ):
        if not isinstance(ratio, Ratio):
            raise KpiError(f"{name} must be a Ratio, got {ratio!r}", name)
        value = ratio.value()
        if value is None:
            return None
        product *= value
    return product


WERC_BEST_IN_CLASS_LABEL = (
    "WERC DC Measures 2020, best-in-class threshold: an industry reference band, "
    "not a contractual target"
)

# Percentages, to compare with Ratio.percent().
WERC_BEST_IN_CLASS: Mapping[str, Decimal] = MappingProxyType(
    {
        "picking_accuracy": Decimal("99.9"),
        "on_time_shipment": Decimal("99.7"),
        "shipped_complete": Decimal("99.56"),
        "on_time_delivery": Decimal("99.48"),
    }
)


def _interpolate(ordered: list[Decimal], share: Decimal) -> Decimal:
    position = (len(ordered) - 1) * share
    lower = int(position)  # position >= 0, so int() floors
    fraction = position - lower
    if fraction == 0 or lower + 1 >= len(ordered):
        return ordered[lower]
    return ordered[lower] + (ordered[lower + 1] - ordered[lower]) * fraction


def _percent_rank(q: Decimal | float | int) -> Decimal:
    if isinstance(q, bool) or not isinstance(q, Decimal | float | int):
        raise KpiError(f"q must be a number between 0 and 100, got {q!r}", "q")
    rank = Decimal(str(q)) if isinstance(q, float) else Decimal(q)
    if not rank.is_finite() or not 0 <= rank <= _HUNDRED:
        raise KpiError(f"q must be between 0 and 100, got {q}", "q")
    return rank / _HUNDRED


def _number(value: Decimal | float | int) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | float | int):
        raise KpiError(f"values must be numbers or timedeltas, got {value!r}", "values")
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise KpiError(f"values must be finite, got {value}", "values")
    return number


def _microseconds(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
