"""Monthly scorecards: each SLA term's result, pass or fail, credit or reward, trend, and the ids
behind every figure; and the credit lines the billing meter applies to an invoice.

Money follows accountability: a credit is owed only for items the provider answers for (the
matrix owner of the term's process, or the owner of an incident). Terms with a weekly window
are judged week by week, for the ISO weeks that start in the month.

Months and weeks are counted as invoices count them: in the local time of the facility where
each item happened (:mod:`midway.sla.months`), so a credit lands on the invoice of the month
it was earned in.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from midway.agreements import service as agreements
from midway.core.kpi import Ratio
from midway.core.sla_terms import MoneyOutcome, SlaTerm, term_money
from midway.kpis import compute
from midway.kpis.periods import previous_month
from midway.kpis.service import Facts, Scope, load_facts
from midway.principal import Principal
from midway.sla.months import LocalWindow, Zones, agreement_zones, local_month, local_weeks
from midway.sla.service import CreditLine
from midway.sla.terms import TermsCache, rate_card_currency, version_terms

TREND_MONTHS = 3
DEFAULT_CURRENCY = "USD"
_ZERO = Decimal(0)
_NO_MONEY = Decimal("0.00")  # shown like the credits and rewards


@dataclass(frozen=True)
class Measured:
    """A term's result in one window: all items, the provider's items, and the failing ids."""

    window: LocalWindow
    result: Ratio
    provider_result: Ratio
    failed_refs: tuple[str, ...]


def fees_of(session: Session, agreement_id: str, window: LocalWindow) -> Decimal | None:
    """The provider's fees of the window (service charges before SLA credits, without
    carrier pass-through and the minimum), from the billing module when it is installed. A
    month's fees are those of its invoice, and a week's those of its local days at each
    facility, so a credit of N % of the fees is N % of the service lines of the invoice it
    lands on."""
    try:
        billing = importlib.import_module("midway.billing.service")
    except ModuleNotFoundError:
        return None
    if _is_month(window.label):
        total = billing.period_fees(session, agreement_id, window.label)
    else:
        total = billing.local_days_fees(session, agreement_id, window.first, window.following)
    return None if total is None else Decimal(total)


def _is_month(label: str) -> bool:
    return len(label) == 7 and label[4] == "-" and label.replace("-", "").isdigit()


def _windows(term: SlaTerm, month: LocalWindow) -> list[LocalWindow]:
    return [month] if term.window == "month" else local_weeks(month)


def measure(term: SlaTerm, facts: Facts, window: LocalWindow, provider_owned: bool) -> Measured:
    """How the items of ``window`` did against the term."""
    rows: list[tuple[str, bool, bool]] = []  # (id, met, provider answers for it)
    if term.metric in compute.ORDER_KPIS:
        kpi = compute.ORDER_KPIS[term.metric]
        rows = [
            (f.fulfillment_order_id or f.external_ref, kpi.meets(f), provider_owned)
            for f in facts.orders
            if kpi.counts(f) and window.contains(kpi.when(f), f.facility_id)
        ]
    elif term.metric in compute.CLOCK_KPIS:
        incident = term.accountable_process == "incident_owner"
        rows = [
            (c.id, c.status == "met", c.accountable == "provider" if incident else provider_owned)
            for c in facts.clocks
            if c.kind == term.metric
            and c.status in ("met", "breached")  # void clocks never count
            and window.contains(c.stopped_at, c.facility_id)
        ]
    elif term.metric == "inventory_accuracy":
        rows = [
            (c.id, c.counted == c.expected, provider_owned)
            for c in facts.counts
            if window.contains(c.counted_at, c.facility_id)
        ]
    met = sum(1 for _, ok, _ in rows if ok)
    mine = [ok for _, ok, provider in rows if provider]
    return Measured(
        window=window,
        result=Ratio(met, len(rows)),
        provider_result=Ratio(sum(mine), len(mine)),
        failed_refs=tuple(ref for ref, ok, _ in rows if not ok),
    )


def _passed(term: SlaTerm, ratio: Ratio) -> bool | None:
    percent = ratio.percent()
    return None if percent is None else percent >= term.target


def _money(session: Session, agreement_id: str, term: SlaTerm, measured: Measured) -> MoneyOutcome:
    fees = fees_of(session, agreement_id, measured.window) if _needs_fees(term) else None
    mine = measured.provider_result
    return term_money(term, mine.numerator, mine.denominator, fees)


def _needs_fees(term: SlaTerm) -> bool:
    rules = term.credits
    reward = term.reward
    return bool(
        rules.fee_tiers
        or rules.cap_percent_of_fees is not None
        or (reward is not None and reward.percent_of_fees is not None)
    )


class _Book:
    """Facts of one agreement loaded month by month (a scorecard looks at several months)."""

    def __init__(self, session: Session, agreement_id: str, zones: Zones) -> None:
        self.session = session
        self.agreement_id = agreement_id
        self.zones = zones
        self._months: dict[str, Facts] = {}

    def month(self, label: str) -> LocalWindow:
        """The month ``label`` in the local time of the agreement's facilities."""
        return local_month(label, self.zones)

    def facts(self, month: LocalWindow) -> Facts:
        if month.label not in self._months:
            # A week of a weekly window may run past the month's end: load a week more (from
            # the earliest start to the latest end over the facilities' zones).
            self._months[month.label] = load_facts(
                self.session,
                Scope(agreement_id=self.agreement_id),
                month.start,
                month.end + timedelta(days=7),
                None,
            )
        return self._months[month.label]


