"""Declarative X12 specs: elements, segments, loops and transaction sets, as data.

A spec says what a valid segment or set looks like; the generic parser and validator read it,
so supporting another set, version or partner quirk means adding rows, not code. Versions and
partners differ from the base dictionary through :class:`ElementOverride` rows applied on top
(a longer maximum length, an extra code value, an element a version adds).

The dictionary rows live in ``segments_envelope``, ``segments_common``,
``segments_warehouse`` and ``sets``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from midway.integrations.edi.models import Delimiters

NUMERIC_TYPES = frozenset(f"N{i}" for i in range(10))
ELEMENT_TYPES = frozenset({"AN", "ID", "R", "DT", "TM", "COMP"}) | NUMERIC_TYPES
REQUIREMENTS = frozenset({"M", "O", "X"})
SUPPORTED_VERSIONS = ("004010", "005010")


class SpecError(ValueError):
    """A spec row or an override is malformed."""


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """One data element of a segment (or one component of a composite element).

    ``requirement`` is M (mandatory), O (optional) or X (conditional: optional, governed by a
    syntax rule of the segment). Lengths count characters, or digits for numeric types.
    ``codes`` is the closed list of accepted values (None: any value).
    """

    position: int
    name: str
    requirement: str = "O"
    type: str = "AN"
    min_length: int = 1
    max_length: int = 80
    codes: frozenset[str] | None = None
    components: tuple[ElementSpec, ...] = ()

    @property
    def mandatory(self) -> bool:
        """True for M elements."""
        return self.requirement == "M"


@dataclass(frozen=True, slots=True)
class SyntaxRule:
    """An X12 syntax note between elements of a segment.

    P (paired: all or none), R (at least one), E (at most one), C (if the first, then all the
    others), L (if the first, then at least one of the others).
    """

    kind: str
    positions: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> SyntaxRule:
        """Read ``P0405``-style notation."""
        kind, digits = text[:1], text[1:]
        if kind not in "PRECL" or not digits.isdigit() or len(digits) % 2 or len(digits) < 4:
            raise SpecError(f"bad syntax rule {text!r}")
        positions = tuple(int(digits[i : i + 2]) for i in range(0, len(digits), 2))
        return cls(kind, positions)

    def __str__(self) -> str:
        """Back to X12 notation."""
        return self.kind + "".join(f"{p:02d}" for p in self.positions)


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """A segment definition: its elements in order and its syntax rules."""

    id: str
    name: str
    elements: tuple[ElementSpec, ...]
    rules: tuple[SyntaxRule, ...] = ()

    def element(self, position: int) -> ElementSpec | None:
        """The element at a 1-based position, if defined."""
        if 1 <= position <= len(self.elements):
            return self.elements[position - 1]
        return None

    def position_of(self, name: str) -> int | None:
        """Position of the element with this name (or X12 reference like ``W0502``)."""
        ref = name.replace("-", "")
        if ref.startswith(self.id) and ref[len(self.id) :].isdigit():
            return int(ref[len(self.id) :])
        for element in self.elements:
            if element.name == name:
                return element.position
        return None


@dataclass(frozen=True, slots=True)
class SegmentUse:
    """A segment's place in a set grammar: required or not, and how often it may repeat."""

    id: str
    requirement: str = "O"
    max_use: int = 1


@dataclass(frozen=True, slots=True)
class LoopUse:
    """A loop's place in a set grammar; ``children[0]`` is the segment that opens it."""

    id: str
    requirement: str
    max_repeat: int
    children: tuple[Node, ...]


Node: TypeAlias = "SegmentUse | LoopUse"


@dataclass(frozen=True, slots=True)
class SetSpec:
    """A transaction set grammar: the body between ST and SE."""

    id: str
    name: str
    functional_id: str
    body: tuple[Node, ...]

    def segment_ids(self) -> frozenset[str]:
        """Every segment ID the grammar uses anywhere."""
        found: set[str] = set()
        stack: list[Node] = list(self.body)
        while stack:
            node = stack.pop()
            if isinstance(node, LoopUse):
                stack.extend(node.children)
            else:
                found.add(node.id)
        return frozenset(found)


