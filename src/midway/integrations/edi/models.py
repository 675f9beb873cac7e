"""The parsed form of X12: segments, loops, transaction sets, groups, interchanges.

The models are generic: a 940 and an 856 are both a :class:`TransactionSet` whose items are
segments and loops in the order the spec's grammar placed them. Elements are kept as the
strings that were received (``elements[0]`` is the segment ID), so a model always serializes
back to the same content; names from the spec give readable access on top.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from midway.integrations.edi.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from midway.integrations.edi.spec import SegmentSpec


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four X12 separators of an interchange (read from its ISA)."""

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None

    def characters(self) -> str:
        """Every delimiter character in use."""
        return self.element + self.component + self.segment + (self.repetition or "")


# The delimiters of segments built in code (from JSON, or acknowledgments): control characters
# no value contains, so that composites can be joined and later re-split for any partner.
INTERNAL = Delimiters("\x1d", "\x1f", "\x1c", "\x1e")


class Segment:
    """One segment: ``elements[0]`` is its ID, ``elements[n]`` the n-th data element.

    ``offset`` is the byte offset of the segment in its file, ``position`` its position in
    the transaction set (ST = 1; 0 outside a set), ``raw`` the text it was read from, ``spec``
    the definition the parser matched it to (None for unknown segments) and ``notes`` any
    findings the tokenizer made while reading it.
    """

    __slots__ = ("elements", "notes", "offset", "position", "raw", "spec")

    def __init__(self, elements: list[str], offset: int = 0, raw: str = "") -> None:
        self.elements = elements
        self.offset = offset
        self.position = 0
        self.raw = raw
        self.spec: SegmentSpec | None = None
        self.notes: list[Diagnostic] | None = None

    @property
    def id(self) -> str:
        """The segment ID (``W05``, ``N1``...)."""
        return self.elements[0]

    def __len__(self) -> int:
        """Number of data elements (trailing empty ones included)."""
        return len(self.elements) - 1

    def get(self, key: int | str, default: str = "") -> str:
        """An element by 1-based position, X12 reference (``W0502``/``W05-02``) or spec name."""
        position = key if isinstance(key, int) else self.position_of(key)
        if position is None or position < 1 or position >= len(self.elements):
            return default
        return self.elements[position]

    def __getitem__(self, key: int | str) -> str:
        """Same as :meth:`get`; missing elements read as the empty string."""
        return self.get(key)

    def position_of(self, key: str) -> int | None:
        """Resolve an element reference or name to its position, or None."""
        sid = self.elements[0]
        ref = key.replace("-", "")
        if ref.startswith(sid) and ref[len(sid) :].isdigit():
            return int(ref[len(sid) :])
        if self.spec is not None:
            return self.spec.position_of(key)
        return None

    def components(self, position: int, separator: str) -> list[str]:
        """The components of a composite element, split on ``separator``."""
        value = self.get(position)
        return value.split(separator) if value else []

    def trimmed(self) -> list[str]:
        """The elements without trailing empty ones (they carry nothing)."""
        elements = self.elements
        end = len(elements)
        while end > 1 and elements[end - 1] == "":
            end -= 1
        return elements[:end]

    def element_offset(self, position: int) -> int:
        """Byte offset in the file where element ``position`` starts."""
        if position <= 0:
            return self.offset
        before = self.elements[:position]
        length = sum(len(e) if e.isascii() else len(e.encode("utf-8")) for e in before)
        return self.offset + length + min(position, len(self.elements))

    def __eq__(self, other: object) -> bool:
        """Segments are equal when their elements are, trailing empty elements aside."""
        if not isinstance(other, Segment):
            return NotImplemented
        return self.trimmed() == other.trimmed()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """Segments show as the text they stand for."""
        return f"Segment({'*'.join(self.elements)!r} @ {self.offset})"


Item: TypeAlias = "Segment | Loop"
# The fields of a transaction set that can be made on first access (TransactionSet.deferred).
_DEFERRED_PARTS = frozenset({"header", "trailer", "items"})
_Source = TypeVar("_Source")


class _Container:
    """Shared navigation for transaction sets and loops (both hold an ordered item list)."""

    items: list[Item]

    def walk(self) -> Iterator[Segment]:
        """Every segment below, depth-first, in document order."""
        for item in self.items:
            if isinstance(item, Segment):
                yield item
            else:
                yield from item.walk()

    def segment(self, segment_id: str) -> Segment | None:
        """The first direct child segment with this ID."""
        for item in self.items:
            if isinstance(item, Segment) and item.elements[0] == segment_id:
                return item
        return None

    def segments(self, segment_id: str) -> list[Segment]:
        """All direct child segments with this ID."""
        return [i for i in self.items if isinstance(i, Segment) and i.elements[0] == segment_id]

    def loops(self, loop_id: str) -> list[Loop]:
        """All direct child loops with this ID."""
        return [i for i in self.items if isinstance(i, Loop) and i.id == loop_id]


@dataclass(eq=False)
class Loop(_Container):
    """One occurrence of a loop: its first item is the segment that opened it."""

    id: str
    items: list[Item] = field(default_factory=list)

    @property
    def trigger(self) -> Segment:
        """The segment that opened the loop (an N1 for the N1 loop...)."""
        first = self.items[0]
        assert isinstance(first, Segment)
        return first

    def __eq__(self, other: object) -> bool:
        """Loops are equal when their IDs and items are."""
        if not isinstance(other, Loop):
            return NotImplemented
        return self.id == other.id and self.items == other.items

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class SetResult:
    """What the acknowledgment of one transaction set needs (kept even when sets are not)."""

    set_id: str
    control_number: str
    offset: int
    diagnostics: tuple[Diagnostic, ...]

    @property
    def accepted(self) -> bool:
        """True when the set has no error."""
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