def _term_month(
    book: _Book, term: SlaTerm, month: LocalWindow, provider_owned: bool
) -> tuple[list[Measured], list[MoneyOutcome]]:
    measured = [measure(term, book.facts(month), w, provider_owned) for w in _windows(term, month)]
    money = [_money(book.session, book.agreement_id, term, m) for m in measured]
    return measured, money


def build(session: Session, agreement_id: str, period: str) -> dict[str, Any]:
    """The scorecard of ``agreement_id`` for the month ``period`` (no access check)."""
    cache = TermsCache(session)
    version = cache.version(agreement_id, None)
    book = _Book(session, agreement_id, agreement_zones(session, agreement_id, version))
    month = book.month(period)
    terms = version_terms(version)
    currency_default = rate_card_currency(version) or DEFAULT_CURRENCY
    lines = []
    for term in terms:
        accountable = (
            "incident owner"
            if term.accountable_process == "incident_owner"
            else cache.accountable(agreement_id, term)
        )
        provider_owned = accountable == "provider"
        measured, money = _term_month(book, term, month, provider_owned)
        result = sum((m.result for m in measured), Ratio(0, 0))
        credit = sum((o.credit for o in money), _ZERO)
        reward = sum((o.reward for o in money), _ZERO)
        earn_back = _earn_back(book, term, month, provider_owned)
        trend = []
        label = period
        for _ in range(TREND_MONTHS):
            label = previous_month(label)
            earlier, _money_unused = _term_month(book, term, book.month(label), provider_owned)
            ratio = sum((m.result for m in earlier), Ratio(0, 0))
            trend.append({"period": label, **compute.ratio_dict(ratio)})
        lines.append(
            {
                "code": term.code,
                "metric": term.metric,
                "target": str(term.target),
                "target_source": "default" if term.is_default else "agreement",
                "window": term.window,
                "accountable": accountable,
                "result": compute.ratio_dict(result),
                "passed": _passed(term, result),
                "windows": [
                    {
                        "window": m.window.label,
                        **compute.ratio_dict(m.result),
                        "passed": _passed(term, m.result),
                    }
                    for m in measured
                ]
                if term.window == "week"
                else None,
                "credit": str(credit),
                "reward": str(reward),
                "earn_back": str(earn_back[0]),
                "earn_back_of": earn_back[1],
                "earn_back_refs": list(earn_back[2]),
                "currency": term.credits.currency or currency_default,
                "credit_parts": [
                    {"code": c, "description": d, "amount": str(a)}
                    for o in money
                    for c, d, a in o.parts
                ],
                "capped_by": str(sum((o.capped_by for o in money), _ZERO)),
                "unavailable": sorted({u for o in money for u in o.unavailable}),
                "failed_refs": [r for m in measured for r in m.failed_refs],
                "trend": trend,
            }
        )
    return {
        "agreement_id": agreement_id,
        "version": version.version if version is not None else None,
        "period": period,
        "from": month.start.isoformat(),
        "to": month.end.isoformat(),
        "month": "calendar month in each facility's local time",
        "facilities": [
            {
                "facility_id": fid,
                "timezone": str(book.zones.by_facility[fid]),
                "from": start.isoformat(),
                "to": end.isoformat(),
            }
            for fid, (start, end) in sorted(month.bounds().items())
        ],
        "terms": lines,
    }


