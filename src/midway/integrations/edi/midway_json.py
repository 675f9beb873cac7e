"""Midway's own JSON shapes as warehouse sets, for ``midway edi render``.

* an order: the body of ``POST /v1/orders`` (``channel``, ``external_id``, ``ship_to``,
  ``lines[{sku, quantity}]``) or the reply of ``GET /v1/orders/{id}`` (its lines also carry
  ``shipped_quantity`` and ``cancelled_quantity``: the 940 asks for what is left) → a 940;
* an inbound shipment: the body of ``POST /v1/inbound-shipments`` (``facility_code``,
  ``reference``, ``lines[{sku, quantity}]``, optional ``carrier`` and ``expected_at``) → a 943;
* a shipment: ``{"fulfillment_order": <reply of GET /v1/fulfillment-orders/{id}>,
  "shipment": <body of POST /v1/fulfillment-orders/{id}/shipments>}`` → a 945 for that
  parcel; without ``shipment`` (the reply alone, or the reply of the ``POST``, which is the
  same shape), one 945 per parcel in the reply's ``shipments``. The body says what is in the
  parcel; the reply says what the 945 needs besides (the order's external id, the ship-to
  name, the facility code and, per SKU, the units ordered and left).

The segments are those Midway's own outbound 940, 943 and 945 carry (the 945's through
:func:`shipping_advice_rows`, which the outbound 945 uses too). Identifiers that do not fit
their element (``external_id`` in W05-02, a SKU) are refused, naming the field; free text
(names, addresses) is cut to its element as the outbound documents do. Plain standard
library and engine models: no Midway service is involved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from midway.integrations.edi.jsonform import find_sets
from midway.integrations.edi.models import Delimiters, Segment, TransactionSet

# Control characters no value contains: sets built here are re-split on them when rendered.
BUILT = Delimiters("\x1d", "\x1f", "\x1c", "\x1e")
TYPED, ORDER, INBOUND, SHIPMENT = "typed", "order", "inbound", "shipment"
KINDS = (TYPED, ORDER, INBOUND, SHIPMENT)
SET_OF = {ORDER: "940", INBOUND: "943", SHIPMENT: "945"}
Fit = Callable[[object, int], str]


class MidwayJsonError(ValueError):
    """The JSON is not the Midway shape it was taken for; ``field`` says where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def kind_of(data: object) -> str | None:
    """Which input this is: typed X12 JSON (``parse --json``), a Midway shipment (with its
    fulfillment order), a Midway order, a Midway inbound shipment, or None."""
    if isinstance(data, list) or find_sets(data):
        return TYPED
    if isinstance(data, Mapping):
        # A fulfillment order reply also has an order's keys: it is told apart first.
        if "fulfillment_order" in data or "shipments" in data or "tracking_number" in data:
            return SHIPMENT
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


def _lines(data: Mapping[str, Any], prefix: str = "") -> list[Mapping[str, Any]]:
    lines = data.get("lines")
    if lines is None:
        raise MidwayJsonError(f"{prefix}lines", "is missing")
    if not isinstance(lines, list) or not lines:
        raise MidwayJsonError(f"{prefix}lines", "must be a non-empty list")
    return [_object(line, f"{prefix}lines[{i}]") for i, line in enumerate(lines)]


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
    if "facility_code" not in shipment and "facility_id" in shipment:
        raise MidwayJsonError(
            "facility_code",
            "is missing: an inbound shipment reply names its facility by facility_id only; "
            'add "facility_code" (GET /v1/facilities lists the codes of the facilities)',
        )
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


@dataclass(frozen=True)
class AdviceLine:
    """One W12: units of a SKU ordered on the fulfillment order, shipped in this parcel and
    left to ship after it."""

    sku: str
    ordered: int
    shipped: int
    left: int


def shipping_advice_rows(
    *,
    reference: str,
    shipped_on: str,
    shipment_id: str,
    ship_to_name: str,
    facility_code: str,
    tracking_number: str,
    carrier: str,
    lines: Sequence[AdviceLine],
    item_qualifier: str,
    cut: Fit,
) -> list[list[str]]:
    """The segments of a 945 for one parcel, as Midway writes them: W06*F (W06-02 the order,
    W06-03 the ship date, W06-04 the shipment id), N1*ST, N1*SF the facility code, N9*2I the
    tracking number, W27*U (the carrier as W27-02 when it reads as a SCAC, and as W27-03),
    LX/W12 per line (``CC`` when nothing is left, else ``CP``) and W03 the units."""
    scac = cut(carrier, 35)
    rows: list[list[str]] = [
        ["W06", "F", cut(reference, 22), shipped_on, cut(shipment_id, 30)],
    ]
    if cut(ship_to_name, 60):
        rows.append(["N1", "ST", cut(ship_to_name, 60)])
    rows += [
        ["N1", "SF", cut(facility_code, 60)],
        ["N9", "2I", cut(tracking_number, 30)],
        ["W27", "U", scac if 2 <= len(scac) <= 4 and scac.isalnum() else "", scac],
    ]
    for number, line in enumerate(lines, start=1):
        rows.append(["LX", str(number)])
        rows.append(
            [
                "W12",
                "CC" if line.left == 0 else "CP",
                str(line.ordered),
                str(line.shipped),
                str(line.left),
                "EA",
                "",
                item_qualifier,
                cut(line.sku, 48),
            ]
        )
    rows.append(["W03", str(sum(line.shipped for line in lines))])
    return rows


