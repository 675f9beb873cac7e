"""Midway's own JSON shapes as warehouse sets, for ``midway edi render``.

* an order: the body of ``POST /v1/orders`` (``channel``, ``external_id``, ``ship_to``,
  ``lines[{sku, quantity}]``) or the reply of ``GET /v1/orders/{id}`` (its lines also carry
  ``shipped_quantity`` and ``cancelled_quantity``: the 940 asks for what is left) → a 940;
* an inbound shipment: the body of ``POST /v1/inbound-shipments`` (``facility_code``,
  ``reference``, ``lines[{sku, quantity}]``, optional ``carrier`` and ``expected_at``) → a 943.

The segments are those Midway's own outbound 940 and 943 carry. Identifiers that do not fit
their element (``external_id`` in W05-02, a SKU) are refused, naming the field; free text
(names, addresses) is cut to its element as the outbound documents do. Plain standard
library and engine models: no Midway service is involved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from midway.integrations.edi.jsonform import find_sets
from midway.integrations.edi.models import Delimiters, Segment, TransactionSet

# Control characters no value contains: sets built here are re-split on them when rendered.
BUILT = Delimiters("\x1d", "\x1f", "\x1c", "\x1e")
TYPED, ORDER, INBOUND = "typed", "order", "inbound"
KINDS = (TYPED, ORDER, INBOUND)
SET_OF = {ORDER: "940", INBOUND: "943"}
Fit = Callable[[object, int], str]


class MidwayJsonError(ValueError):
    """The JSON is not the Midway shape it was taken for; ``field`` says where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def kind_of(data: object) -> str | None:
    """Which input this is: typed X12 JSON (``parse --json``), a Midway order, a Midway
    inbound shipment, or None."""
    if isinstance(data, list) or find_sets(data):
        return TYPED
    if isinstance(data, Mapping):
        if "ship_to" in data or "external_id" in data or "channel" in data:
            return ORDER
        if "reference" in data or "facility_code" in data:
            return INBOUND
    return None


def fit(value: object, size: int) -> str:
    """Free text made safe for an element: line breaks and the characters used to build sets
    become spaces, then it is cut to ``size``."""
    text = "" if value is None else str(value)
    for char in (*BUILT.characters(), "\r", "\n"):
        text = text.replace(char, " ")
    return text.strip()[:size].strip()


def ship_to_rows(ship_to: Mapping[str, Any], cut: Fit) -> list[list[str]]:
    """The N1*ST loop of a ship-to: N1, N2 (company), N3, N4 and PER (phone, e-mail)."""
    region = cut(ship_to.get("region"), 2)
    rows = [["N1", "ST", cut(ship_to.get("name"), 60)]]
    if ship_to.get("company"):
        rows.append(["N2", cut(ship_to.get("company"), 60)])
    if ship_to.get("address1"):
        rows.append(["N3", cut(ship_to.get("address1"), 55), cut(ship_to.get("address2"), 55)])
    rows.append(
        [
            "N4",
            cut(ship_to.get("city"), 30),
            region if len(region) == 2 else "",
            cut(ship_to.get("postal_code"), 15),
            cut(ship_to.get("country"), 3),
        ]
    )
    contact = ["PER", "IC", ""]
    for kind, key in (("TE", "phone"), ("EM", "email")):
        if ship_to.get(key):
            contact += [kind, cut(ship_to.get(key), 80)]
    if len(contact) > 3:
        rows.append(contact)
    return rows


def _text(data: Mapping[str, Any], key: str, where: str, size: int | None = None) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise MidwayJsonError(where, "is missing")
    if not isinstance(value, str):
        raise MidwayJsonError(where, "must be a string")
    if size is not None and len(value.strip()) > size:
        raise MidwayJsonError(where, f"{value!r} is longer than the {size} characters X12 holds")
    return value.strip()


def _count(data: Mapping[str, Any], key: str, where: str, *, default: int | None = None) -> int:
    value = data.get(key, default)
    if value is None:
        raise MidwayJsonError(where, "is missing")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MidwayJsonError(where, "must be a whole number of units, zero or more")
    return value


