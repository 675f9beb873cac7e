"""Agreements and their matrix, versions, scope; the catalog; the event feed."""

from __future__ import annotations

from tests.integration.support_network import build_network


def test_matrix_resolution_says_owner_rule_and_why(network):
    base = f"/v1/agreements/{network.agreement_id}/matrix/resolve"
    r = network.merchant.get(f"{base}?process=branded_inserts&sku=MUG-GLD&channel=web&country=US")
    assert r.status_code == 200, r.text
    premium = r.json()
    assert premium["owner"] == "merchant" and premium["rule"]
    assert "premium" in premium["reason"]
    plain = network.provider.get(f"{base}?process=branded_inserts&sku=CANDLE").json()
    assert plain["owner"] is None and plain["rule"] is None
    picking = network.merchant.get(f"{base}?process=picking&sku=CANDLE").json()
    assert picking["owner"] == "provider"
    assert network.merchant.get(f"{base}?process=teleport").status_code == 422
    assert network.merchant.get(f"{base}?process=picking&sku=NOPE").status_code == 404


def test_new_version_keeps_the_old_until_accepted(network):
    url = f"/v1/agreements/{network.agreement_id}"
    r = network.merchant.post(
        f"{url}/versions",
        json={
            "facility_codes": ["KS-CHI"],
            "matrix": {
                "rules": [
                    {
                        "id": "eu-picking",
                        "process": "picking",
                        "owner": "merchant",
                        "when": {"countries": ["DE"]},
                    }
                ],
                "defaults": {"picking": "provider"},
            },
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["version"], body["status"], body["active_version"]) == (2, "proposed", 1)
    resolve = f"{url}/matrix/resolve?process=picking&country=DE"
    assert network.merchant.get(resolve).json()["agreement_version"] == 1
    # the proposer cannot accept its own proposal
    assert network.merchant.post(f"{url}/accept").status_code == 409
    r = network.provider.post(f"{url}/accept")
    assert r.status_code == 200 and r.json()["active_version"] == 2
    versions = {v["version"]: v["status"] for v in r.json()["versions"]}
    assert versions == {1: "superseded", 2: "active"}
    decision = network.merchant.get(resolve).json()
    assert (decision["owner"], decision["rule"]) == ("merchant", "eu-picking")
    assert network.merchant.get(f"{resolve}&version=1").json()["owner"] == "provider"


def test_invalid_matrix_names_the_rule_and_field(network):
    r = network.merchant.post(
        f"/v1/agreements/{network.agreement_id}/versions",
        json={
            "facility_codes": ["KS-CHI"],
            "matrix": {"rules": [{"process": "picking", "owner": "robot"}]},
        },
    )
    assert r.status_code == 422
    assert r.json()["field"] == "rules[0].owner"


def test_pilot_scope_limits_what_a_provider_receives(make_actor):
    network = build_network(make_actor, stock=0)
    eu = make_actor("provider", "Rhein Fulfilment")
    eu.post(
        "/v1/facilities",
        json={"code": "RF-DUS", "name": "Düsseldorf", "country": "DE", "timezone": "Europe/Berlin"},
    )
    r = network.merchant.post(
        "/v1/agreements",
        json={
            "provider_id": eu.id,
            "facility_codes": ["RF-DUS"],
            "template": "fully_managed",
            "scope": {"sku_tags": ["premium"], "countries": ["DE", "FR"]},
        },
    )
    assert r.status_code == 201, r.text
    eu.post(f"/v1/agreements/{r.json()['id']}/accept")
    for sku in ("MUG-GLD", "CANDLE"):
        eu.post(
            "/v1/inventory/adjustments",
            json={
                "facility_code": "RF-DUS",
                "sku": sku,
                "quantity": 5,
                "reason": "receipt",
                "kind": "receipt",
                "merchant_id": network.merchant.id,
            },
        )
    order = network.place("eu-1", [("MUG-GLD", 1), ("CANDLE", 1)], country="DE")
    line = {ln["sku"]: ln for ln in order["lines"]}
    assert line["MUG-GLD"]["reserved_quantity"] == 1
    assert line["CANDLE"]["backordered_quantity"] == 1  # out of the pilot's scope
    assert order["status"] == "backordered"
    (fo,) = eu.get("/v1/fulfillment-orders").json()
    assert [ln["sku"] for ln in fo["lines"]] == ["MUG-GLD"]
    # fully managed: the EU provider owns the inserts for premium goods too
    assert "branded_inserts" in {t["process"] for t in eu.get("/v1/tasks?mine=true").json()}
    us_order = network.place("us-1", [("MUG-GLD", 1)], country="US")
    assert us_order["status"] == "backordered"  # the US provider has no stock, EU not in scope


def test_bulk_skus_all_or_nothing_with_every_problem_listed(network):
    r = network.merchant.post(
        "/v1/skus/bulk",
        json={
            "skus": [
                {"sku": "OK-1", "name": "fine"},
                {"sku": "KIT-1", "name": "kit", "components": [{"sku": "NOPE", "quantity": 1}]},
                {"sku": "BAD TAG", "name": "x", "tags": ["Not Valid"]},
            ]
        },
    )
    assert r.status_code == 422
    fields = [e["field"] for e in r.json()["errors"]]
    assert "[1].components[0].sku" in fields and "[2].sku" in fields and "[2].tags[0]" in fields
    assert network.merchant.get("/v1/skus/OK-1").status_code == 404
    r = network.merchant.post(
        "/v1/skus/bulk",
        json={
            "skus": [
                {"sku": "OK-1", "name": "fine"},
                {
                    "sku": "KIT-1",
                    "name": "kit",
                    "components": [
                        {"sku": "OK-1", "quantity": 2},
                        {"sku": "CANDLE", "quantity": 1},
                    ],
                },
            ]
        },
    )
    assert r.json() == {"created": 2, "updated": 0}


def test_a_kit_reserves_and_ships_its_components(network):
    network.merchant.put(
        "/v1/skus/KIT-GIFT",
        json={
            "name": "Gift kit",
            "components": [{"sku": "CANDLE", "quantity": 2}, {"sku": "GIFT-BOX", "quantity": 1}],
            "tags": ["kit"],
        },
    )
    order = network.place("kit-1", [("KIT-GIFT", 3)])
    assert order["lines"][0]["reserved_quantity"] == 3
    stock = {r["sku"]: r for r in network.merchant.get("/v1/inventory").json()}
    assert stock["CANDLE"]["reserved"] == 6 and stock["GIFT-BOX"]["reserved"] == 3
    tasks = {t["process"] for t in network.provider.get("/v1/tasks?mine=true").json()}
    assert "kitting" in tasks
    fo = order["fulfillment_orders"][0]
    network.provider.post(f"/v1/fulfillment-orders/{fo['id']}/accept")
    r = network.provider.post(
        f"/v1/fulfillment-orders/{fo['id']}/shipments",
        json={
            "carrier": "DHL",
            "tracking_number": "JD1",
            "lines": [{"sku": "KIT-GIFT", "quantity": 3}],
        },
    )
    assert r.status_code == 201
    stock = {r["sku"]: r for r in network.merchant.get("/v1/inventory").json()}
    assert (stock["CANDLE"]["on_hand"], stock["CANDLE"]["reserved"]) == (4, 0)
    # a kit with too few components at any one facility is backordered, never oversold
    order = network.place("kit-2", [("KIT-GIFT", 3)])
    assert order["lines"][0]["reserved_quantity"] == 2
    assert order["lines"][0]["backordered_quantity"] == 1


def test_event_feed_pages_with_a_cursor(network):
    network.place("e-1")
    network.place("e-2")
    first = network.merchant.get("/v1/events?limit=3").json()
    assert len(first["events"]) == 3
    rest = network.merchant.get(f"/v1/events?after={first['next_after']}&limit=1000").json()
    seen = [e["id"] for e in first["events"] + rest["events"]]
    assert len(seen) == len(set(seen))
    everything = network.merchant.get("/v1/events?limit=1000").json()["events"]
    assert seen == [e["id"] for e in everything]
    only = network.merchant.get("/v1/events?type=order.*&limit=1000").json()["events"]
    assert only and all(e["type"].startswith("order.") for e in only)
    assert network.merchant.get("/v1/events?after=zzz").status_code == 422


def test_tasks_are_completed_only_by_their_owner(network):
    network.place(lines=[("MUG-GLD", 1)])
    (inserts,) = network.merchant.get("/v1/tasks?mine=true").json()
    picking = next(
        t for t in network.provider.get("/v1/tasks?mine=true").json() if t["process"] == "picking"
    )
    assert network.merchant.post(f"/v1/tasks/{picking['id']}/complete").status_code == 409
    r = network.merchant.post(f"/v1/tasks/{inserts['id']}/complete")
    assert r.status_code == 200 and r.json()["status"] == "done"
    assert network.merchant.post(f"/v1/tasks/{inserts['id']}/complete").status_code == 409
    types = [e["type"] for e in network.provider.get("/v1/events?limit=1000").json()["events"]]
    assert "task.completed" in types
