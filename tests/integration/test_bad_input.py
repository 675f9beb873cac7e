"""Bad input gets a 4xx problem naming what is wrong, and nothing is written."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from midway.events.models import Event
from midway.orders.models import Order
from midway.schemas import StrictModel


def count(db, model):
    with db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("mutate", "status", "field"),
    [
        (lambda b: b["lines"].append({"sku": "NOPE", "quantity": 1}), 422, "lines[1].sku"),
        (lambda b: b["lines"][0].update(quantity=0), 422, "lines[0].quantity"),
        (lambda b: b["lines"][0].update(quantity=-2), 422, "lines[0].quantity"),
        (lambda b: b["ship_to"].update(country="XX"), 422, "ship_to.country"),
        (lambda b: b["ship_to"].pop("city"), 422, "ship_to.city"),
        (lambda b: b.pop("lines"), 422, "lines"),
        (lambda b: b.update(lines=[]), 422, "lines"),
        (lambda b: b.update(surprise=1), 422, "surprise"),
        (lambda b: b["lines"][0].update(unit_price="1e20"), 422, "lines[0].unit_price"),
        (lambda b: b["lines"][0].update(unit_price="0.0000001"), 422, "lines[0].unit_price"),
    ],
)
def test_bad_orders_are_rejected_with_the_field(network, db, mutate, status, field):
    before = (count(db, Order), count(db, Event))
    body = network.order("bad-1")
    mutate(body)
    r = network.merchant.post("/v1/orders", json=body)
    assert r.status_code == status, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["field"] == field
    assert problem["code"] in ("invalid_input", "unknown_sku", "unknown_country")
    assert (count(db, Order), count(db, Event)) == before


def test_malformed_json_is_a_400(network, client):
    r = client.post(
        "/v1/orders",
        content=b'{"channel": "web", ',
        headers={**network.merchant.headers, "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert (r.json()["code"], r.json()["field"]) == ("malformed_json", "body")


def test_a_method_not_allowed_is_a_405_naming_the_allowed_ones(network, client):
    r = client.request("TRACE", "/v1/orders", headers=network.merchant.headers)
    assert r.status_code == 405
    assert r.json()["code"] == "method_not_allowed"
    assert r.headers["content-type"] == "application/problem+json"
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_duplicate_channel_order_never_creates_a_second(network, db):
    first = network.place("dup")
    r = network.merchant.post("/v1/orders", json=network.order("dup", [("CANDLE", 1)]))
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate_order"
    assert r.json()["order_id"] == first["id"]
    assert count(db, Order) == 1


def test_idempotency_key_replays_and_rejects_other_bodies(network, db):
    headers = {"Idempotency-Key": "abc"}
    first = network.merchant.post("/v1/orders", json=network.order("i-1"), headers=headers)
    assert first.status_code == 201
    again = network.merchant.post("/v1/orders", json=network.order("i-1"), headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    other = network.merchant.post("/v1/orders", json=network.order("i-2"), headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert count(db, Order) == 1
    # a failed request does not burn its key
    bad = network.order("i-3", [("NOPE", 1)])
    assert (
        network.merchant.post("/v1/orders", json=bad, headers={"Idempotency-Key": "k3"}).status_code
        == 422
    )
    good = network.merchant.post(
        "/v1/orders", json=network.order("i-3"), headers={"Idempotency-Key": "k3"}
    )
    assert good.status_code == 201, good.text


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            "/v1/facilities",
            {"code": "X", "name": "X", "country": "ZZ", "timezone": "UTC"},
            "country",
        ),
        (
            "/v1/facilities",
            {"code": "X", "name": "X", "country": "US", "timezone": "Mars/Base"},
            "timezone",
        ),
        (
            "/v1/facilities",
            {
                "code": "X",
                "name": "X",
                "country": "US",
                "timezone": "UTC",
                "cutoff_local_time": "25:00",
            },
            "cutoff_local_time",
        ),
        (
            "/v1/facilities",
            {
                "code": "X",
                "name": "X",
                "country": "US",
                "timezone": "UTC",
                "cost_per_package": "1e188",
            },
            "cost_per_package",
        ),
        (
            "/v1/facilities",
            {"code": "X", "name": "X", "country": "US", "timezone": "UTC", "cost_per_unit": 1e15},
            "cost_per_unit",
        ),
        (
            "/v1/agreements",
            {"provider_id": "pty_nope", "facility_codes": ["KS-CHI"]},
            "provider_id",
        ),
        (
            "/v1/inventory/adjustments",
            {"facility_code": "KS-CHI", "sku": "CANDLE", "quantity": 0, "reason": "x"},
            "quantity",
        ),
        (
            "/v1/inventory/adjustments",
            {"facility_code": "NOPE", "sku": "CANDLE", "quantity": 1, "reason": "x"},
            "facility_code",
        ),
    ],
)
def test_bad_setup_input_names_the_field(network, url, body, field):
    r = network.merchant.post(url, json=body)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["field"] == field


def _order_line_quantity(network, value):
    body = network.order("strict-1")
    body["lines"][0]["quantity"] = value
    return body


def _adjustment_quantity(network, value):
    return {
        "facility_code": "KS-CHI",
        "sku": "CANDLE",
        "quantity": value,
        "reason": "found",
        "merchant_id": network.merchant.id,
    }


def _sku_weight(network, value):
    return {"name": "Candle", "weight_g": value, "tags": ["home"]}


def _endpoint_enabled(network, value):
    return {"enabled": value}


# (who, method, path, body with the value, field at fault, a value that is accepted)
STRICT_FIELDS = [
    ("merchant", "POST", "/v1/orders", _order_line_quantity, "lines[0].quantity", 2),
    ("provider", "POST", "/v1/inventory/adjustments", _adjustment_quantity, "quantity", 2),
    ("merchant", "PUT", "/v1/skus/CANDLE", _sku_weight, "weight_g", 250),
    ("merchant", "PATCH", "{hook}", _endpoint_enabled, "enabled", False),
]
NOT_INTEGERS = ["5", 5.0, True]
NOT_BOOLEANS = [0, 1, "true"]


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "field", "good", "bad"),
    [
        pytest.param(*target, bad, id=f"{target[4]}={json.dumps(bad)}")
        for target in STRICT_FIELDS
        for bad in (NOT_BOOLEANS if isinstance(target[5], bool) else NOT_INTEGERS)
    ],
)
def test_body_booleans_and_integers_are_strict(
    network, db, who, method, path, body, field, good, bad
):
    """Only JSON true/false is a boolean and only a JSON integer an integer; anything else is
    a 422 naming the field, and nothing is written."""
    r = network.merchant.post(
        "/v1/webhook-endpoints", json={"url": "https://hooks.example.com/in", "event_types": ["*"]}
    )
    assert r.status_code == 201, r.text
    hook = f"/v1/webhook-endpoints/{r.json()['id']}"
    actor = getattr(network, who)

    def send(value):
        return actor.client.request(
            method, path.format(hook=hook), json=body(network, value), headers=actor.headers
        )

    def written():
        return (
            count(db, Order),
            count(db, Event),
            network.merchant.get("/v1/inventory?sku=CANDLE").json(),
            network.merchant.get("/v1/skus/CANDLE").json(),
            network.merchant.get(hook).json(),
        )

    before = written()
    r = send(bad)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    kind = "boolean" if isinstance(good, bool) else "integer"
    assert (problem["code"], problem["field"]) == ("invalid_input", field)
    assert problem["detail"] == f"{field}: Input should be a valid {kind}"
    assert written() == before
    ok = send(good)
    assert ok.status_code in (200, 201), ok.text


def test_removing_reserved_stock_is_refused(network):
    network.place(lines=[("CANDLE", 8)])
    r = network.provider.post(
        "/v1/inventory/adjustments",
        json={
            "facility_code": "KS-CHI",
            "sku": "CANDLE",
            "quantity": -5,
            "reason": "damaged",
            "merchant_id": network.merchant.id,
        },
    )
    assert r.status_code == 422 and r.json()["code"] == "insufficient_unreserved_stock"
    rows = network.merchant.get("/v1/inventory?sku=CANDLE").json()
    assert (rows[0]["on_hand"], rows[0]["reserved"]) == (10, 8)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**12) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
order_like = st.fixed_dictionaries(
    {
        "channel": st.one_of(st.text(max_size=5), st.integers()),
        "external_id": st.text(max_size=8),
        "ship_to": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "name": st.text(max_size=5),
                    "address1": st.text(max_size=5),
                    "city": st.text(max_size=5),
                    "postal_code": st.text(max_size=5),
                    "country": st.sampled_from(["US", "us", "DE", "XX", "", "USA"]),
                }
            ),
        ),
        "lines": st.one_of(
            json_values,
            st.lists(
                st.fixed_dictionaries(
                    {
                        "sku": st.sampled_from(["CANDLE", "NOPE", "", "MUG-GLD"]),
                        "quantity": st.one_of(st.integers(-3, 50), st.text(max_size=3), st.none()),
                    }
                ),
                max_size=4,
            ),
        ),
    }
)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.one_of(order_like, json_values))
def test_no_input_causes_a_500(network, body):
    for url in (
        "/v1/orders",
        "/v1/facilities",
        "/v1/agreements",
        "/v1/inventory/adjustments",
        "/v1/skus/bulk",
    ):
        r = network.merchant.post(
            url, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )
        assert r.status_code < 500, (url, body, r.text)
    r = network.merchant.put(
        "/v1/skus/X",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    assert r.status_code < 500, r.text


FILTERS = [
    ("/v1/orders", "status", "partially_shipped"),
    ("/v1/fulfillment-orders", "status", "on_hold"),
    ("/v1/fulfillment-orders", "request_status", "cancellation_requested"),
    ("/v1/tasks", "status", "done"),
    ("/v1/edi/documents", "status", "ack_rejected"),
    ("/v1/sla/clocks", "status", "breached"),
]


@pytest.mark.parametrize(("path", "name", "known"), FILTERS)
def test_status_filters_list_their_values_and_refuse_others(network, client, path, name, known):
    """The OpenAPI document lists each filter's values; one outside them is a 422 naming the
    parameter, not an empty page."""
    spec = client.get("/openapi.json").json()
    [param] = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name]
    assert known in param["schema"]["enum"]
    ok = client.get(path, params={name: known}, headers=network.merchant.headers)
    assert ok.status_code == 200, ok.text
    r = client.get(path, params={name: "bogus"}, headers=network.merchant.headers)
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["field"]) == ("invalid_input", name)


def test_month_fields_document_their_form(client):
    """A month (YYYY-MM) is a pattern in the OpenAPI document, wherever the API takes one."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    months = [
        schemas["InvoiceIn"]["properties"]["period"],
        schemas["AuditIn"]["properties"]["period"],
        *(
            p["schema"]
            for p in spec["paths"]["/v1/agreements/{agreement_id}/scorecard"]["get"]["parameters"]
            if p["name"] == "period"
        ),
    ]
    assert len(months) == 3
    for month in months:
        assert re.fullmatch(month["pattern"], "2026-10")
        assert not re.fullmatch(month["pattern"], "2026-13")
        assert not re.fullmatch(month["pattern"], "Oct 2026")


