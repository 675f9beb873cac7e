"""The data-sharing policy: validation and the provider's view of the ship-to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from midway.core.sharing import (
    ADDRESS_ONLY,
    DEFAULT,
    SharingError,
    SharingPolicy,
    parse_sharing,
    provider_ship_to,
)

SHIP_TO = {
    "name": "Ada Lane",
    "address1": "1 Main St",
    "city": "Austin",
    "postal_code": "78701",
    "country": "US",
    "phone": "5125550100",
    "email": "ada@example.com",
}
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def test_missing_keys_take_the_defaults():
    assert parse_sharing(None) == DEFAULT == SharingPolicy("assigned_fulfillment_orders", 90)
    assert parse_sharing({"pii_retention_days": 30}) == SharingPolicy(
        "assigned_fulfillment_orders", 30
    )
    assert parse_sharing({"customer_pii": "address_only"}).pii_retention_days == 90


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"customer_pii": "everything"}, "data_sharing.customer_pii"),
        ({"pii_retention_days": -1}, "data_sharing.pii_retention_days"),
        ({"pii_retention_days": 3651}, "data_sharing.pii_retention_days"),
        ({"pii_retention_days": 1.5}, "data_sharing.pii_retention_days"),
        ({"pii_retention_days": True}, "data_sharing.pii_retention_days"),
        ({"retention": 10}, "data_sharing.retention"),
        ([], "data_sharing"),
    ],
)
def test_bad_policies_name_the_field(raw, field):
    with pytest.raises(SharingError) as caught:
        parse_sharing(raw)
    assert caught.value.field == field
    assert caught.value.code == "invalid_data_sharing"


def test_an_open_fulfillment_order_shows_the_whole_ship_to_by_default():
    assert provider_ship_to(DEFAULT, SHIP_TO, finished_at=None, now=NOW) == SHIP_TO


def test_address_only_never_shows_phone_or_email():
    seen = provider_ship_to(SharingPolicy(ADDRESS_ONLY, 90), SHIP_TO, finished_at=None, now=NOW)
    assert seen == {
        "name": "Ada Lane",
        "address1": "1 Main St",
        "city": "Austin",
        "postal_code": "78701",
        "country": "US",
        "redacted": True,
    }


def test_after_the_retention_period_only_country_and_postal_code_remain():
    policy = SharingPolicy("assigned_fulfillment_orders", 30)
    finished = NOW - timedelta(days=30)
    reduced = {"country": "US", "postal_code": "78701", "redacted": True}
    assert provider_ship_to(policy, SHIP_TO, finished_at=finished, now=NOW) == reduced
    just_before = NOW - timedelta(days=30) + timedelta(seconds=1)
    assert provider_ship_to(policy, SHIP_TO, finished_at=just_before, now=NOW) == SHIP_TO
    none_kept = SharingPolicy("assigned_fulfillment_orders", 0)
    assert provider_ship_to(none_kept, SHIP_TO, finished_at=NOW, now=NOW) == reduced
