"""Ready-made responsibility matrices an agreement can start from.

``classic_semi_managed``
    The provider runs the warehouse floor (receiving, storage, pick, pack, label, hand-off,
    returns receiving, and kitting of SKUs tagged ``kit``); the merchant plans stock, releases
    orders, adds branded inserts to SKUs tagged ``premium``, decides what happens to returns,
    refunds and talks to customers. The merchant also owns the exception decisions, except
    ``mis_pick`` and ``damaged_inbound``: those are the provider's own mistakes or happen on
    its dock, so the provider owns fixing them.
``fully_managed``
    The provider owns everything, including inserts for premium SKUs and returns, except
    refunds, customer communication and urgent reorders, which stay with the merchant.
``in_house``
    The merchant owns everything; this is also what a merchant-run facility uses.

In every template ``branded_inserts`` and ``kitting`` default to ``None`` (not performed):
they only happen when a rule for a tagged SKU applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from midway.core.errors import MatrixError
from midway.core.matrix import ALL_PROCESSES, Condition, Matrix, Rule

_ON_DEMAND = ("branded_inserts", "kitting")
_PREMIUM = Condition(sku_tags_any=frozenset({"premium"}))
_KIT = Condition(sku_tags_any=frozenset({"kit"}))


def _build(owner: str, exceptions: Mapping[str, str], inserts: str, kits: str) -> Matrix:
    defaults: dict[str, str | None] = {}
    for process in ALL_PROCESSES:
        defaults[process] = None if process in _ON_DEMAND else exceptions.get(process, owner)
    rules = (
        Rule(id="kits", process="kitting", owner=kits, when=_KIT),
        Rule(id="premium-inserts", process="branded_inserts", owner=inserts, when=_PREMIUM),
    )
    return Matrix(rules=rules, defaults=MappingProxyType(defaults))


_CLASSIC = _build(
    "merchant",
    {
        process: "provider"
        for process in (
            "receiving",
            "quality_check",
            "storage",
            "picking",
            "packing",
            "labeling",
            "carrier_handoff",
            "returns_receiving",
            "mis_pick",
            "damaged_inbound",
        )
    },
    inserts="merchant",
    kits="provider",
)
_FULLY_MANAGED = _build(
    "provider",
    dict.fromkeys(("refunds", "customer_communication", "urgent_reorder"), "merchant"),
    inserts="provider",
    kits="provider",
)
_IN_HOUSE = _build("merchant", {}, inserts="merchant", kits="merchant")

TEMPLATES: Mapping[str, Matrix] = MappingProxyType(
    {
        "classic_semi_managed": _CLASSIC,
        "fully_managed": _FULLY_MANAGED,
        "in_house": _IN_HOUSE,
    }
)


def template(name: str) -> Matrix:
    """The template matrix called ``name``; MatrixError listing the known names otherwise."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise MatrixError(
            f"unknown template {name!r}; known templates: {', '.join(TEMPLATES)}",
            field="template",
        ) from None