def _lax(schema, where):
    """Where a pydantic core schema takes an int or a bool in lax mode."""
    if isinstance(schema, dict):
        if schema.get("type") in ("int", "bool") and not schema.get("strict"):
            yield where
        for key, value in schema.items():
            yield from _lax(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for n, value in enumerate(schema):
            yield from _lax(value, f"{where}/{n}")


def test_every_input_model_takes_booleans_and_integers_strictly():
    importlib.import_module("midway.api_routes")  # every router, so every input model
    models, todo = [], [StrictModel]
    while todo:
        model = todo.pop()
        models.append(model)
        todo += model.__subclasses__()
    assert len(models) > 30
    lax = [w for m in models for w in _lax(m.__pydantic_core_schema__, m.__qualname__)]
    assert lax == []


def test_strict_fields_keep_their_types_in_the_openapi_document(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["LineIn"]["properties"]["quantity"]["type"] == "integer"
    assert schemas["SkuBody"]["properties"]["weight_g"]["type"] == "integer"
    assert schemas["TermsIn"]["properties"]["auto_submit"]["type"] == "boolean"
    assert schemas["EndpointPatch"]["properties"]["enabled"]["anyOf"] == [
        {"type": "boolean"},
        {"type": "null"},
    ]
    assert schemas["AuditRowIn"]["properties"]["quantity"]["anyOf"] == [
        {"type": "string"},
        {"type": "integer"},
    ]


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("cutoff_local_time", "14:00", "24:00"),
        ("code", "KS-CHI.2", "-KS"),
    ],
)
def test_facility_fields_document_the_form_the_service_checks(network, client, field, good, bad):
    """The OpenAPI pattern of a facility field accepts what the service accepts and refuses
    what it refuses, and the kinds listed are the ones a merchant may create."""
    facility = client.get("/openapi.json").json()["components"]["schemas"]["FacilityIn"]
    pattern = facility["properties"][field]["pattern"]
    assert re.fullmatch(pattern, good) and not re.fullmatch(pattern, bad)
    body = {"code": "NEW-1", "name": "New", "country": "US", "timezone": "America/Chicago"}
    assert network.merchant.post("/v1/facilities", json=body | {field: bad}).status_code == 422
    assert network.merchant.post("/v1/facilities", json=body | {field: good}).status_code == 201
    for kind in facility["properties"]["kind"]["enum"]:
        r = network.merchant.post(
            "/v1/facilities", json=body | {"code": f"{field[:3]}-{kind}", "kind": kind}
        )
        assert r.status_code == 201, r.text


def test_country_fields_document_their_form(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for model in ("ShipToIn", "FacilityIn"):
        pattern = schemas[model]["properties"]["country"]["pattern"]
        assert re.fullmatch(pattern, "US") and re.fullmatch(pattern, "de")
        assert not re.fullmatch(pattern, "USA") and not re.fullmatch(pattern, "U1")


def test_an_amount_stored_out_of_range_still_reads(network, db):
    """SQLite stores amounts as text: one stored before amounts were bounded must not break
    every read of its table."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's NUMERIC(20, 6) never held such a value")
    with db.transaction() as session:
        session.execute(text("UPDATE facilities SET cost_per_package = '1.2994859455688002E+188'"))
    r = network.provider.get("/v1/facilities")
    assert r.status_code == 200, r.text
    assert network.place("after-legacy")["status"] in ("open", "backordered")
