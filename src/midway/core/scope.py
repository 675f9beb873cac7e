"""Agreement scope: which SKUs, channels and countries an agreement covers.

A pilot usually starts narrow ("only SKUs tagged ``pilot``, only the web shop, only the US")
and widens later. Every restriction is optional; ``None`` means unrestricted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from midway.core.errors import ScopeError
from midway.core.matrix import parse_country_set, parse_name_set

_KEYS: tuple[str, ...] = ("sku_tags", "skus", "channels", "countries")


def _show(values: frozenset[str]) -> str:
    return repr(sorted(values))


@dataclass(frozen=True, slots=True)
class Scope:
    """What an agreement covers; ``None`` for a field means no restriction on it.

    A SKU is admitted when there is no SKU restriction at all, when it is listed in ``skus``,
    or when it carries any tag of ``sku_tags``.
    """

    sku_tags: frozenset[str] | None = None
    skus: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    countries: frozenset[str] | None = None

    def admits(
        self, *, sku: str, sku_tags: frozenset[str], channel: str | None, country: str | None
    ) -> tuple[bool, str]:
        """Whether the scope covers this SKU sold on ``channel`` to ``country``, and why.

        ``channel`` or ``country`` of ``None`` skips that check: it is how a SKU alone is
        tested (for inbound stock, say), where there is no order to take them from.
        """
        reasons: list[str] = []
        if self.skus is None and self.sku_tags is None:
            reasons.append("all skus in scope")
        elif self.skus is not None and sku in self.skus:
            reasons.append(f"sku {sku!r} listed in scope")
        else:
            scope_tags = self.sku_tags if self.sku_tags is not None else frozenset()
            hits = sku_tags & scope_tags
            if not hits:
                return False, self._sku_refusal(sku, sku_tags)
            reasons.append(f"sku tag {min(hits)!r} in scope tags {_show(scope_tags)}")
        if self.channels is not None and channel is not None:
            if channel not in self.channels:
                return False, f"channel {channel!r} not in scope channels {_show(self.channels)}"
            reasons.append(f"channel {channel!r} in scope")
        if self.countries is not None and country is not None:
            code = country.upper()
            if code not in self.countries:
                return False, f"country {code!r} not in scope countries {_show(self.countries)}"
            reasons.append(f"country {code!r} in scope")
        return True, "; ".join(reasons)

    def _sku_refusal(self, sku: str, sku_tags: frozenset[str]) -> str:
        parts: list[str] = []
        if self.skus is not None:
            parts.append(f"not in scope skus {_show(self.skus)}")
        if self.sku_tags is not None:
            parts.append(f"tags {_show(sku_tags)} have none of scope tags {_show(self.sku_tags)}")
        return f"sku {sku!r} " + " and its ".join(parts)


def parse_scope(data: Mapping[str, object] | None) -> Scope:
    """Validate scope JSON (``None`` or ``{}`` = unrestricted); ScopeError names the field."""
    if data is None:
        return Scope()
    if not isinstance(data, Mapping):
        raise ScopeError(f"scope must be an object or null, got {data!r}", field="scope")
    for key in data:
        if key not in _KEYS:
            raise ScopeError(
                f"unknown key {key!r} in scope; expected one of {list(_KEYS)}",
                field=f"scope.{key}",
            )
    return Scope(
        sku_tags=parse_name_set(data.get("sku_tags"), "scope.sku_tags", ScopeError),
        skus=parse_name_set(data.get("skus"), "scope.skus", ScopeError),
        channels=parse_name_set(data.get("channels"), "scope.channels", ScopeError),
        countries=parse_country_set(data.get("countries"), "scope.countries", ScopeError),
    )


def scope_to_dict(scope: Scope) -> dict[str, object]:
    """The JSON-safe inverse of :func:`parse_scope` (lists sorted, ``None`` kept)."""
    return {
        key: sorted(values) if values is not None else None
        for key, values in (
            ("sku_tags", scope.sku_tags),
            ("skus", scope.skus),
            ("channels", scope.channels),
            ("countries", scope.countries),
        )
    }
