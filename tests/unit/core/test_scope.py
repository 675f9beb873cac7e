"""Agreement scope: what a pilot covers, and its JSON form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from midway.core.errors import ScopeError
from midway.core.scope import Scope, parse_scope, scope_to_dict

NO_TAGS: frozenset[str] = frozenset()


def admits(scope: Scope, sku: str = "S1", tags: frozenset[str] = NO_TAGS, **kw: Any) -> bool:
    ok, _ = scope.admits(
        sku=sku, sku_tags=tags, channel=kw.get("channel"), country=kw.get("country")
    )
    return ok


@pytest.mark.parametrize("data", [None, {}])
def test_empty_scope_is_unrestricted(data: dict[str, object] | None) -> None:
    scope = parse_scope(data)
    assert scope == Scope(None, None, None, None)
    assert scope.admits(sku="ANY", sku_tags=NO_TAGS, channel="pos", country="JP")[0]


def test_sku_admitted_by_list_or_by_tag() -> None:
    scope = Scope(
        sku_tags=frozenset({"pilot"}), skus=frozenset({"A1"}), channels=None, countries=None
    )
    assert admits(scope, "A1")
    assert admits(scope, "B2", frozenset({"pilot", "big"}))
    ok, why = scope.admits(sku="B2", sku_tags=frozenset({"big"}), channel=None, country=None)
    assert not ok
    assert why == (
        "sku 'B2' not in scope skus ['A1'] and its tags ['big'] have none of scope tags ['pilot']"
    )


def test_sku_list_alone_excludes_other_skus() -> None:
    scope = Scope(sku_tags=None, skus=frozenset({"A1"}), channels=None, countries=None)
    assert not admits(scope, "B2", frozenset({"pilot"}))
    tags_only = Scope(sku_tags=frozenset({"pilot"}), skus=None, channels=None, countries=None)
    assert not admits(tags_only, "A1")
    assert admits(tags_only, "A1", frozenset({"pilot"}))


def test_channel_and_country_restrictions_name_the_cause() -> None:
    scope = Scope(
        sku_tags=None, skus=None, channels=frozenset({"web"}), countries=frozenset({"US", "CA"})
    )
    assert admits(scope, channel="web", country="us")
    ok, why = scope.admits(sku="S", sku_tags=NO_TAGS, channel="pos", country="US")
    assert (ok, why) == (False, "channel 'pos' not in scope channels ['web']")
    ok, why = scope.admits(sku="S", sku_tags=NO_TAGS, channel="web", country="DE")
    assert (ok, why) == (False, "country 'DE' not in scope countries ['CA', 'US']")


def test_unknown_channel_or_country_is_not_checked() -> None:
    # A SKU on its own (inbound stock, say) has no order to take a channel or country from.
    scope = Scope(
        sku_tags=None, skus=None, channels=frozenset({"web"}), countries=frozenset({"US"})
    )
    assert admits(scope, channel=None, country=None)
    assert not admits(scope, channel=None, country="DE")


def test_parse_normalises_countries() -> None:
    scope = parse_scope({"countries": ["us", "Ca"], "sku_tags": ["pilot"]})
    assert scope.countries == frozenset({"US", "CA"})
    assert scope.sku_tags == frozenset({"pilot"})
    assert scope.skus is None


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"countries": ["US", "Germany"]}, "scope.countries[1]", "two-letter"),
        ({"countries": ["XX"]}, "scope.countries[0]", "ISO 3166-1"),
        ({"countries": "US"}, "scope.countries", "list"),
        ({"skus": []}, "scope.skus", "empty"),
        ({"sku_tags": ["ok", None]}, "scope.sku_tags[1]", "string"),
        ({"channels": [3]}, "scope.channels[0]", "string"),
        ({"regions": ["EU"]}, "scope.regions", "unknown key"),
    ],
)
def test_invalid_scope_names_the_field(data: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(ScopeError) as caught:
        parse_scope(data)
    assert caught.value.field == field
    assert caught.value.code == "invalid_scope"
    assert words in str(caught.value)


def test_non_mapping_scope_is_rejected() -> None:
    with pytest.raises(ScopeError) as caught:
        parse_scope(["US"])  # type: ignore[arg-type]
    assert caught.value.field == "scope"


def test_scope_to_dict_shape() -> None:
    scope = Scope(sku_tags=frozenset({"b", "a"}), skus=None, channels=None, countries=None)
    assert scope_to_dict(scope) == {
        "sku_tags": ["a", "b"],
        "skus": None,
        "channels": None,
        "countries": None,
    }


sets = st.none() | st.frozensets(st.text(alphabet="abcxyz-", min_size=1, max_size=5), min_size=1)


@given(
    sets,
    sets,
    sets,
    st.none() | st.frozensets(st.sampled_from(("US", "GB", "DE", "BR")), min_size=1),
)
def test_scope_round_trips_through_json(
    tags: frozenset[str] | None,
    skus: frozenset[str] | None,
    channels: frozenset[str] | None,
    countries: frozenset[str] | None,
) -> None:
    scope = Scope(sku_tags=tags, skus=skus, channels=channels, countries=countries)
    assert parse_scope(json.loads(json.dumps(scope_to_dict(scope)))) == scope
