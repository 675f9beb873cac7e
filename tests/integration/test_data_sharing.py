"""The agreement's data-sharing policy decides what the provider sees of the customer."""

from __future__ import annotations

from typing import Any

from tests.integration.support_network import build_network

CONTACT = {"phone": "5125550100", "email": "ada@example.com"}


def _fo_ship_to(network, fo_id: str) -> dict[str, Any]:
    r = network.provider.get(f"/v1/fulfillment-orders/{fo_id}")
    assert r.status_code == 200, r.text
    ship_to: dict[str, Any] = r.json()["ship_to"]
    return ship_to


def test_address_only_hides_contact_details_from_the_provider(make_actor):
    network = build_network(make_actor, data_sharing={"customer_pii": "address_only"})
    body = network.order("1001")
    body["ship_to"] |= CONTACT
    r = network.merchant.post("/v1/orders", json=body)
    assert r.status_code == 201, r.text
    placed = r.json()
    assert placed["ship_to"]["phone"] == "5125550100"  # the merchant sees its customer whole
    seen = _fo_ship_to(network, placed["fulfillment_orders"][0]["id"])
    assert seen == {
        "name": "Ada Lane",
        "company": None,
        "address1": "1 Main St",
        "address2": None,
        "city": "Austin",
        "region": None,
        "postal_code": "78701",
        "country": "US",
        "redacted": True,
    }
    listed = network.provider.get("/v1/fulfillment-orders").json()
    assert all("phone" not in fo["ship_to"] for fo in listed)


def test_a_finished_order_keeps_only_country_and_postal_code_after_retention(make_actor):
    network = build_network(make_actor, data_sharing={"pii_retention_days": 0})
    body = network.order("1002")
    body["ship_to"] |= CONTACT
    placed = network.merchant.post("/v1/orders", json=body).json()
    fo_id = placed["fulfillment_orders"][0]["id"]
    assert _fo_ship_to(network, fo_id)["email"] == "ada@example.com"  # open: whole
    r = network.merchant.post(f"/v1/orders/{placed['id']}/cancel")
    assert r.status_code == 200, r.text
    reduced = {"country": "US", "postal_code": "78701", "redacted": True}
    assert _fo_ship_to(network, fo_id) == reduced
    mine = network.merchant.get(f"/v1/orders/{placed['id']}").json()
    assert mine["ship_to"]["email"] == "ada@example.com"


def test_a_bad_policy_is_refused_naming_the_field(make_actor):
    network = build_network(make_actor)
    r = network.merchant.post(
        "/v1/agreements",
        json={
            "provider_id": network.provider.id,
            "facility_codes": ["KS-CHI"],
            "data_sharing": {"customer_pii": "everything", "pii_retention_days": 30},
        },
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "invalid_data_sharing"
    assert problem["field"] == "data_sharing.customer_pii"
    stored = network.merchant.get(f"/v1/agreements/{network.agreement_id}").json()
    assert stored["versions"][0]["data_sharing"] == {
        "customer_pii": "assigned_fulfillment_orders",
        "pii_retention_days": 90,
    }
