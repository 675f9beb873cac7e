"""The responsibility matrix: conditions, resolution, parsing and the templates."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midway.core.errors import MatrixError
from midway.core.matrix import (
    ALL_PROCESSES,
    EXCEPTION_KINDS,
    FULFILLMENT_ORDER_PROCESSES,
    PROCESSES,
    Condition,
    Context,
    Matrix,
    Resolver,
    Rule,
    matrix_to_dict,
    parse_matrix,
    resolve,
)
from midway.core.templates import TEMPLATES, template

PREMIUM = frozenset({"premium"})


def example_json() -> dict[str, Any]:
    return {
        "rules": [
            {
                "id": "premium-inserts",
                "process": "branded_inserts",
                "owner": "merchant",
                "when": {
                    "sku_tags_any": ["premium"],
                    "channels": ["web"],
                    "countries": ["US"],
                    "min_order_value": "100.00",
                    "max_order_value": None,
                },
                "facility": None,
                "sla_target": None,
                "cost_bearer": "merchant",
            }
        ],
        "defaults": {"picking": "provider", "branded_inserts": "provider"},
    }


# --- constants ---------------------------------------------------------------------------


def test_process_lists_are_consistent() -> None:
    assert len(PROCESSES) == 16
    assert len(EXCEPTION_KINDS) == 7
    assert ALL_PROCESSES == PROCESSES + EXCEPTION_KINDS
    assert len(set(ALL_PROCESSES)) == len(ALL_PROCESSES)
    assert set(FULFILLMENT_ORDER_PROCESSES) <= set(PROCESSES)
    assert FULFILLMENT_ORDER_PROCESSES[0] == "picking"
    assert FULFILLMENT_ORDER_PROCESSES[-1] == "carrier_handoff"


# --- conditions --------------------------------------------------------------------------


def test_empty_condition_always_matches() -> None:
    assert Condition().matches(Context()) == (True, "unconditional")


def test_tags_any_match_and_miss_reasons() -> None:
    when = Condition(sku_tags_any=PREMIUM, channels=frozenset({"web"}))
    hit = Context(sku="S1", sku_tags=frozenset({"premium", "glass"}), channel="web")
    assert when.matches(hit) == (True, "sku tag 'premium' in ['premium']; channel 'web' in ['web']")
    miss = Context(sku="S1", sku_tags=frozenset(), channel="web")
    assert when.matches(miss) == (False, "sku tags [] have none of ['premium']")


def test_sku_condition_without_sku_does_not_match() -> None:
    ok, why = Condition(sku_tags_any=PREMIUM).matches(Context(sku_tags=PREMIUM))
    assert not ok
    assert "no sku" in why
    assert not Condition(skus=frozenset({"A"})).matches(Context())[0]


def test_tags_all_requires_every_tag() -> None:
    when = Condition(sku_tags_all=frozenset({"kit", "fragile"}))
    assert when.matches(Context(sku="K", sku_tags=frozenset({"kit", "fragile", "x"})))[0]
    ok, why = when.matches(Context(sku="K", sku_tags=frozenset({"kit"})))
    assert not ok
    assert "lack ['fragile']" in why


def test_skus_channels_and_countries() -> None:
    when = Condition(skus=frozenset({"A", "B"}), countries=frozenset({"US", "CA"}))
    assert when.matches(Context(sku="A", country="us"))[0]  # context country case-insensitive
    assert when.matches(Context(sku="C", country="US")) == (False, "sku 'C' not in ['A', 'B']")
    ok, why = when.matches(Context(sku="A", country="DE"))
    assert not ok
    assert why == "country 'DE' not in ['CA', 'US']"
    ok, why = when.matches(Context(sku="A"))
    assert not ok
    assert "no country" in why
    ok, why = Condition(channels=frozenset({"web"})).matches(Context(channel="pos"))
    assert (ok, why) == (False, "channel 'pos' not in ['web']")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("99.99"), False),
        (Decimal("100"), True),  # minimum is inclusive
        (Decimal("100.00"), True),
        (Decimal("499.99"), True),
        (Decimal("500"), False),  # maximum is exclusive
        (None, False),
    ],
)
def test_order_value_bounds(value: Decimal | None, expected: bool) -> None:
    when = Condition(min_order_value=Decimal("100.00"), max_order_value=Decimal("500"))
    ok, why = when.matches(Context(order_value=value))
    assert ok is expected
    assert "order value" in why


# --- resolve -----------------------------------------------------------------------------


def test_first_matching_rule_wins_in_list_order() -> None:
    matrix = Matrix(
        rules=(
            Rule("pos-picks", "picking", "merchant", Condition(channels=frozenset({"pos"}))),
            Rule("web-picks", "packing", "merchant", Condition(channels=frozenset({"web"}))),
            Rule("all-picks", "picking", "provider", Condition(), facility="F1"),
            Rule("never", "picking", "merchant", Condition()),
        ),
        defaults={"picking": "merchant"},
    )
    pos = resolve(matrix, "picking", Context(channel="pos"))
    assert (pos.owner, pos.rule_id) == ("merchant", "pos-picks")
    web = resolve(matrix, "picking", Context(channel="web"))
    # The packing rule must not leak into picking; the catch-all rule comes next.
    assert (web.owner, web.rule_id, web.facility) == ("provider", "all-picks", "F1")
    assert web.reason == "rule 'all-picks' matched: unconditional"


def test_default_applies_when_no_rule_matches() -> None:
    matrix = parse_matrix(example_json())
    decision = resolve(matrix, "branded_inserts", Context(sku="S", channel="web", country="US"))
    assert decision.owner == "provider"
    assert decision.rule_id is None
    assert decision.reason.startswith("no rule for branded_inserts matched; default owner provider")
    assert "sku tags [] have none of ['premium']" in decision.reason


def test_matching_rule_carries_its_terms() -> None:
    matrix = parse_matrix(example_json())
    ctx = Context(
        sku="S", sku_tags=PREMIUM, channel="web", country="US", order_value=Decimal("150")
    )
    decision = resolve(matrix, "branded_inserts", ctx)
    assert decision.owner == "merchant"
    assert decision.rule_id == "premium-inserts"
    assert decision.cost_bearer == "merchant"
    assert decision.reason.startswith("rule 'premium-inserts' matched: sku tag 'premium' in")
    as_dict = decision.as_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["rule_id"] == "premium-inserts"


def test_default_of_none_and_missing_default() -> None:
    matrix = Matrix(rules=(), defaults={"kitting": None})
    kitting = resolve(matrix, "kitting", Context())
    assert kitting.owner is None
    assert kitting.reason == "no rule for kitting matched; default: not performed"
    storage = resolve(matrix, "storage", Context())
    assert storage.owner is None
    assert "storage has no default" in storage.reason


def test_unknown_process_is_rejected() -> None:
    with pytest.raises(MatrixError) as caught:
        resolve(Matrix(rules=(), defaults={}), "teleporting", Context())
    assert caught.value.field == "process"
    assert caught.value.code == "invalid_matrix"
    assert "teleporting" in str(caught.value)


# --- parsing -----------------------------------------------------------------------------


def test_parse_example() -> None:
    matrix = parse_matrix(example_json())
    (rule,) = matrix.rules
    assert rule.id == "premium-inserts"
    assert rule.when.countries == frozenset({"US"})
    assert rule.when.min_order_value == Decimal("100.00")
    assert rule.when.max_order_value is None
    assert rule.when.sku_tags_all is None
    assert matrix.defaults == {"picking": "provider", "branded_inserts": "provider"}


def test_missing_ids_get_process_and_position() -> None:
    data = {
        "rules": [
            {"id": "x", "process": "picking", "owner": "merchant"},
            {"process": "packing", "owner": "provider"},
            {"process": "kitting", "owner": None, "id": None},
        ]
    }
    assert [r.id for r in parse_matrix(data).rules] == ["x", "packing#2", "kitting#3"]


def test_lowercase_countries_and_numeric_values_are_normalised() -> None:
    data = {
        "rules": [
            {
                "process": "picking",
                "owner": "merchant",
                "when": {"countries": ["de", "Fr"], "min_order_value": 0.1, "max_order_value": 5},
            }
        ]
    }
    when = parse_matrix(data).rules[0].when
    assert when.countries == frozenset({"DE", "FR"})
    assert when.min_order_value == Decimal("0.1")  # not the binary expansion of 0.1
    assert when.max_order_value == Decimal(5)


def rule_with(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": "r", "process": "picking", "owner": "merchant"}
    rule.update(changes)
    return rule


def when_rule(**when: Any) -> dict[str, Any]:
    return {"rules": [rule_with(id="ok"), rule_with(id="bad", when=when)]}


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"rules": [rule_with(process="dancing")]}, "rules[0].process", "unknown process"),
        ({"rules": [rule_with(owner="carrier")]}, "rules[0].owner", "'carrier'"),
        ({"rules": [{"process": "picking"}]}, "rules[0].owner", "required"),
        ({"rules": [rule_with(cost_bearer="both")]}, "rules[0].cost_bearer", "'both'"),
        ({"rules": [rule_with(colour="red")]}, "rules[0].colour", "unknown key"),
        ({"rules": [rule_with(id="")]}, "rules[0].id", "non-empty"),
        ({"rules": [rule_with(facility=3)]}, "rules[0].facility", "string"),
        ({"rules": ["picking"]}, "rules[0]", "object"),
        ({"rules": {"id": "r"}}, "rules", "list"),
        ({"rules": [], "extra": 1}, "extra", "unknown key"),
        (when_rule(region="EU"), "rules[1].when.region", "unknown key"),
        (when_rule(countries="US"), "rules[1].when.countries", "must be a list"),
        (when_rule(countries=["US", "USA"]), "rules[1].when.countries[1]", "two-letter"),
        (when_rule(countries=["US", "ZZ"]), "rules[1].when.countries[1]", "ISO 3166-1"),
        (when_rule(countries=[]), "rules[1].when.countries", "empty"),
        (when_rule(sku_tags_any=["a", 7]), "rules[1].when.sku_tags_any[1]", "string"),
        (when_rule(channels=[""]), "rules[1].when.channels[0]", "string"),
        (when_rule(min_order_value="cheap"), "rules[1].when.min_order_value", "decimal"),
        (when_rule(min_order_value="-1"), "rules[1].when.min_order_value", "negative"),
        (when_rule(min_order_value="NaN"), "rules[1].when.min_order_value", "finite"),
        (when_rule(max_order_value=True), "rules[1].when.max_order_value", "boolean"),
        (
            when_rule(min_order_value="10", max_order_value="10"),
            "rules[1].when.max_order_value",
            "greater",
        ),
        ({"rules": [rule_with(when=["US"])]}, "rules[0].when", "object"),
        ({"defaults": {"packing": "robot"}}, "defaults.packing", "'robot'"),
        ({"defaults": {"flying": "merchant"}}, "defaults.flying", "unknown process"),
        ({"defaults": ["picking"]}, "defaults", "object"),
    ],
)
def test_invalid_matrix_names_the_field(data: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(MatrixError) as caught:
        parse_matrix(data)
    assert caught.value.field == field
    assert caught.value.code == "invalid_matrix"
    assert words in str(caught.value)


def test_duplicate_rule_ids_are_rejected() -> None:
    with pytest.raises(MatrixError) as caught:
        parse_matrix({"rules": [rule_with(id="a"), rule_with(id="b"), rule_with(id="a")]})
    assert caught.value.field == "rules[2].id"
    assert "rules[0]" in str(caught.value)
    # A generated id collides with an explicit one just the same.
    with pytest.raises(MatrixError) as caught:
        parse_matrix({"rules": [rule_with(id="picking#2"), {"process": "picking", "owner": None}]})
    assert caught.value.field == "rules[1].id"


def test_non_mapping_matrix_is_rejected() -> None:
    with pytest.raises(MatrixError) as caught:
        parse_matrix(["rules"])  # type: ignore[arg-type]
    assert caught.value.field == "matrix"


# --- round trip --------------------------------------------------------------------------

names = st.text(alphabet="abcdefgh-_", min_size=1, max_size=6)
name_sets = st.none() | st.frozensets(names, min_size=1, max_size=3)
money = st.none() | st.decimals(min_value=0, max_value=10_000, places=2)
owners = st.sampled_from((None, "merchant", "provider"))
texts = st.none() | names


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    low, high = draw(money), draw(money)
    if low is not None and high is not None and high <= low:
        high = low + 1
    return Condition(
        sku_tags_any=draw(name_sets),
        sku_tags_all=draw(name_sets),
        skus=draw(name_sets),
        channels=draw(name_sets),
        countries=draw(
            st.none() | st.frozensets(st.sampled_from(("US", "DE", "GB", "JP")), min_size=1)
        ),
        min_order_value=low,
        max_order_value=high,
    )


@st.composite
def matrices(draw: st.DrawFn) -> Matrix:
    count = draw(st.integers(min_value=0, max_value=5))
    ids = draw(st.lists(names, min_size=count, max_size=count, unique=True))
    rules = tuple(
        Rule(
            id=rule_id,
            process=draw(st.sampled_from(ALL_PROCESSES)),
            owner=draw(owners),
            when=draw(conditions()),
            facility=draw(texts),
            sla_target=draw(texts),
            cost_bearer=draw(st.sampled_from((None, "merchant", "provider"))),
            note=draw(texts),
        )
        for rule_id in ids
    )
    defaults = draw(st.dictionaries(st.sampled_from(ALL_PROCESSES), owners))
    return Matrix(rules=rules, defaults=defaults)


@given(matrices())
def test_matrix_round_trips_through_json(matrix: Matrix) -> None:
    data = matrix_to_dict(matrix)
    assert parse_matrix(json.loads(json.dumps(data))) == matrix


def test_round_trip_detects_a_change() -> None:
    matrix = parse_matrix(example_json())
    data = matrix_to_dict(matrix)
    data["rules"][0]["when"]["countries"] = ["CA"]  # type: ignore[index]
    assert parse_matrix(data) != matrix


# --- templates ---------------------------------------------------------------------------

CLASSIC_PROVIDER = {
    "receiving",
    "quality_check",
    "storage",
    "picking",
    "packing",
    "labeling",
    "carrier_handoff",
    "returns_receiving",
    "mis_pick",
    "damaged_inbound",
}
ON_DEMAND = {"branded_inserts", "kitting"}


def test_template_names() -> None:
    assert set(TEMPLATES) == {"classic_semi_managed", "fully_managed", "in_house"}


@pytest.mark.parametrize("name", ["classic_semi_managed", "fully_managed", "in_house"])
def test_every_template_covers_every_process(name: str) -> None:
    matrix = template(name)
    assert set(matrix.defaults) == set(ALL_PROCESSES)
    for process in ALL_PROCESSES:
        owner = matrix.defaults[process]
        if process in ON_DEMAND:
            assert owner is None, process
        else:
            assert owner in ("merchant", "provider"), process
    assert parse_matrix(matrix_to_dict(matrix)) == matrix


def test_classic_semi_managed_split() -> None:
    matrix = template("classic_semi_managed")
    for process in set(ALL_PROCESSES) - ON_DEMAND:
        expected = "provider" if process in CLASSIC_PROVIDER else "merchant"
        assert resolve(matrix, process, Context()).owner == expected, process
    premium = Context(sku="P", sku_tags=PREMIUM)
    assert resolve(matrix, "branded_inserts", premium).owner == "merchant"
    assert resolve(matrix, "branded_inserts", Context(sku="P")).owner is None
    kit = Context(sku="K", sku_tags=frozenset({"kit"}))
    assert resolve(matrix, "kitting", kit).owner == "provider"
    assert resolve(matrix, "kitting", Context(sku="P")).owner is None


def test_fully_managed_and_in_house() -> None:
    managed = template("fully_managed")
    merchant_kept = {"refunds", "customer_communication", "urgent_reorder"}
    for process in set(ALL_PROCESSES) - ON_DEMAND:
        expected = "merchant" if process in merchant_kept else "provider"
        assert resolve(managed, process, Context()).owner == expected, process
    premium_kit = Context(sku="P", sku_tags=frozenset({"premium", "kit"}))
    assert resolve(managed, "branded_inserts", premium_kit).owner == "provider"
    assert resolve(managed, "kitting", premium_kit).owner == "provider"
    in_house = template("in_house")
    for process in ALL_PROCESSES:
        assert resolve(in_house, process, premium_kit).owner == "merchant", process


def test_unknown_template_lists_the_known_ones() -> None:
    with pytest.raises(MatrixError) as caught:
        template("semi")
    assert caught.value.field == "template"
    for name in TEMPLATES:
        assert name in str(caught.value)


# --- the resolver's memory -----------------------------------------------------------------


_CONTEXTS = st.builds(
    Context,
    sku=st.sampled_from([None, "MUG", "TEE", "CANDLE"]),
    sku_tags=st.sampled_from([frozenset(), PREMIUM, frozenset({"fragile"})]),
    channel=st.sampled_from([None, "web", "marketplace"]),
    country=st.sampled_from([None, "US", "us", "DE"]),
    order_value=st.sampled_from([None, Decimal("20"), Decimal("100.00"), Decimal("250")]),
)


@pytest.mark.parametrize(
    "rules",
    [
        example_json()["rules"],  # bounds the order value
        [{"id": "mugs", "process": "picking", "owner": "merchant", "when": {"skus": ["MUG"]}}],
        [{"id": "eu", "process": "packing", "owner": "merchant", "when": {"countries": ["DE"]}}],
    ],
)
@given(contexts=st.lists(_CONTEXTS, min_size=1, max_size=30))
def test_the_resolver_decides_exactly_as_resolve(
    rules: list[dict[str, Any]], contexts: list[Context]
) -> None:
    """Whatever it remembers, every decision equals resolve()'s, reason included."""
    matrix = parse_matrix({"rules": rules, "defaults": {"picking": "provider"}})
    resolver = Resolver(matrix)
    for ctx in contexts:
        for process in FULFILLMENT_ORDER_PROCESSES:
            assert resolver(process, ctx) == resolve(matrix, process, ctx)


def test_the_resolver_computes_a_context_that_differs_only_in_unused_facts_once() -> None:
    matrix = parse_matrix(
        {
            "rules": [
                {
                    "id": "eu",
                    "process": "packing",
                    "owner": "merchant",
                    "when": {"countries": ["DE"]},
                }
            ],
            "defaults": {"packing": "provider"},
        }
    )
    resolver = Resolver(matrix)
    first = resolver("packing", Context(sku="MUG", country="DE", order_value=Decimal("10")))
    again = resolver("packing", Context(sku="TEE", country="DE", order_value=Decimal("99")))
    assert again is first  # no rule reads the SKU or the value: remembered
    other = resolver("packing", Context(sku="TEE", country="US"))
    assert other is not first and other.owner == "provider"
