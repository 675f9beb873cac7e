"""KPI formulas over fact rows: which rows count, which of them meet the bar, and the summary.

Every KPI is defined once here as (rows counted, rows that meet it) so that the figure, its
drill-down and the scorecard can never disagree. A period with nothing counted has no value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from midway.core.kpi import WERC_BEST_IN_CLASS, Ratio, percentile, perfect_order_index
from midway.kpis.models import InventoryCountFact, OrderFact
from midway.kpis.periods import Period
from midway.sla.models import SlaClock

_HOUR = Decimal(3600)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class OrderKpi:
    """An order KPI: the instant that places a row in a period, whether the row counts, and
    whether it meets the bar."""

    name: str
    description: str
    when: Callable[[OrderFact], datetime | None]
    counts: Callable[[OrderFact], bool]
    meets: Callable[[OrderFact], bool]


def _on_time(f: OrderFact) -> bool:
    return f.handed_at is not None and f.ship_by is not None and f.handed_at <= f.ship_by


def _delivered_on_time(f: OrderFact) -> bool:
    return (
        f.delivered_at is not None
        and f.promised_delivery is not None
        and f.delivered_at <= f.promised_delivery
    )


def _shipped(f: OrderFact) -> bool:
    return f.status == "shipped" and f.handed_at is not None


ORDER_KPIS: dict[str, OrderKpi] = {
    k.name: k
    for k in (
        OrderKpi(
            "on_time_ship",
            "orders handed to the carrier by their ship-by deadline / orders handed to the "
            "carrier in the period (orders without a deadline are left out)",
            lambda f: f.handed_at,
            lambda f: _shipped(f) and f.ship_by is not None,
            _on_time,
        ),
        OrderKpi(
            "on_time_delivery",
            "orders delivered by the promised date / orders delivered in the period (orders "
            "without a promised date are left out)",
            lambda f: f.delivered_at,
            lambda f: f.delivered_at is not None and f.promised_delivery is not None,
            _delivered_on_time,
        ),
        OrderKpi(
            "order_accuracy",
            "orders shipped with no confirmed mis-pick, wrong item or short shipment / orders "
            "shipped",
            lambda f: f.handed_at,
            lambda f: _shipped(f) and f.inaccurate is not None,
            lambda f: f.inaccurate is False,
        ),
        OrderKpi(
            "fill_rate",
            "orders whose every unit left in the first shipment / orders shipped",
            lambda f: f.handed_at,
            lambda f: _shipped(f) and f.shipped_complete is not None,
            lambda f: f.shipped_complete is True,
        ),
        OrderKpi(
            "damage_free",
            "orders shipped with no confirmed outbound damage / orders shipped",
            lambda f: f.handed_at,
            lambda f: _shipped(f) and f.damaged is not None,
            lambda f: f.damaged is False,
        ),
        OrderKpi(
            "perfect_order",
            "orders on time, complete, damage-free and accurate all at once / orders shipped "
            "for which all four are known",
            lambda f: f.handed_at,
            lambda f: (
                _shipped(f)
                and f.ship_by is not None
                and f.shipped_complete is not None
                and f.inaccurate is not None
                and f.damaged is not None
            ),
            lambda f: (
                _on_time(f)
                and f.shipped_complete is True
                and f.inaccurate is False
                and f.damaged is False
            ),
        ),
    )
}
CLOCK_KPIS = ("dock_to_stock", "return_processing", "incident_response", "incident_resolution")
WERC_KEYS = {
    "order_accuracy": "picking_accuracy",
    "on_time_ship": "on_time_shipment",
    "fill_rate": "shipped_complete",
    "on_time_delivery": "on_time_delivery",
}
ALL_KPIS = (
    *ORDER_KPIS,
    *CLOCK_KPIS,
    "inventory_accuracy",
    "customer_satisfaction",
    "cost_per_order",
    "perfect_order_index",
)


def order_ratio(kpi: OrderKpi, facts: Iterable[OrderFact], period: Period) -> Ratio:
    """The KPI's ratio over the facts that fall in ``period``."""
    met = counted = 0
    for fact in facts:
        if kpi.counts(fact) and period.contains(kpi.when(fact)):
            counted += 1
            met += kpi.meets(fact)
    return Ratio(met, counted)


