"""Who sees which invoices, and bad input: periods, missing or invalid rate cards."""

from __future__ import annotations

from typing import Any

import pytest

from midway.agreements import service as agreements
from midway.agreements.models import AgreementVersion
from midway.db import Database, clock_at
from midway.principal import Principal
from tests.integration.support_network import build_network
from tests.integration.test_billing_month import RATE_CARD, local, month_with_actors


@pytest.fixture
def month(db: Database, make_actor: Any) -> Any:
    return month_with_actors(db, make_actor)


def test_each_party_sees_its_own_agreements_only(month: Any, make_actor: Any, db: Database) -> None:
    scenario, merchant, provider = month
    # A second merchant works with the same provider under its own agreement.
    other = make_actor("merchant", "Other Goods")
    with clock_at(local(9, 1, 9)), db.transaction() as session:
        agreement, _ = agreements.propose(
            session,
            Principal(other.id, "merchant", "admin"),
            provider_id=provider.id,
            terms=agreements.Terms(facility_codes=["KS-CHI"], rate_card=RATE_CARD),
        )
        agreements.decide(
            session, Principal(provider.id, "provider", "admin"), agreement.id, accept=True
        )
    ours = f"/v1/agreements/{scenario.agreement_id}/invoices"
    theirs = f"/v1/agreements/{agreement.id}/invoices"

    mine = provider.post(ours, json={"period": "2026-10"})  # the provider drafts its bill
    assert mine.status_code == 201, mine.text
    invoice = mine.json()
    assert merchant.get(f"{ours}/{invoice['id']}").status_code == 200
    assert [i["id"] for i in merchant.get(ours).json()] == [invoice["id"]]
    line = invoice["lines"][0]
    sources = f"{ours}/{invoice['id']}/lines/{line['id']}/sources?kind=ledger_rows"
    assert merchant.get(sources).status_code == 200

    # the other merchant: 404 on everything of our agreement
    for url in (ours, f"{ours}/{invoice['id']}", sources):
        assert other.get(url).status_code == 404, url
    assert other.post(ours, json={"period": "2026-10"}).status_code == 404
    # a provider with no agreement with us: 404 too
    stranger = make_actor("provider", "Elsewhere 3PL")
    assert stranger.get(f"{ours}/{invoice['id']}").status_code == 404
    assert stranger.post(ours, json={"period": "2026-10"}).status_code == 404
    # our invoice is not reachable through their agreement either
    assert other.get(f"{theirs}/{invoice['id']}").status_code == 404
    # the provider sees both of its agreements
    assert provider.post(theirs, json={"period": "2026-10"}).status_code == 201
    assert merchant.get(theirs).status_code == 404


def test_a_viewer_reads_but_does_not_draft(month: Any, make_actor: Any, db: Database) -> None:
    scenario, merchant, _ = month
    from midway.parties import service as parties

    with db.transaction() as session:
        key = parties.issue_key(session, party_id=merchant.id, role="viewer")
    viewer = {"Authorization": f"Bearer {key.secret}"}
    url = f"/v1/agreements/{scenario.agreement_id}/invoices"
    r = merchant.client.post(url, json={"period": "2026-10"}, headers=viewer)
    assert (r.status_code, r.json()["code"]) == (403, "role_too_low")
    assert merchant.client.get(url, headers=viewer).status_code == 200


def test_bad_periods_and_unknown_lines(month: Any) -> None:
    scenario, merchant, _ = month
    url = f"/v1/agreements/{scenario.agreement_id}/invoices"
    bad_months = ("2026-13", "2026-1", "October", "2026-10-01", "0000-01", "9999-12", "0001-01")
    for period in bad_months:
        r = merchant.post(url, json={"period": period})
        assert (r.status_code, r.json()["field"]) == (422, "period"), period
    scorecard = f"/v1/agreements/{scenario.agreement_id}/scorecard"
    for period in bad_months:
        r = merchant.get(scorecard, params={"period": period})
        assert (r.status_code, r.json()["field"]) == (422, "period"), period
    invoice = merchant.post(url, json={"period": "2026-10"}).json()
    r = merchant.get(f"{url}/{invoice['id']}/lines/inl_nope/sources?kind=shipments")
    assert r.status_code == 404
    line = invoice["lines"][0]["id"]
    r = merchant.get(f"{url}/{invoice['id']}/lines/{line}/sources?kind=orders")
    assert (r.status_code, r.json()["field"]) == (422, "kind")
    # a period before the agreement was accepted
    r = merchant.post(url, json={"period": "2026-07"})
    assert (r.status_code, r.json()["code"]) == (409, "no_agreement_in_force")


def test_no_rate_card_and_a_bad_rate_card(make_actor: Any, db: Database) -> None:
    net = build_network(make_actor, stock=0)
    url = f"/v1/agreements/{net.agreement_id}/invoices"
    r = net.merchant.post(url, json={"period": "2099-01"})
    assert (r.status_code, r.json()["code"]) == (409, "no_rate_card")
    # A bad card is refused when it is proposed, naming the charge and field ...
    bad = {**RATE_CARD, "labeling": {"per": "order", "price": "-0.20"}}
    r = net.merchant.post(
        f"/v1/agreements/{net.agreement_id}/versions",
        json={"facility_codes": ["KS-CHI"], "rate_card": bad},
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid_rate_card"), r.text
    assert r.json()["field"].endswith("labeling.price")
    assert "Labeling per order" in r.json()["detail"]
    # ... and one stored before cards were checked makes the invoice fail the same way,
    # with nothing stored.
    with db.transaction() as session:
        version = session.get(AgreementVersion, (net.agreement_id, 1))
        assert version is not None
        version.rate_card = bad
    r = net.merchant.post(url, json={"period": "2099-01"})
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["field"]) == ("invalid_rate_card", "labeling.price")
    assert net.merchant.get(url).json() == []


def test_rate_card_validation_endpoint(make_actor: Any) -> None:
    merchant = make_actor("merchant", "Northwind Goods")
    r = merchant.post("/v1/rate-cards/validate", json=RATE_CARD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["currency"] == "USD" and body["carrier_markup_percent"] == "10"
    assert [c["code"] for c in body["charges"]][:3] == ["receiving", "storage", "storage_aged_21"]
    tiers = {
        "fulfillment": {
            "per_order": {
                "tiers": [
                    {"from": 0, "to": 1000, "price": "2.50"},
                    {"from": 900, "to": None, "price": "2.00"},
                ]
            }
        }
    }
    for card, field in (
        ({**RATE_CARD, "currency": "XYZ"}, "currency"),
        ({**RATE_CARD, **tiers}, "fulfillment.per_order.tiers[1].from"),
        ({**RATE_CARD, "returns": {"per_return": "-3"}}, "returns.per_return"),
    ):
        r = merchant.post("/v1/rate-cards/validate", json=card)
        assert (r.status_code, r.json()["field"]) == (422, field)