def _earn_back(
    book: _Book, term: SlaTerm, month: LocalWindow, provider_owned: bool
) -> tuple[Decimal, str | None, tuple[str, ...]]:
    """The credit of N months ago paid back when each of the N months since passed: (amount,
    the month it was owed for, the failing items behind it).

    A month passes when the provider's items were counted in at least one of its windows and
    no window failed: a month with nothing counted proves nothing, so it earns nothing back
    (and a credit that is not earned back in time stays owed)."""
    periods = term.credits.earn_back_periods
    if not periods:
        return _NO_MONEY, None, ()
    label = month.label
    since = []
    for _ in range(periods):
        since.append(book.month(label))
        label = previous_month(label)
    origin = book.month(label)
    for later in since:
        measured, _money_unused = _term_month(book, term, later, provider_owned)
        verdicts = [_passed(term, m.provider_result) for m in measured]
        if False in verdicts or True not in verdicts:
            return _NO_MONEY, None, ()
    measured, money = _term_month(book, term, origin, provider_owned)
    credit = sum((o.credit for o in money), _ZERO)
    if not credit:
        return _NO_MONEY, None, ()
    return credit, origin.label, tuple(r for m in measured for r in m.failed_refs)


def scorecard(
    session: Session, principal: Principal, agreement_id: str, period: str
) -> dict[str, Any]:
    """The monthly scorecard, for a party of the agreement (others get 404)."""
    agreements.get(session, principal, agreement_id)
    return build(session, agreement_id, period)


def credit_lines(session: Session, agreement_id: str, period: str) -> list[CreditLine]:
    """Credits (negative), rewards and earn-backs (positive) of the month, from the scorecard."""
    card = build(session, agreement_id, period)
    lines = []
    for term in card["terms"]:
        refs = list(term["failed_refs"])
        currency = term["currency"]
        credit = Decimal(term["credit"])
        if credit > 0:
            parts = "; ".join(p["description"] for p in term["credit_parts"])
            lines.append(
                CreditLine(
                    code=f"sla_credit.{term['code']}",
                    description=f"SLA credit, {term['metric']} {period}: result "
                    f"{term['result']['percent']} % against {term['target']} % ({parts})",
                    amount=-credit,
                    currency=currency,
                    refs=refs,
                )
            )
        reward = Decimal(term["reward"])
        if reward > 0:
            lines.append(
                CreditLine(
                    code=f"sla_reward.{term['code']}",
                    description=f"SLA reward, {term['metric']} {period}: result "
                    f"{term['result']['percent']} %",
                    amount=reward,
                    currency=currency,
                    refs=[],
                )
            )
        earned = Decimal(term["earn_back"])
        if earned > 0:
            lines.append(
                CreditLine(
                    code=f"sla_earn_back.{term['code']}",
                    description=f"SLA credit of {term['earn_back_of']} earned back, "
                    f"{term['metric']}: target met in every month since",
                    amount=earned,
                    currency=currency,
                    refs=list(term["earn_back_refs"]),
                )
            )
    return lines


def month_of(day: date | datetime) -> str:
    """``YYYY-MM`` of a date."""
    return f"{day.year}-{day.month:02d}"
