"""Another tenant's objects answer 404, never 403 with details; feeds are scoped."""

from __future__ import annotations

import pytest


@pytest.fixture
def outsiders(make_actor):
    return make_actor("merchant", "Other Merchant"), make_actor("provider", "Unrelated 3PL")


def test_every_object_of_the_first_merchant_is_invisible_to_others(network, outsiders):
    order = network.place(lines=[("MUG-GLD", 1)])
    fo = order["fulfillment_orders"][0]
    task = network.provider.get("/v1/tasks?mine=true").json()[0]
    reads = [
        f"/v1/orders/{order['id']}",
        f"/v1/fulfillment-orders/{fo['id']}",
        f"/v1/agreements/{network.agreement_id}",
        f"/v1/agreements/{network.agreement_id}/matrix/resolve?process=picking",
    ]
    writes = [
        f"/v1/orders/{order['id']}/cancel",
        f"/v1/orders/{order['id']}/source",
        f"/v1/fulfillment-orders/{fo['id']}/accept",
        f"/v1/fulfillment-orders/{fo['id']}/hold",
        f"/v1/agreements/{network.agreement_id}/accept",
        f"/v1/tasks/{task['id']}/complete",
    ]
    for outsider in outsiders:
        for url in reads:
            r = outsider.get(url)
            assert r.status_code == 404, (outsider.kind, url, r.text)
            assert network.merchant.id not in r.text
        for url in writes:
            r = outsider.post(url, json={"reason": "other"})
            assert r.status_code == 404, (outsider.kind, url, r.text)
        assert outsider.get("/v1/events").json()["events"] == []
        assert outsider.get("/v1/fulfillment-orders").json() == []
        assert outsider.get("/v1/tasks").json() == []
        assert outsider.get("/v1/inventory").json() == []
        assert outsider.get("/v1/inventory/ledger").json()["movements"] == []
    other_merchant = outsiders[0]
    assert other_merchant.get("/v1/orders").json() == []
    assert other_merchant.get("/v1/skus/MUG-GLD").status_code == 404
    # nothing changed for the real parties
    assert network.provider.get(f"/v1/fulfillment-orders/{fo['id']}").json()["status"] == "open"


def test_provider_sees_only_its_work_and_not_orders(network):
    order = network.place()
    assert network.provider.get(f"/v1/orders/{order['id']}").status_code == 404
    assert network.provider.get("/v1/orders").status_code == 403
    fos = network.provider.get("/v1/fulfillment-orders").json()
    assert [f["id"] for f in fos] == [order["fulfillment_orders"][0]["id"]]
    types = {e["type"] for e in network.provider.get("/v1/events").json()["events"]}
    assert "fulfillment_order.created" in types
    assert not {t for t in types if t.startswith("order.")}


def test_a_provider_cannot_post_stock_for_a_merchant_without_agreement(network, outsiders):
    other_merchant, _ = outsiders
    other_merchant.put("/v1/skus/X-1", json={"name": "x"})
    r = network.provider.post(
        "/v1/inventory/adjustments",
        json={
            "facility_code": "KS-CHI",
            "sku": "X-1",
            "quantity": 5,
            "reason": "receipt",
            "kind": "receipt",
            "merchant_id": other_merchant.id,
        },
    )
    assert r.status_code == 404
    assert r.json()["field"] == "merchant_id"


def test_roles_limit_what_a_key_may_do(network, client, db):
    from midway.parties import service as parties

    with db.transaction() as session:
        viewer = parties.issue_key(session, party_id=network.merchant.id, role="viewer")
    headers = {"Authorization": f"Bearer {viewer.secret}"}
    assert client.get("/v1/orders", headers=headers).status_code == 200
    r = client.post("/v1/orders", json=network.order("v-1"), headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "role_too_low"


def test_missing_wrong_and_revoked_keys(network, client):
    assert client.get("/v1/orders").status_code == 401
    r = client.get("/v1/orders", headers={"Authorization": "Bearer mw_nope_nope"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_api_key"
    r = network.merchant.post("/v1/api-keys", json={"role": "operator"})
    assert r.status_code == 201
    key = r.json()
    headers = {"Authorization": f"Bearer {key['api_key']}"}
    assert client.get("/v1/me", headers=headers).json()["role"] == "operator"
    assert network.merchant.delete(f"/v1/api-keys/{key['id']}").status_code == 204
    assert client.get("/v1/me", headers=headers).status_code == 401
