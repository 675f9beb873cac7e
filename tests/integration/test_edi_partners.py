"""EDI partners: registration, validation, tenancy and control numbers."""

from __future__ import annotations

from typing import Any

import pytest

from midway.edi import service as edi
from tests.integration.support_network import Network
from tests.integration.test_edi_support import ERP, connect, mount, order_940, send, x12


@pytest.fixture
def net(client: Any, network: Network) -> Network:
    mount(client)
    return network


def test_partners_belong_to_their_party(net, make_actor):
    erp, wms = connect(net)
    mine = net.merchant.get("/v1/edi/partners").json()
    assert [(p["id"], p["interchange_id"], p["channel"]) for p in mine] == [(erp, ERP, "edi")]
    assert net.merchant.get(f"/v1/edi/partners/{erp}").status_code == 200
    # another party's partner, documents and inbound ID do not exist for the caller
    assert net.merchant.get(f"/v1/edi/partners/{wms}").status_code == 404
    stranger = make_actor("merchant", "Stranger Goods")
    assert stranger.get(f"/v1/edi/partners/{erp}").status_code == 404
    assert stranger.get("/v1/edi/partners").json() == []
    send(net.merchant, x12(ERP, [order_940("T-1", [("TEE-BLK-M", 1)])]))
    assert len(net.merchant.get("/v1/edi/documents").json()) == 2
    assert stranger.get("/v1/edi/documents").json() == []
    [document] = net.merchant.get("/v1/edi/documents?direction=in").json()
    assert stranger.get(f"/v1/edi/documents/{document['id']}").status_code == 404
    assert net.provider.get(f"/v1/edi/documents/{document['id']}").status_code == 404
    r = stranger.post(
        "/v1/edi/inbound",
        content=x12(ERP, [order_940("T-2", [("TEE-BLK-M", 1)])]),
        headers={"content-type": "application/edi-x12"},
    )
    assert r.status_code == 404 and r.json()["code"] == "unknown_edi_partner"


def test_partner_administration_needs_an_admin_key(net):
    r = net.merchant.post("/v1/api-keys", json={"role": "operator"})
    assert r.status_code == 201, r.text
    headers = {"Authorization": f"Bearer {r.json()['api_key']}"}
    client = net.merchant.client
    assert client.get("/v1/edi/partners", headers=headers).status_code == 403
    r = client.post(
        "/v1/edi/partners", json={"name": "ERP", "interchange_id": "X1"}, headers=headers
    )
    assert r.status_code == 403


def test_partner_input_is_checked(net):
    bad_profile = net.merchant.post(
        "/v1/edi/partners",
        json={"name": "ERP", "interchange_id": "X1", "profile": {"element_separator": "A"}},
    )
    assert bad_profile.status_code == 422 and bad_profile.json()["field"] == "profile"
    identity = net.merchant.post(
        "/v1/edi/partners",
        json={"name": "ERP", "interchange_id": "X1", "profile": {"sender_id": "Z"}},
    )
    assert identity.status_code == 422
    ok = net.merchant.post(
        "/v1/edi/partners",
        json={
            "name": "ERP",
            "interchange_id": "X1",
            "profile": {"segment_terminator": "'", "version": "005010"},
        },
    )
    assert ok.status_code == 201, ok.text
    again = net.merchant.post("/v1/edi/partners", json={"name": "ERP 2", "interchange_id": "X1"})
    assert again.status_code == 409 and again.json()["code"] == "duplicate_partner"
    wrong_type = net.merchant.post(
        "/v1/edi/inbound", content=b"ISA*00*", headers={"content-type": "application/json"}
    )
    assert wrong_type.status_code == 422 and wrong_type.json()["code"] == "unsupported_media_type"
    empty = net.merchant.post(
        "/v1/edi/inbound", content=b"  ", headers={"content-type": "text/plain"}
    )
    assert empty.status_code == 422


def test_acknowledgments_use_the_partners_profile_and_counters(net, db):
    r = net.merchant.post(
        "/v1/edi/partners",
        json={
            "name": "ERP",
            "interchange_id": ERP,
            "our_id": "NWHUB",
            "profile": {"segment_terminator": "'", "newline_after_terminator": False},
        },
    )
    assert r.status_code == 201, r.text
    partner_id = r.json()["id"]
    first = send(net.merchant, x12(ERP, [order_940("K-1", [("TEE-BLK-M", 1)])], ack=True))
    text = first["acknowledgment"]
    assert text.startswith("ISA*00*          *00*          *ZZ*NWHUB          *ZZ*NWERP")
    assert "\n" not in text and "TA1*000000001*" in text
    assert "AK1*OW*1'AK2*940*0001'AK5*A'AK9*A*1*1*1'" in text
    second = send(net.merchant, x12(ERP, [order_940("K-2", [("TEE-BLK-M", 1)])], interchange=2))
    assert "*000000002*0*P*>'" in second["acknowledgment"]
    with db.transaction() as session:
        counter = edi.StoredCounter(session, partner_id)
        assert (counter.next_interchange(), counter.next_group(), counter.next_set()) == (3, 3, 3)
        session.rollback()
    partner = net.merchant.get(f"/v1/edi/partners/{partner_id}").json()
    assert (partner["interchange_control"], partner["group_control"]) == (2, 2)


def test_control_numbers_wrap(db, make_actor):
    merchant = make_actor("merchant", "Wrap Goods")
    from midway.principal import Principal

    with db.transaction() as session:
        partner = edi.create_partner(
            session,
            Principal(merchant.id, "merchant", "admin"),
            edi.PartnerInput(name="ERP", interchange_id="W1"),
        )
        partner.set_control = edi.MAX_CONTROL - 1
        session.flush()
        counter = edi.StoredCounter(session, partner.id)
        assert [counter.next_set(), counter.next_set(), counter.next_set()] == [
            edi.MAX_CONTROL,
            1,
            2,
        ]


def test_an_interchange_from_another_sender_is_refused(net, client):
    connect(net)
    data = x12(ERP, [order_940("S-1", [("TEE-BLK-M", 1)])]) + x12(
        "SOMEONE", [order_940("S-2", [("TEE-BLK-M", 1)])], interchange=2
    )
    body = send(net.merchant, data)
    assert [s["status"] for s in body["sets"]] == ["accepted", "rejected"]
    assert "not from partner Northwind ERP" in body["sets"][1]["note"]
    assert [d["code"] for d in body["diagnostics"]] == ["WRONG_SENDER"]
    assert body["acknowledgment"].count("ISA*") == 1  # no answer to a stranger
    orders = net.merchant.get("/v1/orders?channel=edi").json()
    assert [o["external_id"] for o in orders] == ["S-1"]
    schema = client.get("/openapi.json").json()
    assert (
        "application/edi-x12"
        in schema["paths"]["/v1/edi/inbound"]["post"]["requestBody"]["content"]
    )
