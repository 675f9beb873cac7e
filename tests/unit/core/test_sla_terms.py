"""SLA terms: parsing with defaults, errors naming the field, and money with hand-worked sums."""

from __future__ import annotations

from decimal import Decimal

import pytest

from midway.core.sla_terms import (
    ClockRule,
    SlaTermsError,
    default_sla_terms,
    parse_sla_terms,
    sla_terms_to_list,
    term_money,
)


def test_none_gives_the_labelled_defaults():
    terms = parse_sla_terms(None)
    assert terms == default_sla_terms()
    by_metric = {t.metric: t for t in terms}
    assert set(by_metric) == {
        "on_time_ship",
        "dock_to_stock",
        "return_processing",
        "order_accuracy",
        "inventory_accuracy",
        "incident_response",
    }
    assert all(t.is_default for t in terms)
    assert by_metric["dock_to_stock"].clock == ClockRule("business_days", Decimal(2))
    assert by_metric["return_processing"].clock == ClockRule("business_days", Decimal(3))
    assert by_metric["incident_response"].clock == ClockRule("business_hours", Decimal(4))
    assert by_metric["on_time_ship"].clock == ClockRule("ship_by")
    assert by_metric["order_accuracy"].target == Decimal("99.5")
    assert by_metric["inventory_accuracy"].target == Decimal("99.5")


def test_given_terms_replace_their_metric_and_defaults_fill_the_rest():
    terms = parse_sla_terms(
        [
            {"metric": "dock_to_stock", "clock": {"business_days": 1}, "target": "98"},
            {"metric": "incident_response", "enabled": False},
        ]
    )
    by_metric = {t.metric: t for t in terms}
    assert "incident_response" not in by_metric
    assert by_metric["dock_to_stock"].clock == ClockRule("business_days", Decimal(1))
    assert by_metric["dock_to_stock"].is_default is False
    assert by_metric["on_time_ship"].is_default is True
    assert len(terms) == 5


def test_round_trip_through_json():
    raw = [
        {
            "metric": "on_time_ship",
            "code": "ots",
            "target": "99.2",
            "window": "week",
            "credits": {
                "per_failure": "2.50",
                "allowance_percent": "1",
                "fee_tiers": [{"below": "99", "percent": "2"}, {"below": "95", "percent": "5"}],
                "cap": "100",
                "earn_back_periods": 2,
                "currency": "eur",
            },
            "reward": {"at_or_above": "99.9", "percent_of_fees": "1"},
        }
    ]
    terms = parse_sla_terms(raw)
    again = parse_sla_terms(sla_terms_to_list(terms))
    assert [(t.code, t.credits, t.reward, t.window) for t in again] == [
        (t.code, t.credits, t.reward, t.window) for t in terms
    ]
    assert terms[0].credits.currency == "EUR"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"metric": "speed"}, "sla_terms[1].metric"),
        ({"metric": "order_accuracy", "target": "101"}, "sla_terms[1].target"),
        ({"metric": "order_accuracy", "target": 99.5}, "sla_terms[1].target"),
        ({"metric": "order_accuracy", "window": "day"}, "sla_terms[1].window"),
        ({"metric": "order_accuracy", "clock": {"business_days": 1}}, "sla_terms[1].clock"),
        ({"metric": "dock_to_stock", "clock": {"ship_by": "cutoff"}}, "sla_terms[1].clock.ship_by"),
        (
            {"metric": "dock_to_stock", "clock": {"business_days": -1}},
            "sla_terms[1].clock.business_days",
        ),
        (
            {"metric": "order_accuracy", "credits": {"per_failure": "-1"}},
            "sla_terms[1].credits.per_failure",
        ),
        (
            {"metric": "order_accuracy", "credits": {"allowance": 3}},
            "sla_terms[1].credits.per_failure",
        ),
        (
            {
                "metric": "order_accuracy",
                "credits": {
                    "fee_tiers": [{"below": "99", "percent": "5"}, {"below": "95", "percent": "2"}]
                },
            },
            "sla_terms[1].credits.fee_tiers",
        ),
        (
            {"metric": "order_accuracy", "credits": {"currency": "EURO"}},
            "sla_terms[1].credits.currency",
        ),
        (
            {"metric": "order_accuracy", "reward": {"at_or_above": "90", "amount": "5"}},
            "sla_terms[1].reward.at_or_above",
        ),
        ({"metric": "order_accuracy", "bonus": 1}, "sla_terms[1].bonus"),
        ({"metric": "order_accuracy", "code": "on_time_ship"}, "sla_terms[1].code"),
    ],
)
def test_bad_terms_name_the_field(raw, field):
    with pytest.raises(SlaTermsError) as caught:
        parse_sla_terms([{"metric": "on_time_ship"}, raw])
    assert caught.value.field == field
    assert caught.value.code == "invalid_sla_terms"


def test_not_a_list():
    with pytest.raises(SlaTermsError) as caught:
        parse_sla_terms({"metric": "on_time_ship"})  # type: ignore[arg-type]
    assert caught.value.field == "sla_terms"


def _term(**credits):
    raw = {"metric": "on_time_ship", "target": "99", "credits": credits}
    return parse_sla_terms([raw])[0]


def test_per_failure_after_a_percentage_allowance():
    # 250 orders, 240 on time: 10 failures; 1 % of 250 = 2.5 -> 2 allowed; 8 x 3.00 = 24.00.
    money = term_money(_term(per_failure="3.00", allowance_percent="1"), 240, 250, None)
    assert (money.credit, money.reward) == (Decimal("24.00"), Decimal("0.00"))
    assert money.parts[0][0] == "per_failure"


def test_fee_tier_band_and_cap_by_share_of_fees():
    term = _term(
        fee_tiers=[{"below": "99", "percent": "3"}, {"below": "97", "percent": "8"}],
        cap_percent_of_fees="5",
    )
    # 96 % is below both bands: the lowest applies, 8 % of 2,000.00 = 160.00, capped at 5 %.
    money = term_money(term, 96, 100, Decimal("2000.00"))
    assert (money.credit, money.capped_by) == (Decimal("100.00"), Decimal("60.00"))
    # 98 %: only the first band, 3 % = 60.00, under the cap.
    assert term_money(term, 98, 100, Decimal("2000.00")).credit == Decimal("60.00")
    # 99 % is not below 99: no credit.
    assert term_money(term, 99, 100, Decimal("2000.00")).credit == Decimal("0.00")


def test_reward_when_the_target_is_beaten_and_nothing_when_nothing_counted():
    raw = {
        "metric": "on_time_ship",
        "target": "99",
        "reward": {"at_or_above": "99.9", "amount": "25", "percent_of_fees": "1"},
    }
    term = parse_sla_terms([raw])[0]
    money = term_money(term, 1000, 1000, Decimal("1234.56"))
    assert money.reward == Decimal("37.35")  # 25 + 12.3456, rounded half-even
    assert term_money(term, 998, 1000, Decimal("1234.56")).reward == Decimal("0.00")
    empty = term_money(term, 0, 0, None)
    assert (empty.credit, empty.reward) == (Decimal(0), Decimal(0))


def test_unknown_fees_are_reported_not_guessed():
    money = term_money(_term(fee_tiers=[{"below": "99", "percent": "3"}]), 90, 100, None)
    assert money.credit == Decimal("0.00")
    assert money.unavailable == ("fee tier below 99 %: fees of the period unknown",)


def test_met_must_not_exceed_counted():
    with pytest.raises(SlaTermsError):
        term_money(_term(), 5, 4, None)