def order_items(kpi: OrderKpi, facts: Iterable[OrderFact], period: Period) -> list[dict[str, Any]]:
    """The rows behind an order KPI, each with whether it met the bar and its events."""
    return [
        {
            "fact_id": f.id,
            "source": f.source,
            "order_id": f.order_id,
            "fulfillment_order_id": f.fulfillment_order_id,
            "external_ref": f.external_ref,
            "met": kpi.meets(f),
            "at": kpi.when(f),
            "ship_by": f.ship_by,
            "handed_at": f.handed_at,
            "promised_delivery": f.promised_delivery,
            "delivered_at": f.delivered_at,
            "incidents": list(f.incident_ids),
            "event_ids": list(f.event_ids),
        }
        for f in facts
        if kpi.counts(f) and period.contains(kpi.when(f))
    ]


def clock_rows(clocks: Iterable[SlaClock], kind: str, period: Period) -> list[SlaClock]:
    """Clocks of ``kind`` that stopped in ``period`` (void ones never count)."""
    return [
        c
        for c in clocks
        if c.kind == kind and c.status in ("met", "breached") and period.contains(c.stopped_at)
    ]


def clock_summary(clocks: Sequence[SlaClock], kind: str, period: Period) -> dict[str, Any]:
    """Median and p90 duration and the share within the deadline of one clock kind."""
    rows = clock_rows(clocks, kind, period)
    durations = [c.stopped_at - c.started_at for c in rows if c.stopped_at is not None]
    within = Ratio(sum(1 for c in rows if c.status == "met"), len(rows))
    open_late = sum(
        1
        for c in clocks
        if c.kind == kind
        and c.stopped_at is None
        and c.status != "void"
        and c.deadline < period.end
    )
    return {
        "count": len(rows),
        "p50_hours": _hours(percentile(durations, 50)),
        "p90_hours": _hours(percentile(durations, 90)),
        "within_target": ratio_dict(within),
        "open_past_deadline": open_late,
    }


def inventory_summary(counts: Iterable[InventoryCountFact], period: Period) -> dict[str, Any]:
    """Counts that matched the book / counts, and the unit variance rate."""
    rows = [c for c in counts if period.contains(c.counted_at)]
    exact = Ratio(sum(1 for c in rows if c.counted == c.expected), len(rows))
    expected = sum(c.expected for c in rows)
    variance = sum(abs(c.counted - c.expected) for c in rows)
    return {
        **ratio_dict(exact),
        "units_expected": expected,
        "units_variance": variance,
        "variance_rate_percent": None
        if expected == 0
        else str((Decimal(variance) * 100 / Decimal(expected)).quantize(_CENT, ROUND_HALF_EVEN)),
    }


def satisfaction(facts: Iterable[OrderFact], period: Period) -> dict[str, Any]:
    """Mean rating (1-5) and the share of ratings of 4 or 5, over ratings given in the period."""
    ratings = [f.rating for f in facts if f.rating is not None and period.contains(f.rated_at)]
    mean = (
        None
        if not ratings
        else str((Decimal(sum(ratings)) / len(ratings)).quantize(_CENT, ROUND_HALF_EVEN))
    )
    return {
        "count": len(ratings),
        "mean": mean,
        "share_4_5": ratio_dict(Ratio(sum(1 for r in ratings if r >= 4), len(ratings))),
    }


def perfect_index(ratios: dict[str, Ratio]) -> str | None:
    """on-time x complete x damage-free x accurate, as a percentage with 2 decimals."""
    value = perfect_order_index(
        ratios["on_time_ship"], ratios["fill_rate"], ratios["damage_free"], ratios["order_accuracy"]
    )
    return None if value is None else str((value * 100).quantize(_CENT, ROUND_HALF_EVEN))


def ratio_dict(ratio: Ratio) -> dict[str, Any]:
    """A ratio as the API shows it: numerator, denominator, percent (None when empty)."""
    percent = ratio.percent()
    return {
        "numerator": ratio.numerator,
        "denominator": ratio.denominator,
        "percent": None if percent is None else str(percent),
    }


def best_in_class(kpi: str) -> str | None:
    """WERC's 2020 best-in-class value for a KPI, when WERC has one (a reference band)."""
    key = WERC_KEYS.get(kpi)
    return None if key is None else str(WERC_BEST_IN_CLASS[key])


def _hours(value: timedelta | None) -> str | None:
    if value is None:
        return None
    seconds = Decimal(value.days * 86400 + value.seconds) + Decimal(value.microseconds) / 10**6
    return str((seconds / _HOUR).quantize(_CENT, ROUND_HALF_EVEN))
