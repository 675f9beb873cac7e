"""SLA terms of an agreement: what is measured, the target, the clock, who answers for it, and
what a miss (or a beaten target) is worth.

Terms arrive as untrusted JSON (a list in the agreement version). :func:`parse_sla_terms`
validates it, names the offending field as a path like ``sla_terms[2].target`` and fills in
the default term of every metric the list does not mention. :func:`term_money` turns one
period's result into credits and rewards; it is pure arithmetic on Decimals.

JSON shape of one term (every key but ``metric`` is optional)::

    {"metric": "on_time_ship", "code": "ots", "target": "99.0", "window": "month",
     "clock": {"business_days": 2} | {"business_hours": 4} | {"ship_by": "cutoff"},
     "at_risk_hours": "2", "accountable_process": "carrier_handoff",
     "credits": {"per_failure": "5.00", "allowance": 10, "allowance_percent": "1.0",
                 "fee_tiers": [{"below": "99", "percent": "5"}], "cap": "500.00",
                 "cap_percent_of_fees": "15", "earn_back_periods": 2, "currency": "USD"},
     "reward": {"at_or_above": "99.9", "amount": "100.00", "percent_of_fees": "2"}}

``{"metric": "...", "enabled": false}`` removes a metric's default term.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from midway.core.errors import DomainError

__all__ = [
    "CLOCK_METRICS",
    "METRICS",
    "ClockRule",
    "CreditRules",
    "MoneyOutcome",
    "RewardRule",
    "SlaTerm",
    "SlaTermsError",
    "default_sla_terms",
    "parse_sla_terms",
    "sla_terms_to_list",
    "term_money",
]

_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")

# metric -> (default matrix process that answers for it, default clock rule or None for a
# plain ratio, default target in percent). Targets are defaults, labelled as such in reports.
METRICS: Mapping[str, tuple[str, str | None]] = {
    "on_time_ship": ("carrier_handoff", "ship_by"),
    "dock_to_stock": ("receiving", "business_days"),
    "return_processing": ("returns_disposition", "business_days"),
    "order_accuracy": ("picking", None),
    "inventory_accuracy": ("storage", None),
    "incident_response": ("incident_owner", "business_hours"),
    "incident_resolution": ("incident_owner", "business_hours"),
    "on_time_delivery": ("carrier_handoff", None),
    "fill_rate": ("picking", None),
}
# Metrics whose items are SLA clocks (started and stopped by events).
CLOCK_METRICS = frozenset(m for m, (_, clock) in METRICS.items() if clock is not None)
WINDOWS = ("week", "month")
_PROCESSES = frozenset(
    (
        "receiving",
        "quality_check",
        "storage",
        "replenishment_planning",
        "order_release",
        "picking",
        "packing",
        "branded_inserts",
        "kitting",
        "labeling",
        "carrier_handoff",
        "returns_receiving",
        "returns_inspection",
        "returns_disposition",
        "refunds",
        "customer_communication",
        "incident_owner",
    )
)
_TERM_KEYS = frozenset(
    (
        "metric",
        "code",
        "target",
        "window",
        "clock",
        "at_risk_hours",
        "accountable_process",
        "credits",
        "reward",
        "enabled",
    )
)
_CREDIT_KEYS = frozenset(
    (
        "per_failure",
        "allowance",
        "allowance_percent",
        "fee_tiers",
        "cap",
        "cap_percent_of_fees",
        "earn_back_periods",
        "currency",
    )
)
_REWARD_KEYS = frozenset(("at_or_above", "amount", "percent_of_fees"))


class SlaTermsError(DomainError):
    """SLA terms are invalid; ``field`` is a path such as ``sla_terms[2].target``."""

    def __init__(
        self, message: str, *, code: str = "invalid_sla_terms", field: str | None = None
    ) -> None:
        super().__init__(message, code=code, field=field)


@dataclass(frozen=True)
class ClockRule:
    """How a clock's deadline is set: ``ship_by`` (channel ship-by, else the cut-off rule),
    ``business_days`` (close of business N business days after the start) or
    ``business_hours`` (N business hours after the start)."""

    kind: str
    amount: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        if self.kind == "ship_by":
            return {"ship_by": "cutoff"}
        amount: Any = (
            int(self.amount) if self.amount == self.amount.to_integral() else str(self.amount)
        )
        return {self.kind: amount}


@dataclass(frozen=True)
class FeeTier:
    """Credit ``percent`` of the period's fees when the result is below ``below`` percent."""

    below: Decimal
    percent: Decimal


