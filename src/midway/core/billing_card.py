"""Parsing an agreement's JSON rate card into a :class:`~midway.core.rating.RateCard`.

Every error is a :class:`~midway.core.rating.RatingError` whose message names the charge and
whose ``field`` is the path of the offending value (``storage.aged_tiers[1].from_day``), so
the caller can point at it; nothing is half-parsed. Prices are strings (``"0.25"``) or whole
numbers, never JSON numbers with decimals: those arrive as binary floats and 0.1 is not 0.1.
The shape is documented in docs/billing.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from midway.core import money
from midway.core.rating import (
    BRANDED_INSERTS,
    FULFILLMENT_EXTRA_UNIT,
    FULFILLMENT_ORDER,
    KITTING,
    LABELING,
    RECEIVING,
    RETURNS_RETURN,
    RETURNS_UNIT,
    SPECIAL_HANDLING_PREFIX,
    STORAGE,
    AgedTier,
    Charge,
    PackSize,
    PeakSeason,
    RateCard,
    RatingError,
    StorageTerms,
    Tier,
)

_TOP = frozenset(
    {
        "currency",
        "receiving",
        "storage",
        "fulfillment",
        "branded_inserts",
        "kitting",
        "labeling",
        "returns",
        "special_handling",
        "carrier_markup_percent",
        "monthly_minimum",
        "notes",
    }
)
_TASK_CHARGES = {
    BRANDED_INSERTS: "Branded inserts",
    KITTING: "Kitting",
    LABELING: "Labeling",
}
_PER = ("order", "unit")
_RECEIVING_PER = ("unit", "carton", "pallet")
_STORAGE_PER = {"m3_day": "m3", "ft3_day": "ft3"}


def parse(data: Mapping[str, Any]) -> RateCard:
    """The rate card described by ``data``; RatingError naming the path on the first fault."""
    if not isinstance(data, Mapping):
        raise RatingError("a rate card must be a JSON object", "")
    _known_keys(data, _TOP, "")
    if "currency" not in data:
        raise RatingError("rate card: currency is required (ISO 4217, e.g. 'USD')", "currency")
    currency = data["currency"]
    if not isinstance(currency, str):
        raise RatingError(f"rate card: currency must be a string, got {currency!r}", "currency")
    charges: dict[str, Charge] = {}
    receiving_pack = _receiving(data.get("receiving"), charges)
    storage = _storage(data.get("storage"), charges)
    included = _fulfillment(data.get("fulfillment"), charges)
    for code, label in _TASK_CHARGES.items():
        _per_charge(data.get(code), code, label, code, charges)
    _returns(data.get("returns"), charges)
    _special_handling(data.get("special_handling"), charges)
    markup = None
    if data.get("carrier_markup_percent") is not None:
        markup = _number(data["carrier_markup_percent"], "carrier_markup_percent", "carrier")
    minimum = Decimal(0)
    if data.get("monthly_minimum") is not None:
        minimum = _number(data["monthly_minimum"], "monthly_minimum", "monthly minimum")
    return RateCard(
        currency=currency,
        charges=charges,
        monthly_minimum=minimum,
        receiving_pack=receiving_pack,
        storage=storage,
        included_units=included,
        carrier_markup_percent=markup,
    )


# --- sections ------------------------------------------------------------------------------


def _receiving(section: Any, charges: dict[str, Charge]) -> PackSize | None:
    if section is None:
        return None
    where = "receiving"
    body = _object(section, where, _PRICE_KEYS | {"per", "units_per_pack", "sku_units_per_pack"})
    per = _choice(body.get("per", "unit"), _RECEIVING_PER, f"{where}.per", "receiving")
    charges[RECEIVING] = _charge(body, where, RECEIVING, f"Receiving per {per}", per)
    if per == "unit":
        for key in ("units_per_pack", "sku_units_per_pack"):
            if key in body:
                raise RatingError(
                    f"receiving: {key} only applies when per is carton or pallet",
                    f"{where}.{key}",
                )
        return None
    if "units_per_pack" not in body:
        raise RatingError(
            f"receiving per {per}: say how many units make one {per} (units_per_pack)",
            f"{where}.units_per_pack",
        )
    default = _count(body["units_per_pack"], f"{where}.units_per_pack", "receiving", minimum=1)
    by_sku: dict[str, int] = {}
    raw = body.get("sku_units_per_pack", {})
    if not isinstance(raw, Mapping):
        raise RatingError(
            "receiving: sku_units_per_pack must be an object of SKU to units",
            f"{where}.sku_units_per_pack",
        )
    for sku, units in raw.items():
        path = f"{where}.sku_units_per_pack.{sku}"
        by_sku[str(sku)] = _count(units, path, "receiving", minimum=1)
    return PackSize(default, by_sku)


def _storage(section: Any, charges: dict[str, Charge]) -> StorageTerms | None:
    if section is None:
        return None
    where = "storage"
    keys = _PRICE_KEYS | {"per", "free_days", "aged_tiers", "peak_seasons"}
    body = _object(section, where, keys)
    if "per" not in body:
        raise RatingError(
            "storage: per is required (m3_day or ft3_day: per cubic metre or cubic foot of "
            "stock on hand at the end of each day)",
            f"{where}.per",
        )
    per = _choice(body["per"], tuple(_STORAGE_PER), f"{where}.per", "storage")
    unit = _STORAGE_PER[per]
    base = _charge(body, where, STORAGE, f"Storage per {unit} per day", f"{unit}-day")
    charges[STORAGE] = base
    free_days = _count(body.get("free_days", 0), f"{where}.free_days", "storage")
    aged = _aged_tiers(body.get("aged_tiers", []), unit, charges)
    peaks = _peaks(body.get("peak_seasons", []), base, charges)
    return StorageTerms(volume_unit=unit, free_days=free_days, aged_tiers=aged, peaks=peaks)


def _aged_tiers(raw: Any, unit: str, charges: dict[str, Charge]) -> tuple[AgedTier, ...]:
    where = "storage.aged_tiers"
    tiers: list[AgedTier] = []
    for i, item in enumerate(_list(raw, where, "storage")):
        path = f"{where}[{i}]"
        body = _object(item, path, {"from_day", "to_day", "price"})
        if "from_day" not in body:
            raise RatingError(f"storage aged tier {i}: from_day is required", f"{path}.from_day")
        first = _count(body["from_day"], f"{path}.from_day", "storage aged tier", minimum=1)
        last = None
        if body.get("to_day") is not None:
            last = _count(body["to_day"], f"{path}.to_day", "storage aged tier", minimum=1)
            if last < first:
                raise RatingError(
                    f"storage aged tier {i}: to_day ({last}) is before from_day ({first})",
                    f"{path}.to_day",
                )
        if tiers:
            before = tiers[-1]
            if before.to_day is None or first <= before.to_day:
                upto = "on" if before.to_day is None else str(before.to_day)
                raise RatingError(
                    f"storage aged tiers overlap: days {before.from_day}-{upto} and a tier "
                    f"from day {first} (list tiers in ascending order, without overlap)",
                    f"{path}.from_day",
                )
        code = f"{STORAGE}_aged_{first}"
        span = f"days {first}-{last}" if last is not None else f"day {first} on"
        if "price" not in body:
            raise RatingError(f"storage aged tier {i}: price is required", f"{path}.price")
        charge = _charge(body, path, code, f"Aged-stock surcharge, {span}", f"{unit}-day")
        charges[code] = charge
        tiers.append(AgedTier(first, last, charge))
    return tuple(tiers)


def _peaks(raw: Any, base: Charge, charges: dict[str, Charge]) -> tuple[PeakSeason, ...]:
    where = "storage.peak_seasons"
    seasons: list[PeakSeason] = []
    for i, item in enumerate(_list(raw, where, "storage")):
        path = f"{where}[{i}]"
        body = _object(item, path, {"from", "to", "multiplier"})
        for key in ("from", "to", "multiplier"):
            if key not in body:
                raise RatingError(f"storage peak season {i}: {key} is required", f"{path}.{key}")
        start = _date(body["from"], f"{path}.from")
        end = _date(body["to"], f"{path}.to")
        if end < start:
            raise RatingError(
                f"storage peak season {i}: to ({end}) is before from ({start})", f"{path}.to"
            )
        factor = _number(body["multiplier"], f"{path}.multiplier", "storage peak season")
        if factor <= 0:
            raise RatingError(
                f"storage peak season {i}: multiplier must be greater than 0, got {factor}",
                f"{path}.multiplier",
            )
        for other in seasons:
            if start <= other.end and other.start <= end:
                raise RatingError(
                    f"storage peak seasons overlap: {other.start}..{other.end} and {start}..{end}",
                    path,
                )
        code = f"{STORAGE}_peak_{start:%Y%m%d}"
        charge = Charge(
            code=code,
            description=f"Storage, peak season {start}..{end} (x{factor})",
            unit=base.unit,
            tiers=tuple(
                Tier(t.from_quantity, t.to_quantity, t.unit_price * factor) for t in base.tiers
            ),
        )
        charges[code] = charge
        seasons.append(PeakSeason(start, end, factor, charge))
    return tuple(seasons)


def _fulfillment(section: Any, charges: dict[str, Charge]) -> int:
    if section is None:
        return 0
    where = "fulfillment"
    body = _object(section, where, {"per_order", "included_units", "per_extra_unit"})
    if "per_order" not in body:
        raise RatingError(
            "fulfillment: per_order is required (the fee per fulfillment order shipped)",
            f"{where}.per_order",
        )
    charges[FULFILLMENT_ORDER] = _price(
        body["per_order"], f"{where}.per_order", FULFILLMENT_ORDER, "Fulfillment per order", "order"
    )
    included = _count(body.get("included_units", 0), f"{where}.included_units", "fulfillment")
    if "per_extra_unit" in body:
        label = f"Fulfillment per unit beyond {included} in an order"
        charges[FULFILLMENT_EXTRA_UNIT] = _price(
            body["per_extra_unit"], f"{where}.per_extra_unit", FULFILLMENT_EXTRA_UNIT, label, "unit"
        )
    elif included:
        raise RatingError(
            "fulfillment: included_units is set but there is no per_extra_unit price",
            f"{where}.per_extra_unit",
        )
    return included


def _per_charge(
    section: Any, where: str, label: str, code: str, charges: dict[str, Charge]
) -> None:
    if section is None:
        return
    body = _object(section, where, _PRICE_KEYS | {"per"})
    if "per" not in body:
        raise RatingError(f"{label}: per is required (order or unit)", f"{where}.per")
    per = _choice(body["per"], _PER, f"{where}.per", label)
    charges[code] = _charge(body, where, code, f"{label} per {per}", per)


def _returns(section: Any, charges: dict[str, Charge]) -> None:
    if section is None:
        return
    body = _object(section, "returns", {"per_return", "per_unit"})
    if not body:
        raise RatingError("returns: give per_return, per_unit or both", "returns")
    if "per_return" in body:
        charges[RETURNS_RETURN] = _price(
            body["per_return"], "returns.per_return", RETURNS_RETURN, "Returns per return", "return"
        )
    if "per_unit" in body:
        charges[RETURNS_UNIT] = _price(
            body["per_unit"], "returns.per_unit", RETURNS_UNIT, "Returns per unit", "unit"
        )


def _special_handling(section: Any, charges: dict[str, Charge]) -> None:
    if section is None:
        return
    if not isinstance(section, Mapping):
        raise RatingError(
            "special_handling must be an object of SKU tag to charge", "special_handling"
        )
    for tag, item in section.items():
        if not isinstance(tag, str) or not tag.strip():
            raise RatingError("special_handling: tags must be non-empty", "special_handling")
        code = f"{SPECIAL_HANDLING_PREFIX}{tag}"
        _per_charge(item, f"special_handling.{tag}", f"Special handling ({tag})", code, charges)


# --- values --------------------------------------------------------------------------------

_PRICE_KEYS = frozenset({"price"})


def _charge(body: Mapping[str, Any], where: str, code: str, label: str, unit: str) -> Charge:
    if "price" not in body:
        raise RatingError(f"{label}: price is required", f"{where}.price")
    return _price(body["price"], f"{where}.price", code, label, unit)


def _price(value: Any, where: str, code: str, label: str, unit: str) -> Charge:
    """A charge from a price: a number string, or ``{"tiers": [{from, to, price}, ...]}``."""
    if isinstance(value, Mapping):
        body = _object(value, where, {"tiers"})
        tiers = _tiers(body.get("tiers"), f"{where}.tiers", label)
    else:
        amount = _number(value, where, label)
        tiers = (Tier(0, None, amount),)
    return Charge(code=code, description=label, unit=unit, tiers=tiers)


def _tiers(raw: Any, where: str, label: str) -> tuple[Tier, ...]:
    items = _list(raw, where, label)
    if not items:
        raise RatingError(f"{label}: tiers must list at least one tier", where)
    tiers: list[Tier] = []
    for i, item in enumerate(items):
        path = f"{where}[{i}]"
        body = _object(item, path, {"from", "to", "price"})
        for key in ("from", "price"):
            if key not in body:
                raise RatingError(f"{label}: tier {i} needs {key}", f"{path}.{key}")
        first = _count(body["from"], f"{path}.from", label)
        last = None
        if body.get("to") is not None:
            last = _count(body["to"], f"{path}.to", label)
            if last <= first:
                raise RatingError(
                    f"{label}: tier {i} ends ({last}) at or before it starts ({first})",
                    f"{path}.to",
                )
        if not tiers and first != 0:
            raise RatingError(f"{label}: the first tier must start at 0, not {first}", path)
        if tiers:
            before = tiers[-1]
            if before.to_quantity is None or first < before.to_quantity:
                upto = "on" if before.to_quantity is None else str(before.to_quantity)
                raise RatingError(
                    f"{label}: tiers overlap: {before.from_quantity}-{upto} and tier {i} "
                    f"starting at {first}",
                    f"{path}.from",
                )
            if first > before.to_quantity:
                raise RatingError(
                    f"{label}: gap between tiers: nothing prices {before.to_quantity}-{first}",
                    f"{path}.from",
                )
        tiers.append(Tier(first, last, _number(body["price"], f"{path}.price", label)))
    if tiers[-1].to_quantity is not None:
        raise RatingError(
            f"{label}: the last tier must be open-ended (to: null), otherwise quantities "
            f"above {tiers[-1].to_quantity} have no price",
            f"{where}[{len(tiers) - 1}].to",
        )
    return tuple(tiers)


def _number(value: Any, where: str, label: str) -> Decimal:
    if isinstance(value, float):
        raise RatingError(
            f'{label}: write {where} as a string ("{value}"): JSON numbers with decimals '
            "are binary floats and lose cents",
            where,
        )
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RatingError(f"{label}: {where} must be a decimal string, got {value!r}", where)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise RatingError(f"{label}: {where} is not a number: {value!r}", where) from None
    if not number.is_finite():
        raise RatingError(f"{label}: {where} must be finite, got {value!r}", where)
    if number < 0:
        raise RatingError(f"{label}: {where} must not be negative, got {number}", where)
    if not money.fits(number):
        raise RatingError(f"{label}: {where}: {money.describe(number)}", where)
    return number


def _count(value: Any, where: str, label: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RatingError(
            f"{label}: {where} must be a whole number >= {minimum}, got {value!r}", where
        )
    return value


def _date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else _bad_date(value, where)
    except ValueError:
        return _bad_date(value, where)


def _bad_date(value: Any, where: str) -> date:
    raise RatingError(
        f"storage peak season: {where} must be a date YYYY-MM-DD, got {value!r}", where
    )


def _choice(value: Any, allowed: Sequence[str], where: str, label: str) -> str:
    if value not in allowed:
        raise RatingError(
            f"{label}: {where} must be one of {', '.join(allowed)}, got {value!r}", where
        )
    return str(value)


def _object(value: Any, where: str, known: frozenset[str] | set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RatingError(f"{where} must be an object, got {value!r}", where)
    _known_keys(value, frozenset(known), where)
    return value


def _list(value: Any, where: str, label: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise RatingError(f"{label}: {where} must be a list, got {value!r}", where)
    return value


def _known_keys(value: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        prefix = f"{where}." if where else ""
        raise RatingError(
            f"rate card: unknown field {prefix}{unknown[0]}; expected one of {sorted(known)}",
            f"{prefix}{unknown[0]}",
        )