def _object(data: object, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise MidwayJsonError(where, "must be an object")
    return data


def _lines(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lines = data.get("lines")
    if lines is None:
        raise MidwayJsonError("lines", "is missing")
    if not isinstance(lines, list) or not lines:
        raise MidwayJsonError("lines", "must be a non-empty list")
    return [_object(line, f"lines[{i}]") for i, line in enumerate(lines)]


def _date(value: object, where: str) -> str:
    if value is None:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y%m%d")
    except ValueError:
        raise MidwayJsonError(where, f"{value!r} is not an ISO 8601 date") from None


def order_940(data: object, item_qualifier: str = "VN") -> TransactionSet:
    """A 940 from a Midway order (the ``POST /v1/orders`` body or the ``GET`` reply)."""
    order = _object(data, "order")
    _text(order, "channel", "channel")
    external = _text(order, "external_id", "external_id", 22)
    ship_to = _object(order.get("ship_to"), "ship_to") if "ship_to" in order else None
    if ship_to is None:
        raise MidwayJsonError("ship_to", "is missing")
    for key in ("name", "address1", "city", "postal_code", "country"):
        _text(ship_to, key, f"ship_to.{key}")
    rows: list[list[str]] = [["W05", "N", external], *ship_to_rows(ship_to, fit)]
    ship_by = _date(order.get("ship_by"), "ship_by")
    if ship_by:
        rows.append(["G62", "10", ship_by])
    units = 0
    for index, line in enumerate(_lines(order), start=1):
        where = f"lines[{index - 1}]"
        sku = _text(line, "sku", f"{where}.sku", 48)
        quantity = _count(line, "quantity", f"{where}.quantity")
        left = (
            quantity
            - _count(line, "shipped_quantity", f"{where}.shipped_quantity", default=0)
            - _count(line, "cancelled_quantity", f"{where}.cancelled_quantity", default=0)
        )
        if left <= 0:
            continue  # a reply's line already shipped or cancelled: nothing to ask for
        units += left
        rows.append(["LX", str(line.get("line_no") or index)])
        rows.append(["W01", str(left), "EA", "", item_qualifier, sku])
    if not units:
        raise MidwayJsonError("lines", "nothing is left to ship on this order")
    rows.append(["W76", str(units)])
    return _set("940", rows)


def inbound_943(
    data: object, item_qualifier: str = "VN", now: datetime | None = None
) -> TransactionSet:
    """A 943 from a Midway inbound shipment (the ``POST /v1/inbound-shipments`` body)."""
    shipment = _object(data, "inbound shipment")
    reference = _text(shipment, "reference", "reference", 22)
    code = _text(shipment, "facility_code", "facility_code", 80)
    rows: list[list[str]] = [
        ["W06", "F", reference, (now or datetime.now(UTC)).strftime("%Y%m%d")],
        ["N1", "WH", fit(code, 60), "ZZ", code],
    ]
    expected = _date(shipment.get("expected_at"), "expected_at")
    if expected:
        rows.append(["G62", "17", expected])
    rows.append(["W27", "M", "", fit(shipment.get("carrier"), 35)])
    units = 0
    for index, line in enumerate(_lines(shipment)):
        sku = _text(line, "sku", f"lines[{index}].sku", 48)
        key = (
            "quantity"
            if "quantity" in line or "expected_quantity" not in line
            else "expected_quantity"
        )
        count = _count(line, key, f"lines[{index}].quantity")
        units += count
        rows.append(["W04", str(count), "EA", "", item_qualifier, sku])
    rows.append(["W03", str(units)])
    return _set("943", rows)


def _set(set_id: str, rows: Sequence[Sequence[str]]) -> TransactionSet:
    return TransactionSet(
        id=set_id,
        control_number="0001",
        header=Segment(["ST", set_id, "0001"]),
        items=[Segment(list(r)) for r in rows],
        delimiters=BUILT,
    )