@dataclass(frozen=True)
class CreditRules:
    """What a miss costs the accountable party.

    ``per_failure`` is charged for every failing item, or only for the items beyond the
    allowance (``allowance`` items, or ``allowance_percent`` of the items counted). Fee tiers
    add a share of the period's fees by result band (the lowest band reached applies). The
    total is capped by ``cap`` and ``cap_percent_of_fees`` (the smaller wins). With
    ``earn_back_periods`` = N, a credit is paid back when the N following periods all pass.
    """

    per_failure: Decimal | None = None
    allowance: int | None = None
    allowance_percent: Decimal | None = None
    fee_tiers: tuple[FeeTier, ...] = ()
    cap: Decimal | None = None
    cap_percent_of_fees: Decimal | None = None
    earn_back_periods: int | None = None
    currency: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing would ever be credited."""
        return self.per_failure is None and not self.fee_tiers


@dataclass(frozen=True)
class RewardRule:
    """A bonus when the result is at or above ``at_or_above`` percent: a fixed ``amount``
    and/or ``percent_of_fees`` of the period's fees."""

    at_or_above: Decimal
    amount: Decimal | None = None
    percent_of_fees: Decimal | None = None


@dataclass(frozen=True)
class SlaTerm:
    """One measured promise of an agreement."""

    code: str
    metric: str
    target: Decimal
    window: str
    clock: ClockRule | None
    at_risk_hours: Decimal
    accountable_process: str
    credits: CreditRules = field(default_factory=CreditRules)
    reward: RewardRule | None = None
    is_default: bool = False


def default_sla_terms() -> tuple[SlaTerm, ...]:
    """The default terms, after common 3PL contracts (targets are defaults, not norms):
    ship by the cut-off rule (a channel ship-by wins) at 99 %; dock-to-stock within 2 business
    days; returns within 3 business days; order and inventory accuracy >= 99.5 %; incident
    first response within 4 business hours. No money is attached by default."""
    two = Decimal(2)

    def term(metric: str, target: str, clock: ClockRule | None) -> SlaTerm:
        return SlaTerm(
            code=metric,
            metric=metric,
            target=Decimal(target),
            window="month",
            clock=clock,
            at_risk_hours=two,
            accountable_process=METRICS[metric][0],
            is_default=True,
        )

    return (
        term("on_time_ship", "99.0", ClockRule("ship_by")),
        term("dock_to_stock", "99.0", ClockRule("business_days", Decimal(2))),
        term("return_processing", "99.0", ClockRule("business_days", Decimal(3))),
        term("order_accuracy", "99.5", None),
        term("inventory_accuracy", "99.5", None),
        term("incident_response", "95.0", ClockRule("business_hours", Decimal(4))),
    )