def shipment_945(
    data: object, item_qualifier: str = "VN", now: datetime | None = None
) -> list[TransactionSet]:
    """945s from a Midway shipment and its fulfillment order (see the module's docstring):
    one for ``shipment``, else one per parcel of ``fulfillment_order.shipments``."""
    given = _object(data, "shipment")
    if "fulfillment_order" not in given and "shipments" not in given:
        raise MidwayJsonError(
            "fulfillment_order",
            "is missing: a 945 also needs the order's external id, ship-to and facility; give "
            '{"fulfillment_order": <reply of GET /v1/fulfillment-orders/{id}>, '
            '"shipment": <this body>}',
        )
    nested = "fulfillment_order" in given
    fo = _object(given["fulfillment_order"], "fulfillment_order") if nested else given
    prefix = "fulfillment_order." if nested else ""
    fo_id = _text(fo, "id", f"{prefix}id")
    external = _text(fo, "external_id", f"{prefix}external_id")
    reference = external if len(external) <= 22 else fo_id.removeprefix("fo_")
    if len(reference) > 22:
        raise MidwayJsonError(
            f"{prefix}id", f"{fo_id!r} does not fit W06-02 (22 characters) without 'fo_'"
        )
    code = _text(fo, "facility_code", f"{prefix}facility_code", 80)
    ship_to = fo.get("ship_to")
    name = _object(ship_to, f"{prefix}ship_to").get("name") if ship_to is not None else None
    ordered: dict[str, int] = {}
    open_units: dict[str, int] = {}  # ordered less released: what the parcels may take
    for index, line in enumerate(_lines(fo, prefix)):
        where = f"{prefix}lines[{index}]"
        sku = _text(line, "sku", f"{where}.sku", 48)
        count = _count(line, "quantity", f"{where}.quantity")
        released = _count(line, "released_quantity", f"{where}.released_quantity", default=0)
        ordered[sku] = ordered.get(sku, 0) + count
        open_units[sku] = open_units.get(sku, 0) + count - released
    recorded = fo.get("shipments", [])
    if not isinstance(recorded, list):
        raise MidwayJsonError(f"{prefix}shipments", "must be a list")
    parcels = [
        _parcel(_object(x, f"{prefix}shipments[{i}]"), f"{prefix}shipments[{i}]")
        for i, x in enumerate(recorded)
    ]
    if nested and given.get("shipment") is not None:
        chosen = _parcel(_object(given["shipment"], "shipment"), "shipment")
        ids = [p.id for p in parcels]
        if chosen.id and chosen.id not in ids:
            raise MidwayJsonError(
                "shipment.id", f"{chosen.id!r} is not among fulfillment_order.shipments"
            )
        if chosen.id:
            targets = [ids.index(chosen.id)]
        else:  # a parcel the reply does not count yet: it comes after every recorded one
            parcels.append(chosen)
            targets = [len(parcels) - 1]
    elif parcels:
        targets = list(range(len(parcels)))
    else:
        raise MidwayJsonError(
            f"{prefix}shipments",
            'is empty: nothing was shipped; give the parcel as "shipment" (the body of '
            "POST /v1/fulfillment-orders/{id}/shipments)",
        )
    today = (now or datetime.now(UTC)).strftime("%Y%m%d")
    left = dict(open_units)
    sets = []
    for position, parcel in enumerate(parcels):
        for sku, count, where in parcel.lines:
            if sku not in left:
                raise MidwayJsonError(
                    f"{where}.sku", f"{sku!r} is not on the fulfillment order ({prefix}lines)"
                )
            if count > left[sku]:
                raise MidwayJsonError(
                    f"{where}.quantity",
                    f"{count} unit(s) of {sku!r} but only {left[sku]} are left to ship",
                )
            left[sku] -= count
        if position not in targets:
            continue
        rows = shipping_advice_rows(
            reference=reference,
            shipped_on=_date(parcel.shipped_at, f"{parcel.where}.shipped_at") or today,
            shipment_id=parcel.id,
            ship_to_name="" if name is None else str(name),
            facility_code=code,
            tracking_number=parcel.tracking_number,
            carrier=parcel.carrier,
            lines=[AdviceLine(sku, ordered[sku], n, left[sku]) for sku, n, _ in parcel.lines],
            item_qualifier=item_qualifier,
            cut=fit,
        )
        sets.append(_set("945", rows))
    return sets


@dataclass(frozen=True)
class _Parcel:
    where: str
    id: str
    carrier: str
    tracking_number: str
    shipped_at: object
    lines: list[tuple[str, int, str]]  # SKU, units, where


def _parcel(data: Mapping[str, Any], where: str) -> _Parcel:
    """A shipment (a POST body or a reply's parcel), its fields checked and named."""
    carrier = _text(data, "carrier", f"{where}.carrier")
    tracking = _text(data, "tracking_number", f"{where}.tracking_number", 30)
    identifier = data.get("id")
    if identifier is not None and not isinstance(identifier, str):
        raise MidwayJsonError(f"{where}.id", "must be a string")
    lines: list[tuple[str, int, str]] = []
    seen: dict[str, int] = {}
    for index, line in enumerate(_lines(data, f"{where}.")):
        at = f"{where}.lines[{index}]"
        sku = _text(line, "sku", f"{at}.sku", 48)
        if sku in seen:
            raise MidwayJsonError(f"{at}.sku", f"{sku!r} is listed twice (also lines[{seen[sku]}])")
        seen[sku] = index
        count = _count(line, "quantity", f"{at}.quantity")
        if count == 0:
            raise MidwayJsonError(f"{at}.quantity", "must be at least 1")
        lines.append((sku, count, at))
    return _Parcel(where, identifier or "", carrier, tracking, data.get("shipped_at"), lines)


def _set(set_id: str, rows: Sequence[Sequence[str]]) -> TransactionSet:
    return TransactionSet(
        id=set_id,
        control_number="0001",
        header=Segment(["ST", set_id, "0001"]),
        items=[Segment(list(r)) for r in rows],
        delimiters=BUILT,
    )