@dataclass(frozen=True, slots=True)
class ElementOverride:
    """A change to one element of the dictionary, applied on top of the base spec.

    Unset fields keep the base value; ``codes`` replaces the code list (an empty tuple lifts
    it), ``add_codes`` extends it. A position past the end of the segment adds an element.
    """

    segment: str
    position: int
    name: str | None = None
    requirement: str | None = None
    type: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    codes: tuple[str, ...] | None = None
    add_codes: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ElementOverride:
        """Read an override from plain data (``{"element": "N901", "add_codes": ["ZZ"]}``)."""
        known = {"element", "segment", "position", "name", "requirement", "type"}
        known |= {"min_length", "max_length", "codes", "add_codes"}
        unknown = set(data) - known
        if unknown:
            raise SpecError(f"unknown override keys: {', '.join(sorted(unknown))}")
        position: int | None
        if "element" in data:
            segment, position = parse_element_ref(_text(data, "element"))
        else:
            segment = _text(data, "segment")
            position = _integer(data, "position")
        if position is None:
            raise SpecError("an override needs an element position")
        override = cls(
            segment=segment,
            position=position,
            name=_optional_text(data, "name"),
            requirement=_optional_text(data, "requirement"),
            type=_optional_text(data, "type"),
            min_length=_integer(data, "min_length"),
            max_length=_integer(data, "max_length"),
            codes=_code_list(data, "codes"),
            add_codes=_code_list(data, "add_codes") or (),
        )
        override.check()
        return override

    def check(self) -> None:
        """Reject values the engine could not use."""
        if self.position < 1:
            raise SpecError(f"{self.segment}: element positions start at 1")
        if self.requirement is not None and self.requirement not in REQUIREMENTS:
            raise SpecError(f"{self.ref()}: requirement must be M, O or X")
        if self.type is not None and self.type not in ELEMENT_TYPES - {"COMP"}:
            raise SpecError(f"{self.ref()}: unknown element type {self.type!r}")
        for value in (self.min_length, self.max_length):
            if value is not None and value < 0:
                raise SpecError(f"{self.ref()}: lengths cannot be negative")

    def ref(self) -> str:
        """The element as X12 writes it (``N901``)."""
        return f"{self.segment}{self.position:02d}"

    def to_dict(self) -> dict[str, object]:
        """The override as plain data (what :meth:`from_dict` reads)."""
        data: dict[str, object] = {"element": self.ref()}
        for key in ("name", "requirement", "type", "min_length", "max_length"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.codes is not None:
            data["codes"] = list(self.codes)
        if self.add_codes:
            data["add_codes"] = list(self.add_codes)
        return data

    def apply(self, spec: SegmentSpec) -> SegmentSpec:
        """The segment spec with this override applied."""
        elements = list(spec.elements)
        if self.position > len(elements):
            for position in range(len(elements) + 1, self.position + 1):
                elements.append(ElementSpec(position, f"element_{position:02d}"))
        base = elements[self.position - 1]
        codes = base.codes
        if self.codes is not None:
            codes = frozenset(self.codes) if self.codes else None
        if self.add_codes:
            codes = (codes or frozenset()) | frozenset(self.add_codes)
        elements[self.position - 1] = replace(
            base,
            name=self.name if self.name is not None else base.name,
            requirement=self.requirement if self.requirement is not None else base.requirement,
            type=self.type if self.type is not None else base.type,
            min_length=self.min_length if self.min_length is not None else base.min_length,
            max_length=self.max_length if self.max_length is not None else base.max_length,
            codes=codes,
        )
        return replace(spec, elements=tuple(elements))


def parse_element_ref(ref: str) -> tuple[str, int]:
    """Split ``N901`` / ``N9-01`` / ``W0114`` into (segment ID, position)."""
    text = ref.replace("-", "").strip().upper()
    if len(text) < 4 or not text[-2:].isdigit() or not text[:-2].isalnum():
        raise SpecError(f"bad element reference {ref!r}: expected e.g. N901 or W01-14")
    return text[:-2], int(text[-2:])


def _text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise SpecError(f"{key} must be a non-empty string")
    return value


def _optional_text(data: Mapping[str, object], key: str) -> str | None:
    return _text(data, key) if data.get(key) is not None else None


def _integer(data: Mapping[str, object], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{key} must be an integer")
    return value


def _code_list(data: Mapping[str, object], key: str) -> tuple[str, ...] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{key} must be a list of strings")
    return tuple(str(v) for v in value)


# --- Dictionary rows -------------------------------------------------------------------------
# An element row is (requirement, type, min, max, name) with an optional sixth item: the code
# list of an ID element, or the composite ID of a COMP element (its components are rows too).
ElementRow: TypeAlias = (
    "tuple[str, str, int, int, str] | tuple[str, str, int, int, str, tuple[str, ...]]"
)
# A segment row is (name, syntax rules, element rows).
SegmentRow: TypeAlias = "tuple[str, tuple[str, ...], tuple[ElementRow, ...]]"
# A grammar row is (segment, requirement, max use) or (loop, requirement, max repeat, rows);
# a loop's first child is its trigger segment, implied by the loop ID.
GrammarRow: TypeAlias = "tuple[str, str, int] | tuple[str, str, int, tuple[GrammarRow, ...]]"


def build_element(
    position: int, row: ElementRow, composites: Mapping[str, tuple[ElementRow, ...]]
) -> ElementSpec:
    """Turn one element row into an :class:`ElementSpec`."""
    requirement, kind, low, high, name = row[0], row[1], row[2], row[3], row[4]
    extra: tuple[str, ...] = row[5] if len(row) == 6 else ()
    if requirement not in REQUIREMENTS or kind not in ELEMENT_TYPES or low > high:
        raise SpecError(f"bad element row {row!r}")
    if kind == "COMP":
        if len(extra) != 1 or extra[0] not in composites:
            raise SpecError(f"composite element {name!r} needs a known composite ID")
        parts = composites[extra[0]]
        components = tuple(build_element(i, part, composites) for i, part in enumerate(parts, 1))
        return ElementSpec(position, name, requirement, kind, low, high, None, components)
    codes = frozenset(extra) if extra else None
    return ElementSpec(position, name, requirement, kind, low, high, codes)


def build_segment(
    segment_id: str, row: SegmentRow, composites: Mapping[str, tuple[ElementRow, ...]]
) -> SegmentSpec:
    """Turn one segment row into a :class:`SegmentSpec`."""
    name, rules, elements = row
    built = tuple(build_element(i, element, composites) for i, element in enumerate(elements, 1))
    return SegmentSpec(segment_id, name, built, tuple(SyntaxRule.parse(r) for r in rules))


def build_grammar(rows: Iterable[GrammarRow]) -> tuple[Node, ...]:
    """Turn grammar rows into segment and loop uses."""
    nodes: list[Node] = []
    for row in rows:
        if len(row) == 3:
            nodes.append(SegmentUse(row[0], row[1], row[2]))
        else:
            loop_id, requirement, repeat, children = row
            trigger = SegmentUse(loop_id, "M", 1)
            nodes.append(LoopUse(loop_id, requirement, repeat, (trigger, *build_grammar(children))))
    return tuple(nodes)


# --- Dialects: a version's dictionary with overrides applied ---------------------------------


def version_key(gs08: str) -> tuple[str, str | None]:
    """Map a GS08 value to a supported spec version, with a diagnostic code when it differs.

    Industry suffixes (``004010UCS``, ``005010X231A1``) are the base version. Other versions
    use the nearest supported one (``VERSION_FALLBACK``); unreadable ones use 004010 and report
    ``VERSION_NOT_SUPPORTED``.
    """
    base = gs08.strip()[:6]
    if base in SUPPORTED_VERSIONS:
        return base, None
    if len(base) == 6 and base.isdigit():
        return ("005010" if base > "005010" else "004010"), "VERSION_FALLBACK"
    return "004010", "VERSION_NOT_SUPPORTED"


class Dialect:
    """The segment dictionary and set grammars of one version, with overrides applied."""

    def __init__(self, version: str, overrides: tuple[ElementOverride, ...] = ()) -> None:
        # Imported here: the data modules import this one for their row types.
        from midway.integrations.edi import (
            segments_common,
            segments_envelope,
            segments_warehouse,
            sets,
        )

        self.version = version
        self.overrides = overrides
        composites = segments_envelope.COMPOSITES
        rows = {
            **segments_envelope.SEGMENTS,
            **segments_common.SEGMENTS,
            **segments_warehouse.SEGMENTS,
        }
        segments = {sid: build_segment(sid, row, composites) for sid, row in rows.items()}
        for override in (*segments_envelope.VERSION_OVERRIDES.get(version, ()), *overrides):
            base = segments.get(override.segment)
            if base is None:
                base = SegmentSpec(override.segment, override.segment, ())
            segments[override.segment] = override.apply(base)
        self.segments: dict[str, SegmentSpec] = segments
        self.sets: dict[str, SetSpec] = sets.SETS
        # Compiled grammars and checks, filled by the parser per (set or segment, delimiters).
        self.compiled: dict[tuple[str, Delimiters], object] = {}

    def segment(self, segment_id: str) -> SegmentSpec | None:
        """The definition of a segment, if the dictionary has it."""
        return self.segments.get(segment_id)

    def set_spec(self, set_id: str) -> SetSpec | None:
        """The grammar of a transaction set, if supported."""
        return self.sets.get(set_id)


@lru_cache(maxsize=64)
def dialect(version: str = "004010", overrides: tuple[ElementOverride, ...] = ()) -> Dialect:
    """The (cached) dialect for a supported version and a partner's overrides."""
    return Dialect(version, overrides)