def parse_sla_terms(data: list[Any] | None) -> tuple[SlaTerm, ...]:
    """Validate agreement JSON into terms; metrics it does not mention get their default term.

    ``None`` gives :func:`default_sla_terms`. Raises :class:`SlaTermsError` naming the field.
    """
    if data is None:
        return default_sla_terms()
    if not isinstance(data, list):
        raise SlaTermsError("sla_terms must be a list of terms", field="sla_terms")
    given: list[SlaTerm] = []
    disabled: set[str] = set()
    codes: set[str] = set()
    metrics_seen: set[str] = set()
    for index, raw in enumerate(data):
        where = f"sla_terms[{index}]"
        term = _parse_term(raw, where)
        if term is None:
            disabled.add(raw["metric"])
            metrics_seen.add(raw["metric"])
            continue
        if term.code in codes:
            raise SlaTermsError(
                f"{where}.code: duplicate code {term.code!r}", field=f"{where}.code"
            )
        codes.add(term.code)
        metrics_seen.add(term.metric)
        given.append(term)
    defaults = [
        t for t in default_sla_terms() if t.metric not in metrics_seen and t.code not in codes
    ]
    return tuple(given + defaults)


def sla_terms_to_list(terms: tuple[SlaTerm, ...] | list[SlaTerm]) -> list[dict[str, Any]]:
    """The JSON form of terms (round-trips through :func:`parse_sla_terms`)."""
    result = []
    for term in terms:
        item: dict[str, Any] = {
            "code": term.code,
            "metric": term.metric,
            "target": str(term.target),
            "window": term.window,
            "at_risk_hours": str(term.at_risk_hours),
            "accountable_process": term.accountable_process,
        }
        if term.clock is not None:
            item["clock"] = term.clock.to_dict()
        credits = _credits_to_dict(term.credits)
        if credits:
            item["credits"] = credits
        if term.reward is not None:
            reward: dict[str, Any] = {"at_or_above": str(term.reward.at_or_above)}
            if term.reward.amount is not None:
                reward["amount"] = str(term.reward.amount)
            if term.reward.percent_of_fees is not None:
                reward["percent_of_fees"] = str(term.reward.percent_of_fees)
            item["reward"] = reward
        result.append(item)
    return result


def _credits_to_dict(rules: CreditRules) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("per_failure", "allowance_percent", "cap", "cap_percent_of_fees"):
        value = getattr(rules, name)
        if value is not None:
            out[name] = str(value)
    for name in ("allowance", "earn_back_periods", "currency"):
        value = getattr(rules, name)
        if value is not None:
            out[name] = value
    if rules.fee_tiers:
        out["fee_tiers"] = [
            {"below": str(t.below), "percent": str(t.percent)} for t in rules.fee_tiers
        ]
    return out