@dataclass(eq=False)
class TransactionSet(_Container):
    """One ST..SE transaction set, with the loops of its grammar and its own diagnostics."""

    id: str
    control_number: str
    header: Segment
    version: str = "004010"
    trailer: Segment | None = None
    items: list[Item] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    delimiters: Delimiters = field(default_factory=Delimiters)
    group: FunctionalGroup | None = None

    @property
    def accepted(self) -> bool:
        """True when no error was found in the set."""
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)

    @classmethod
    def deferred(
        cls,
        set_id: str,
        control_number: str,
        version: str,
        delimiters: Delimiters,
        group: FunctionalGroup | None,
        parts: Callable[[_Source, str], object],
        source: _Source,
    ) -> TransactionSet:
        """A set without findings whose ``header``, ``trailer`` and ``items`` are made when
        first read, each by ``parts(source, name)``.

        The reader makes one per set it proved clean from the text alone (see
        :mod:`~midway.integrations.edi.wholeset`): a caller that only wants findings never
        pays for segment and loop objects, and one that reads them gets what the
        segment-by-segment parse would have made.
        """
        tset = cls.__new__(cls)
        tset.__dict__ = {
            "id": set_id,
            "control_number": control_number,
            "version": version,
            "diagnostics": [],
            "delimiters": delimiters,
            "group": group,
            "_parts": parts,
            "_source": source,
        }
        return tset

    if not TYPE_CHECKING:  # typed as the plain fields above; this only fills them in

        def __getattr__(self, name: str) -> object:
            """Make a deferred part on first access (only called for missing attributes)."""
            parts = self.__dict__.get("_parts") if name in _DEFERRED_PARTS else None
            if parts is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            value = parts(self.__dict__["_source"], name)
            setattr(self, name, value)
            return value

    def result(self) -> SetResult:
        """The summary a 997 needs for this set."""
        return SetResult(self.id, self.control_number, self.header.offset, tuple(self.diagnostics))


# A default makes the dataclass keep ``trailer = None`` on the class, where attribute lookup
# would find it before ``__getattr__`` could make a deferred set's trailer. The constructor
# keeps its own copy of the default.
del TransactionSet.trailer


@dataclass(eq=False)
class FunctionalGroup:
    """One GS..GE functional group."""

    header: Segment
    trailer: Segment | None = None
    sets: list[TransactionSet] = field(default_factory=list)
    results: list[SetResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    interchange: Interchange | None = None
    delimiters: Delimiters = field(default_factory=Delimiters)

    @property
    def functional_id(self) -> str:
        """GS01: the kind of sets in the group (OW, SW, FA...)."""
        return self.header.get(1)

    @property
    def control_number(self) -> str:
        """GS06."""
        return self.header.get(6)

    @property
    def version(self) -> str:
        """GS08 as received (``004010``, ``004010UCS``, ``005010X231A1``...)."""
        return self.header.get(8)

    @property
    def sender(self) -> str:
        """GS02, the application sender."""
        return self.header.get(2)

    @property
    def receiver(self) -> str:
        """GS03, the application receiver."""
        return self.header.get(3)


@dataclass(eq=False)
class Interchange:
    """One ISA..IEA interchange and the delimiters it declared."""

    header: Segment
    delimiters: Delimiters
    trailer: Segment | None = None
    groups: list[FunctionalGroup] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    ta1: list[Segment] = field(default_factory=list)

    @property
    def control_number(self) -> str:
        """ISA13."""
        return self.header.get(13)

    @property
    def sender(self) -> tuple[str, str]:
        """(ISA05 qualifier, ISA06 ID) without padding."""
        return self.header.get(5).strip(), self.header.get(6).strip()

    @property
    def receiver(self) -> tuple[str, str]:
        """(ISA07 qualifier, ISA08 ID) without padding."""
        return self.header.get(7).strip(), self.header.get(8).strip()

    @property
    def version(self) -> str:
        """ISA12, the envelope version (``00401``, ``00501``)."""
        return self.header.get(12)

    @property
    def ack_requested(self) -> bool:
        """ISA14 = 1: the sender wants a TA1 back."""
        return self.header.get(14).strip() == "1"


@dataclass(eq=False)
class Document:
    """Everything read from one file: interchanges, plus groups and sets found without one."""

    interchanges: list[Interchange] = field(default_factory=list)
    groups: list[FunctionalGroup] = field(default_factory=list)
    fragments: list[TransactionSet] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def all_groups(self) -> Iterator[FunctionalGroup]:
        """Every functional group, inside an interchange or not."""
        for interchange in self.interchanges:
            yield from interchange.groups
        yield from self.groups

    def sets(self) -> Iterator[TransactionSet]:
        """Every transaction set in document order of its container."""
        for group in self.all_groups():
            yield from group.sets
        yield from self.fragments

    def all_diagnostics(self) -> list[Diagnostic]:
        """Every finding in the file, ordered by offset."""
        found = list(self.diagnostics)
        for interchange in self.interchanges:
            found.extend(interchange.diagnostics)
        for group in self.all_groups():
            found.extend(group.diagnostics)
        for tset in self.sets():
            found.extend(tset.diagnostics)
        return sorted(found, key=lambda d: (d.offset, d.code))

    def errors(self) -> list[Diagnostic]:
        """Only the error findings."""
        return [d for d in self.all_diagnostics() if d.severity is Severity.ERROR]

    @property
    def clean(self) -> bool:
        """True when nothing at all was found."""
        return not self.all_diagnostics()
