"""Helpers of the EDI integration tests: X12 files built with the engine's own serializer,
partners registered through the API, and the EDI routes mounted on the test app.

The helpers are also checked here: a built file parses clean with the engine.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from midway.integrations.edi import (
    ControlNumberCounter,
    Delimiters,
    PartnerProfile,
    Segment,
    TransactionSet,
    parse,
    render,
)

ERP = "NWERP"  # the merchant's ERP, as it writes ISA06
WMS = "KSWMS"  # the provider's WMS
BUILT = Delimiters("\x1d", "\x1f", "\x1c", "\x1e")
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SHARED_EDI = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "edi"
SHIP_TO = [
    ["N1", "ST", "Ada Lane"],
    ["N3", "1 Main St", "Suite 4"],
    ["N4", "Austin", "TX", "78701", "US"],
    ["PER", "IC", "", "TE", "5125550100"],
]


def mount(client: Any) -> None:
    """The application mounts the EDI routes; check that it does."""
    assert "/v1/edi/inbound" in client.app.openapi()["paths"]


def x12(
    sender: str,
    sets: list[tuple[str, list[list[str]]]],
    *,
    interchange: int = 1,
    group: int | None = None,
    first_set: int = 1,
    qualifier: str = "ZZ",
    ack: bool = False,
) -> bytes:
    """An interchange from ``sender`` to Midway holding ``sets`` (set ID, segment rows),
    rendered by the engine with the given control numbers."""
    profile = PartnerProfile(
        name="test",
        sender_id=sender,
        sender_qualifier=qualifier,
        receiver_id="MIDWAY",
        acknowledgment_requested=ack,
    )
    counter = ControlNumberCounter(
        interchange=interchange - 1,
        group=(group if group is not None else interchange) - 1,
        transaction_set=first_set - 1,
    )
    built = [
        TransactionSet(
            id=set_id,
            control_number="0001",
            header=Segment(["ST", set_id, "0001"]),
            items=[Segment(list(row)) for row in rows],
            delimiters=BUILT,
        )
        for set_id, rows in sets
    ]
    rendered = render(built, profile, counter, now=WHEN)
    assert rendered.ok, rendered.diagnostics
    return rendered.text.encode()


def order_940(
    number: str,
    lines: list[tuple[str, int]],
    *,
    status: str = "N",
    ship_to: list[list[str]] | None = None,
) -> tuple[str, list[list[str]]]:
    """A 940 for depositor order ``number``: ship-to, requested ship date, W01 lines."""
    rows: list[list[str]] = [["W05", status, number, f"PO-{number}"]]
    rows += ship_to if ship_to is not None else SHIP_TO
    rows.append(["G62", "10", "20260310"])
    for index, (sku, count) in enumerate(lines, start=1):
        rows.append(["LX", str(index)])
        rows.append(["W01", str(count), "EA", "", "VN", sku])
    rows.append(["W76", str(sum(c for _, c in lines))])
    return "940", rows


def connect(network: Any, *, merchant_facility: str | None = "KS-CHI") -> tuple[str, str]:
    """Register the merchant's ERP and the provider's WMS as partners; their ids."""
    r = network.merchant.post(
        "/v1/edi/partners",
        json={"name": "Northwind ERP", "interchange_id": ERP, "facility_code": merchant_facility},
    )
    assert r.status_code == 201, r.text
    erp = r.json()["id"]
    r = network.provider.post(
        "/v1/edi/partners", json={"name": "Keystone WMS", "interchange_id": WMS}
    )
    assert r.status_code == 201, r.text
    return erp, r.json()["id"]


def send(actor: Any, data: bytes) -> dict[str, Any]:
    """POST a raw X12 document; the JSON result."""
    r = actor.post("/v1/edi/inbound", content=data, headers={"content-type": "application/edi-x12"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def ack_lines(text: str) -> list[str]:
    """The AK segments of a 997, as written (delimiters ``*`` and ``~``)."""
    return [s.strip() for s in text.split("~") if s.strip().startswith("AK")]


def shared_file(name: str) -> Path:
    """A file of the shared EDI corpus; the test skips when the corpus is absent (fails on
    CI, which must have it)."""
    import os

    path = SHARED_EDI / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared EDI corpus missing on CI: {name}")
        pytest.skip(f"shared EDI corpus not available ({name})")
    return path


def test_built_files_parse_clean():
    data = x12(ERP, [order_940("A1", [("TEE-BLK-M", 2)]), order_940("A2", [("CANDLE", 1)])])
    document = parse(data)
    assert document.clean
    sets = list(document.sets())
    assert [(s.id, s.control_number) for s in sets] == [("940", "0001"), ("940", "0002")]
    assert document.interchanges[0].sender == ("ZZ", ERP)