def _parse_term(raw: Any, where: str) -> SlaTerm | None:
    if not isinstance(raw, dict):
        raise SlaTermsError(f"{where}: a term must be an object", field=where)
    unknown = sorted(set(raw) - _TERM_KEYS)
    if unknown:
        raise SlaTermsError(
            f"{where}: unknown key {unknown[0]!r}; expected some of {sorted(_TERM_KEYS)}",
            field=f"{where}.{unknown[0]}",
        )
    metric = raw.get("metric")
    if not isinstance(metric, str) or metric not in METRICS:
        raise SlaTermsError(
            f"{where}.metric: unknown metric {metric!r}; expected one of {sorted(METRICS)}",
            field=f"{where}.metric",
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise SlaTermsError(f"{where}.enabled must be true or false", field=f"{where}.enabled")
    if not enabled:
        return None
    default = next((t for t in default_sla_terms() if t.metric == metric), None)
    code = raw.get("code", metric)
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        raise SlaTermsError(
            f"{where}.code must be a non-empty string of at most 40 characters",
            field=f"{where}.code",
        )
    target = _percent(raw.get("target", default.target if default else None), f"{where}.target")
    window = raw.get("window", "month")
    if window not in WINDOWS:
        raise SlaTermsError(
            f"{where}.window must be one of {list(WINDOWS)}, got {window!r}",
            field=f"{where}.window",
        )
    clock = _parse_clock(raw.get("clock"), metric, default, f"{where}.clock")
    at_risk = _decimal(raw.get("at_risk_hours", "2"), f"{where}.at_risk_hours", minimum=Decimal(0))
    process = raw.get("accountable_process", METRICS[metric][0])
    if process not in _PROCESSES:
        raise SlaTermsError(
            f"{where}.accountable_process: unknown process {process!r}",
            field=f"{where}.accountable_process",
        )
    credits = _parse_credits(raw.get("credits"), f"{where}.credits")
    reward = _parse_reward(raw.get("reward"), f"{where}.reward", target)
    return SlaTerm(
        code=code.strip(),
        metric=metric,
        target=target,
        window=window,
        clock=clock,
        at_risk_hours=at_risk,
        accountable_process=process,
        credits=credits,
        reward=reward,
    )


_CLOCK_KINDS: Mapping[str, tuple[str, ...]] = {
    "ship_by": ("ship_by",),
    "business_days": ("business_days", "business_hours"),
    "business_hours": ("business_hours",),
}


def _parse_clock(raw: Any, metric: str, default: SlaTerm | None, where: str) -> ClockRule | None:
    expected = METRICS[metric][1]
    if expected is None:
        if raw is not None:
            raise SlaTermsError(f"{where}: metric {metric!r} has no clock", field=where)
        return None
    if raw is None:
        if default is not None and default.clock is not None:
            return default.clock
        raise SlaTermsError(f"{where}: metric {metric!r} needs a clock rule", field=where)
    allowed = _CLOCK_KINDS[expected]
    if not isinstance(raw, dict) or len(raw) != 1:
        raise SlaTermsError(
            f"{where} must be an object with one key of {list(allowed)}", field=where
        )
    ((kind, value),) = raw.items()
    if kind not in allowed:
        raise SlaTermsError(
            f"{where}: metric {metric!r} takes a clock rule of {list(allowed)}, not {kind!r}",
            field=f"{where}.{kind}",
        )
    if kind == "ship_by":
        if value != "cutoff":
            raise SlaTermsError(f"{where}.ship_by must be 'cutoff'", field=f"{where}.ship_by")
        return ClockRule("ship_by")
    if kind == "business_days":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 60:
            raise SlaTermsError(
                f"{where}.business_days must be a whole number from 0 to 60",
                field=f"{where}.business_days",
            )
        return ClockRule("business_days", Decimal(value))
    hours = _decimal(value, f"{where}.business_hours", minimum=Decimal(0), maximum=Decimal(2000))
    return ClockRule("business_hours", hours)


def _parse_credits(raw: Any, where: str) -> CreditRules:
    if raw is None:
        return CreditRules()
    if not isinstance(raw, dict):
        raise SlaTermsError(f"{where} must be an object", field=where)
    unknown = sorted(set(raw) - _CREDIT_KEYS)
    if unknown:
        raise SlaTermsError(
            f"{where}: unknown key {unknown[0]!r}; expected some of {sorted(_CREDIT_KEYS)}",
            field=f"{where}.{unknown[0]}",
        )
    zero = Decimal(0)
    per_failure = _optional(raw, "per_failure", where, minimum=zero)
    allowance = raw.get("allowance")
    if allowance is not None and (
        isinstance(allowance, bool) or not isinstance(allowance, int) or allowance < 0
    ):
        raise SlaTermsError(
            f"{where}.allowance must be a whole number of items >= 0", field=f"{where}.allowance"
        )
    allowance_percent = _optional(raw, "allowance_percent", where, minimum=zero, maximum=_HUNDRED)
    if allowance is not None and allowance_percent is not None:
        raise SlaTermsError(
            f"{where}: give allowance or allowance_percent, not both",
            field=f"{where}.allowance_percent",
        )
    if (allowance is not None or allowance_percent is not None) and per_failure is None:
        raise SlaTermsError(
            f"{where}: an allowance needs per_failure (the credit per item beyond it)",
            field=f"{where}.per_failure",
        )
    tiers = _parse_tiers(raw.get("fee_tiers"), f"{where}.fee_tiers")
    earn_back = raw.get("earn_back_periods")
    if earn_back is not None and (
        isinstance(earn_back, bool) or not isinstance(earn_back, int) or not 1 <= earn_back <= 12
    ):
        raise SlaTermsError(
            f"{where}.earn_back_periods must be a whole number from 1 to 12",
            field=f"{where}.earn_back_periods",
        )
    currency = raw.get("currency")
    if currency is not None and (
        not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha()
    ):
        raise SlaTermsError(
            f"{where}.currency must be an ISO 4217 code such as 'USD'", field=f"{where}.currency"
        )
    return CreditRules(
        per_failure=per_failure,
        allowance=allowance,
        allowance_percent=allowance_percent,
        fee_tiers=tiers,
        cap=_optional(raw, "cap", where, minimum=zero),
        cap_percent_of_fees=_optional(
            raw, "cap_percent_of_fees", where, minimum=zero, maximum=_HUNDRED
        ),
        earn_back_periods=earn_back,
        currency=currency.upper() if isinstance(currency, str) else None,
    )


def _parse_tiers(raw: Any, where: str) -> tuple[FeeTier, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SlaTermsError(f"{where} must be a list", field=where)
    tiers = []
    for index, item in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(item, dict) or set(item) != {"below", "percent"}:
            raise SlaTermsError(f"{at} must be {{'below': ..., 'percent': ...}}", field=at)
        tiers.append(
            FeeTier(
                below=_percent(item["below"], f"{at}.below"),
                percent=_percent(item["percent"], f"{at}.percent"),
            )
        )
    ordered = sorted(tiers, key=lambda t: t.below, reverse=True)
    for index, tier in enumerate(ordered[1:], start=1):
        previous = ordered[index - 1]
        if tier.below == previous.below:
            raise SlaTermsError(f"{where}: two tiers start below {tier.below}", field=where)
        if tier.percent < previous.percent:
            raise SlaTermsError(
                f"{where}: a lower band (below {tier.below}) must not credit less than a higher "
                f"one (below {previous.below})",
                field=where,
            )
    return tuple(ordered)


def _parse_reward(raw: Any, where: str, target: Decimal) -> RewardRule | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SlaTermsError(f"{where} must be an object", field=where)
    unknown = sorted(set(raw) - _REWARD_KEYS)
    if unknown:
        raise SlaTermsError(f"{where}: unknown key {unknown[0]!r}", field=f"{where}.{unknown[0]}")
    threshold = _percent(raw.get("at_or_above"), f"{where}.at_or_above")
    if threshold < target:
        raise SlaTermsError(
            f"{where}.at_or_above ({threshold}) must not be below the target ({target})",
            field=f"{where}.at_or_above",
        )
    zero = Decimal(0)
    amount = _optional(raw, "amount", where, minimum=zero)
    share = _optional(raw, "percent_of_fees", where, minimum=zero, maximum=_HUNDRED)
    if amount is None and share is None:
        raise SlaTermsError(f"{where}: give amount or percent_of_fees", field=f"{where}.amount")
    return RewardRule(at_or_above=threshold, amount=amount, percent_of_fees=share)


def _optional(
    raw: dict[str, Any],
    key: str,
    where: str,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Decimal | None:
    if raw.get(key) is None:
        return None
    return _decimal(raw[key], f"{where}.{key}", minimum=minimum, maximum=maximum)


def _percent(value: Any, where: str) -> Decimal:
    return _decimal(value, where, minimum=Decimal(0), maximum=_HUNDRED)


def _decimal(
    value: Any, where: str, *, minimum: Decimal | None = None, maximum: Decimal | None = None
) -> Decimal:
    # Floats are refused: amounts must be exact; write "99.5" or 99.5 as a JSON string.
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise SlaTermsError(
            f'{where} must be a number written as a string (e.g. "99.5") or an integer',
            field=where,
        )
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        raise SlaTermsError(f"{where}: {value!r} is not a number", field=where) from None
    if not number.is_finite():
        raise SlaTermsError(f"{where} must be finite", field=where)
    if minimum is not None and number < minimum:
        raise SlaTermsError(f"{where} must be at least {minimum}, got {number}", field=where)
    if maximum is not None and number > maximum:
        raise SlaTermsError(f"{where} must be at most {maximum}, got {number}", field=where)
    return number


@dataclass(frozen=True)
class MoneyOutcome:
    """Credits (>= 0, owed by the accountable party) and rewards (>= 0) of one term and period.

    ``parts`` explains the credit as (code, description, amount) before the cap; ``capped_by``
    is the amount the cap removed; ``unavailable`` lists parts that needed the period's fees
    when they were not known.
    """

    credit: Decimal
    reward: Decimal
    parts: tuple[tuple[str, str, Decimal], ...] = ()
    capped_by: Decimal = Decimal(0)
    unavailable: tuple[str, ...] = ()


def term_money(term: SlaTerm, met: int, counted: int, fees: Decimal | None) -> MoneyOutcome:
    """Credit and reward for one period where ``met`` of ``counted`` items met the term.

    Nothing counted means nothing owed either way. Amounts are rounded to the cent
    (half-even) at the end, after the cap.
    """
    if isinstance(met, bool) or isinstance(counted, bool) or not 0 <= met <= counted:
        raise SlaTermsError("met must be between 0 and counted", field="met")
    if counted == 0:
        return MoneyOutcome(credit=Decimal(0), reward=Decimal(0))
    result = Decimal(met) * _HUNDRED / Decimal(counted)
    rules = term.credits
    parts: list[tuple[str, str, Decimal]] = []
    unavailable: list[str] = []
    failures = counted - met
    if rules.per_failure is not None and failures:
        allowed = 0
        if rules.allowance is not None:
            allowed = rules.allowance
        elif rules.allowance_percent is not None:
            # Whole items only: an allowance of 1 % of 250 items is 2 items, not 2.5.
            allowed = int(Decimal(counted) * rules.allowance_percent / _HUNDRED)
        excess = max(0, failures - allowed)
        if excess:
            label = f"{excess} failing item(s)"
            if allowed:
                label += f" beyond an allowance of {allowed}"
            parts.append(
                ("per_failure", f"{label} x {rules.per_failure}", excess * rules.per_failure)
            )
    tier = next((t for t in reversed(rules.fee_tiers) if result < t.below), None)
    if tier is not None:
        if fees is None:
            unavailable.append(f"fee tier below {tier.below} %: fees of the period unknown")
        else:
            parts.append(
                (
                    "fee_tier",
                    f"result {_show(result)} % below {tier.below} %: {tier.percent} % of fees "
                    f"{fees}",
                    fees * tier.percent / _HUNDRED,
                )
            )
    total = sum((p[2] for p in parts), Decimal(0))
    caps = []
    if rules.cap is not None:
        caps.append(rules.cap)
    if rules.cap_percent_of_fees is not None:
        if fees is None:
            unavailable.append("cap as a share of fees: fees of the period unknown")
        else:
            caps.append(fees * rules.cap_percent_of_fees / _HUNDRED)
    capped = min([total, *caps])
    reward = Decimal(0)
    if term.reward is not None and result >= term.reward.at_or_above:
        if term.reward.amount is not None:
            reward += term.reward.amount
        if term.reward.percent_of_fees is not None:
            if fees is None:
                unavailable.append("reward as a share of fees: fees of the period unknown")
            else:
                reward += fees * term.reward.percent_of_fees / _HUNDRED
    return MoneyOutcome(
        credit=_cents(capped),
        reward=_cents(reward),
        parts=tuple((c, d, _cents(a)) for c, d, a in parts),
        capped_by=_cents(total - capped),
        unavailable=tuple(unavailable),
    )


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_EVEN)


def _show(value: Decimal) -> str:
    return str(value.quantize(_CENT, rounding=ROUND_HALF_EVEN))
