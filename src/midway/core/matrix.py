"""The responsibility matrix: who (merchant or provider) owns each fulfillment task.

A matrix is an ordered list of rules plus a default owner per process. For a process and a
context (the SKU, its tags, the sales channel, the destination country, the order value),
the first rule of that process whose condition matches decides; otherwise the default does.
An owner of ``None`` means the task is not performed at all (no branded inserts, no kitting).

Untrusted data (agreement JSON) goes through :func:`parse_matrix`, which validates everything
and names the offending field as a path like ``rules[3].when.countries[1]``. The dataclasses
themselves trust their arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from midway.core.errors import MatrixError, ScopeError
from midway.core.regions import is_country_code

PROCESSES: tuple[str, ...] = (
    "receiving",
    "quality_check",
    "storage",
    "replenishment_planning",
    "order_release",
    "picking",
    "packing",
    "branded_inserts",
    "kitting",
    "labeling",
    "carrier_handoff",
    "returns_receiving",
    "returns_inspection",
    "returns_disposition",
    "refunds",
    "customer_communication",
)
EXCEPTION_KINDS: tuple[str, ...] = (
    "damaged_inbound",
    "short_shipment",
    "mis_pick",
    "address_invalid",
    "lost_in_transit",
    "stockout",
    "urgent_reorder",
)
ALL_PROCESSES: tuple[str, ...] = PROCESSES + EXCEPTION_KINDS
OWNERS: tuple[str, ...] = ("merchant", "provider")

# The processes that become tasks of a fulfillment order, in the order the work happens.
FULFILLMENT_ORDER_PROCESSES: tuple[str, ...] = (
    "picking",
    "kitting",
    "branded_inserts",
    "packing",
    "labeling",
    "carrier_handoff",
)

_PROCESS_SET = frozenset(ALL_PROCESSES)
_WHEN_KEYS: tuple[str, ...] = (
    "sku_tags_any",
    "sku_tags_all",
    "skus",
    "channels",
    "countries",
    "min_order_value",
    "max_order_value",
)
_RULE_KEYS = frozenset(
    ("id", "process", "owner", "when", "facility", "sla_target", "cost_bearer", "note")
)
_MATRIX_KEYS = frozenset(("rules", "defaults"))

# The shared list parsers below serve both the matrix and the agreement scope.
_ErrorType = type[MatrixError] | type[ScopeError]


def _show(values: frozenset[str]) -> str:
    return repr(sorted(values))


@dataclass(frozen=True, slots=True)
class Context:
    """What is known about the work being assigned; ``None`` means unknown."""

    sku: str | None = None
    sku_tags: frozenset[str] = frozenset()
    channel: str | None = None
    country: str | None = None
    order_value: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """When a rule applies; every criterion that is set must hold (``None`` = any)."""

    sku_tags_any: frozenset[str] | None = None
    sku_tags_all: frozenset[str] | None = None
    skus: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    min_order_value: Decimal | None = None  # inclusive
    max_order_value: Decimal | None = None  # exclusive

    def matches(self, ctx: Context) -> tuple[bool, str]:
        """Whether the condition holds for ``ctx``, and a human reason why (or why not)."""
        reasons: list[str] = []
        needs_sku = (
            self.sku_tags_any is not None or self.sku_tags_all is not None or self.skus is not None
        )
        if needs_sku and ctx.sku is None:
            return False, "no sku in context; the rule depends on the sku"
        tags = ctx.sku_tags
        if self.sku_tags_any is not None:
            hits = tags & self.sku_tags_any
            if not hits:
                return False, f"sku tags {_show(tags)} have none of {_show(self.sku_tags_any)}"
            reasons.append(f"sku tag {min(hits)!r} in {_show(self.sku_tags_any)}")
        if self.sku_tags_all is not None:
            missing = self.sku_tags_all - tags
            if missing:
                return False, f"sku tags {_show(tags)} lack {_show(missing)}"
            reasons.append(f"sku tags include all of {_show(self.sku_tags_all)}")
        if self.skus is not None:
            if ctx.sku not in self.skus:
                return False, f"sku {ctx.sku!r} not in {_show(self.skus)}"
            reasons.append(f"sku {ctx.sku!r} in {_show(self.skus)}")
        if self.channels is not None:
            if ctx.channel is None:
                return False, f"no channel in context; rule needs one of {_show(self.channels)}"
            if ctx.channel not in self.channels:
                return False, f"channel {ctx.channel!r} not in {_show(self.channels)}"
            reasons.append(f"channel {ctx.channel!r} in {_show(self.channels)}")
        if self.countries is not None:
            country = ctx.country.upper() if ctx.country is not None else None
            if country is None:
                return False, f"no country in context; rule needs one of {_show(self.countries)}"
            if country not in self.countries:
                return False, f"country {country!r} not in {_show(self.countries)}"
            reasons.append(f"country {country!r} in {_show(self.countries)}")
        if self.min_order_value is not None or self.max_order_value is not None:
            ok, why = self._value_matches(ctx.order_value)
            if not ok:
                return False, why
            reasons.append(why)
        return True, "; ".join(reasons) if reasons else "unconditional"

    def _value_matches(self, value: Decimal | None) -> tuple[bool, str]:
        low, high = self.min_order_value, self.max_order_value
        if value is None:
            return False, "no order value in context; the rule depends on it"
        if low is not None and value < low:
            return False, f"order value {value} below minimum {low}"
        if high is not None and value >= high:
            return False, f"order value {value} not below maximum {high}"
        bounds = [f">= {low}" if low is not None else "", f"< {high}" if high is not None else ""]
        return True, f"order value {value} {' and '.join(b for b in bounds if b)}"


@dataclass(frozen=True, slots=True)
class Rule:
    """Assigns ``process`` to ``owner`` when ``when`` matches (owner ``None`` = not performed)."""

    id: str
    process: str
    owner: str | None
    when: Condition = field(default_factory=Condition)
    facility: str | None = None
    sla_target: str | None = None
    cost_bearer: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Matrix:
    """Ordered rules plus a default owner per process."""

    rules: tuple[Rule, ...]
    defaults: Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class Decision:
    """Who owns a process in a context, which rule decided, and why."""

    process: str
    owner: str | None
    rule_id: str | None
    reason: str
    facility: str | None = None
    sla_target: str | None = None
    cost_bearer: str | None = None

    def as_dict(self) -> dict[str, object]:
        """A JSON-safe dictionary of the decision."""
        return {
            "process": self.process,
            "owner": self.owner,
            "rule_id": self.rule_id,
            "reason": self.reason,
            "facility": self.facility,
            "sla_target": self.sla_target,
            "cost_bearer": self.cost_bearer,
        }


def resolve(matrix: Matrix, process: str, ctx: Context) -> Decision:
    """Decide who owns ``process`` in ``ctx``: the first matching rule, else the default."""
    if process not in _PROCESS_SET:
        raise MatrixError(f"unknown process {process!r}", field="process")
    misses: list[str] = []
    for rule in matrix.rules:
        if rule.process != process:
            continue
        ok, why = rule.when.matches(ctx)
        if ok:
            return Decision(
                process=process,
                owner=rule.owner,
                rule_id=rule.id,
                reason=f"rule {rule.id!r} matched: {why}",
                facility=rule.facility,
                sla_target=rule.sla_target,
                cost_bearer=rule.cost_bearer,
            )
        misses.append(f"rule {rule.id!r}: {why}")
    if process in matrix.defaults:
        owner = matrix.defaults[process]
        fallback = f"default owner {owner}" if owner is not None else "default: not performed"
    else:
        owner = None
        fallback = f"{process} has no default, so it is not performed"
    reason = f"no rule for {process} matched; {fallback}"
    if misses:
        reason += " (" + "; ".join(misses) + ")"
    return Decision(process=process, owner=owner, rule_id=None, reason=reason)


class Resolver:
    """:func:`resolve` for one matrix, with a memory.

    Contexts that differ only in what no rule of the matrix looks at get the same decision
    (word for word: the reasons quote only what a rule checks), so the decision is computed
    once for them: the SKU code matters only when a rule lists SKUs, the order value only when
    a rule bounds it. A bulk import resolves a few such contexts thousands of times.
    """

    LIMIT = 10_000  # remembered contexts; the memory starts over beyond it

    def __init__(self, matrix: Matrix) -> None:
        self.matrix = matrix
        self._by_sku = any(rule.when.skus is not None for rule in matrix.rules)
        self._by_value = any(
            rule.when.min_order_value is not None or rule.when.max_order_value is not None
            for rule in matrix.rules
        )
        self._known: dict[tuple[str, Context], Decision] = {}

    def __call__(self, process: str, ctx: Context) -> Decision:
        key = (
            process,
            Context(
                sku=ctx.sku if self._by_sku or ctx.sku is None else "",
                sku_tags=ctx.sku_tags,
                channel=ctx.channel,
                country=ctx.country,
                order_value=ctx.order_value if self._by_value else None,
            ),
        )
        decision = self._known.get(key)
        if decision is None:
            decision = resolve(self.matrix, process, ctx)
            if len(self._known) >= self.LIMIT:
                self._known.clear()
            self._known[key] = decision
        return decision


# --- parsing -------------------------------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def _as_list(value: object, where: str, error: _ErrorType) -> Sequence[object]:
    # Strings are sequences too; a bare string where a list belongs is a classic mistake.
    if not isinstance(value, list | tuple):
        raise error(f"{where} must be a list, got {_type_name(value)}", field=where)
    if not value:
        raise error(f"{where} must not be empty; use null for no restriction", field=where)
    return value


def parse_name_set(value: object, where: str, error: _ErrorType) -> frozenset[str] | None:
    """Parse ``null`` or a non-empty list of non-empty strings (tags, SKUs, channels)."""
    if value is None:
        return None
    names: set[str] = set()
    for i, item in enumerate(_as_list(value, where, error)):
        if not isinstance(item, str) or not item.strip():
            raise error(
                f"{where}[{i}] must be a non-empty string, got {item!r}", field=f"{where}[{i}]"
            )
        names.add(item)
    return frozenset(names)


def parse_country_set(value: object, where: str, error: _ErrorType) -> frozenset[str] | None:
    """Parse ``null`` or a non-empty list of ISO 3166-1 alpha-2 codes (lower case accepted)."""
    if value is None:
        return None
    codes: set[str] = set()
    for i, item in enumerate(_as_list(value, where, error)):
        path = f"{where}[{i}]"
        if not isinstance(item, str) or len(item) != 2 or not item.isascii() or not item.isalpha():
            raise error(f"{path} must be a two-letter country code, got {item!r}", field=path)
        code = item.upper()
        if not is_country_code(code):
            raise error(f"{path}: {item!r} is not an ISO 3166-1 alpha-2 code", field=path)
        codes.add(code)
    return frozenset(codes)


def _parse_money(value: object, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise MatrixError(
            f"{where} must be a decimal string or number, got {_type_name(value)}", field=where
        )
    try:
        # str() first so a float such as 0.1 becomes Decimal("0.1"), not its binary expansion.
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise MatrixError(f"{where} is not a decimal number: {value!r}", field=where) from None
    if not amount.is_finite():
        raise MatrixError(f"{where} must be finite, got {value!r}", field=where)
    if amount < 0:
        raise MatrixError(f"{where} must not be negative, got {value!r}", field=where)
    return amount


def _optional_text(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise MatrixError(f"{where} must be a non-empty string or null, got {value!r}", field=where)
    return value


def _owner(value: object, where: str) -> str | None:
    if value is not None and value not in OWNERS:
        raise MatrixError(
            f"{where} must be 'merchant', 'provider' or null, got {value!r}", field=where
        )
    return value


def _reject_unknown_keys(data: Mapping[str, object], known: frozenset[str], where: str) -> None:
    for key in data:
        if key not in known:
            path = f"{where}.{key}" if where else str(key)
            raise MatrixError(
                f"unknown key {key!r} in {where or 'matrix'}; expected one of {sorted(known)}",
                field=path,
            )


def _parse_condition(data: object, where: str) -> Condition:
    if data is None:
        return Condition()
    if not isinstance(data, Mapping):
        raise MatrixError(f"{where} must be an object, got {_type_name(data)}", field=where)
    _reject_unknown_keys(data, frozenset(_WHEN_KEYS), where)
    low = _parse_money(data.get("min_order_value"), f"{where}.min_order_value")
    high = _parse_money(data.get("max_order_value"), f"{where}.max_order_value")
    if low is not None and high is not None and high <= low:
        raise MatrixError(
            f"{where}.max_order_value ({high}) must be greater than min_order_value ({low})",
            field=f"{where}.max_order_value",
        )
    return Condition(
        sku_tags_any=parse_name_set(data.get("sku_tags_any"), f"{where}.sku_tags_any", MatrixError),
        sku_tags_all=parse_name_set(data.get("sku_tags_all"), f"{where}.sku_tags_all", MatrixError),
        skus=parse_name_set(data.get("skus"), f"{where}.skus", MatrixError),
        channels=parse_name_set(data.get("channels"), f"{where}.channels", MatrixError),
        countries=parse_country_set(data.get("countries"), f"{where}.countries", MatrixError),
        min_order_value=low,
        max_order_value=high,
    )


def _parse_rule(data: object, index: int) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(data, Mapping):
        raise MatrixError(f"{where} must be an object, got {_type_name(data)}", field=where)
    _reject_unknown_keys(data, _RULE_KEYS, where)
    process = data.get("process")
    if not isinstance(process, str) or process not in _PROCESS_SET:
        raise MatrixError(
            f"{where}.process: unknown process {process!r}; expected one of {list(ALL_PROCESSES)}",
            field=f"{where}.process",
        )
    if "owner" not in data:
        raise MatrixError(
            f"{where}.owner is required (use null for 'not performed')", field=f"{where}.owner"
        )
    rule_id = data.get("id")
    if rule_id is None:
        rule_id = f"{process}#{index + 1}"
    elif not isinstance(rule_id, str) or not rule_id.strip():
        raise MatrixError(
            f"{where}.id must be a non-empty string, got {rule_id!r}", field=f"{where}.id"
        )
    return Rule(
        id=rule_id,
        process=process,
        owner=_owner(data["owner"], f"{where}.owner"),
        when=_parse_condition(data.get("when"), f"{where}.when"),
        facility=_optional_text(data.get("facility"), f"{where}.facility"),
        sla_target=_optional_text(data.get("sla_target"), f"{where}.sla_target"),
        cost_bearer=_owner(data.get("cost_bearer"), f"{where}.cost_bearer"),
        note=_optional_text(data.get("note"), f"{where}.note"),
    )


def parse_matrix(data: Mapping[str, object]) -> Matrix:
    """Validate matrix JSON and build a :class:`Matrix`; raises MatrixError naming the field."""
    if not isinstance(data, Mapping):
        raise MatrixError(f"matrix must be an object, got {_type_name(data)}", field="matrix")
    _reject_unknown_keys(data, _MATRIX_KEYS, "")
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list | tuple):
        raise MatrixError(f"rules must be a list, got {_type_name(raw_rules)}", field="rules")
    rules: list[Rule] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(raw_rules):
        rule = _parse_rule(raw, index)
        if rule.id in first_index:
            raise MatrixError(
                f"rules[{index}].id {rule.id!r} duplicates rules[{first_index[rule.id]}].id",
                field=f"rules[{index}].id",
            )
        first_index[rule.id] = index
        rules.append(rule)
    raw_defaults = data.get("defaults", {})
    if not isinstance(raw_defaults, Mapping):
        raise MatrixError(
            f"defaults must be an object, got {_type_name(raw_defaults)}", field="defaults"
        )
    defaults: dict[str, str | None] = {}
    for process, owner in raw_defaults.items():
        where = f"defaults.{process}"
        if process not in _PROCESS_SET:
            raise MatrixError(f"{where}: unknown process {process!r}", field=where)
        defaults[process] = _owner(owner, where)
    return Matrix(rules=tuple(rules), defaults=MappingProxyType(defaults))


def _names(values: frozenset[str] | None) -> list[str] | None:
    return sorted(values) if values is not None else None


def _money(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def condition_to_dict(when: Condition) -> dict[str, object]:
    """A JSON-safe dictionary of a condition (sorted lists, decimals as strings)."""
    return {
        "sku_tags_any": _names(when.sku_tags_any),
        "sku_tags_all": _names(when.sku_tags_all),
        "skus": _names(when.skus),
        "channels": _names(when.channels),
        "countries": _names(when.countries),
        "min_order_value": _money(when.min_order_value),
        "max_order_value": _money(when.max_order_value),
    }


def matrix_to_dict(matrix: Matrix) -> dict[str, object]:
    """The JSON-safe inverse of :func:`parse_matrix`."""
    return {
        "rules": [
            {
                "id": rule.id,
                "process": rule.process,
                "owner": rule.owner,
                "when": condition_to_dict(rule.when),
                "facility": rule.facility,
                "sla_target": rule.sla_target,
                "cost_bearer": rule.cost_bearer,
                "note": rule.note,
            }
            for rule in matrix.rules
        ],
        "defaults": dict(matrix.defaults),
    }
