"""Serializing models back to X12 text, canonically.

Output is canonical whatever the input looked like: a fixed-width ISA (padded identifiers,
zero-padded control number, ISA16 set to the component separator), no trailing empty
elements, counts (SE01, GE01, IEA01) and trailer control numbers computed rather than copied,
and the delimiters and newline-after-terminator layout of the target partner. Values are
re-split on their source delimiters and re-joined with the target ones, so a document read
with ``>`` components can be written with ``:`` ones. A value that would contain a target
delimiter is reported, never written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from midway.integrations.edi.diagnostics import Diagnostic, Severity, diagnostic
from midway.integrations.edi.models import (
    INTERNAL,
    Delimiters,
    Document,
    FunctionalGroup,
    Interchange,
    Segment,
    TransactionSet,
)
from midway.integrations.edi.profiles import ControlNumbers, PartnerProfile
from midway.integrations.edi.sets import FUNCTIONAL_IDS

ISA_WIDTHS = {2: 10, 4: 10, 6: 15, 8: 15, 9: 6, 10: 4, 13: 9}


@dataclass
class Rendered:
    """Serialized text and whatever stopped it being right (then ``text`` is empty)."""

    text: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the text was produced without errors."""
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


class _Writer:
    """Accumulates segments in the target syntax and reports values it cannot write."""

    def __init__(self, target: Delimiters, newline: bool) -> None:
        self.target = target
        self.end = target.segment + ("\n" if newline and target.segment != "\n" else "")
        self.parts: list[str] = []
        self.diagnostics: list[Diagnostic] = []
        self._bad = re.compile("[" + re.escape(target.characters()) + "\r\n]")

    def write(self, elements: Sequence[str], source: Delimiters, *, trim: bool = True) -> None:
        """Write one segment whose values use the ``source`` delimiters."""
        end = len(elements)
        while trim and end > 1 and elements[end - 1] == "":
            end -= 1
        sid = elements[0]
        values = [sid]
        if self._bad.search(sid):
            self._report(sid, 0, sid)
        for position in range(1, end):
            values.append(self._value(elements[position], source, sid, position))
        self.parts.append(self.target.element.join(values) + self.end)

    def _value(self, value: str, source: Delimiters, sid: str, position: int) -> str:
        if not value:
            return value
        target = self.target
        repeats = value.split(source.repetition) if source.repetition else [value]
        if len(repeats) > 1 and target.repetition is None:
            self._report(sid, position, value, "repetitions need ISA12 00402 or later")
            return value
        written = []
        for repeat in repeats:
            parts = repeat.split(source.component)
            for part in parts:
                if self._bad.search(part):
                    self._report(sid, position, part)
            written.append(target.component.join(parts))
        return (target.repetition or "").join(written)

    def _report(self, sid: str, position: int, value: str, why: str = "") -> None:
        reason = why or f"it contains a delimiter of {self.target}"
        self.diagnostics.append(
            diagnostic(
                "DELIMITER_IN_DATA",
                f"{sid}{position:02d} {value!r} cannot be written: {reason}",
                0,
                segment_id=sid[:3],
                element_position=position or None,
                bad_value=value,
            )
        )

    def result(self) -> Rendered:
        """The text written, or nothing if a value could not be written."""
        if any(d.severity is Severity.ERROR for d in self.diagnostics):
            return Rendered("", self.diagnostics)
        return Rendered("".join(self.parts), self.diagnostics)


def canonical_isa(header: Segment, target: Delimiters) -> tuple[list[str], list[Diagnostic]]:
    """The ISA's elements at their fixed widths, with the target's separators in ISA11/16."""
    values = list(header.elements[:17]) + [""] * (17 - len(header.elements))
    problems: list[Diagnostic] = []
    values[13] = values[13].strip().zfill(9)
    for position, width in ISA_WIDTHS.items():
        value = values[position]
        if len(value) > width:
            problems.append(
                diagnostic(
                    "INVALID_DOCUMENT",
                    f"ISA{position:02d} {value!r} is longer than its {width} characters",
                    0,
                    segment_id="ISA",
                    element_position=position,
                    bad_value=value,
                )
            )
        values[position] = value.ljust(width)
    if values[12] >= "00402":
        values[11] = target.repetition or values[11]
    values[16] = target.component
    return values, problems


def _write_set(writer: _Writer, tset: TransactionSet) -> None:
    source = tset.delimiters
    writer.write(tset.header.elements, source)
    body = 0
    for segment in tset.walk():
        writer.write(segment.elements, source)
        body += 1
    writer.write(["SE", str(body + 2), tset.control_number], INTERNAL)


def _write_group(writer: _Writer, group: FunctionalGroup) -> None:
    writer.write(group.header.elements, group.delimiters)
    for tset in group.sets:
        _write_set(writer, tset)
    writer.write(["GE", str(len(group.sets)), group.control_number], INTERNAL)


def serialize_interchange(
    interchange: Interchange, *, delimiters: Delimiters | None = None, newline: bool = True
) -> Rendered:
    """Write one interchange (with the groups and sets it holds), canonically."""
    target = delimiters or interchange.delimiters
    writer = _Writer(target, newline)
    isa, problems = canonical_isa(interchange.header, target)
    writer.diagnostics.extend(problems)
    writer.write(isa, target, trim=False)
    for ta1 in interchange.ta1:
        writer.write(ta1.elements, interchange.delimiters)
    for group in interchange.groups:
        _write_group(writer, group)
    writer.write(["IEA", str(len(interchange.groups)), isa[13]], INTERNAL)
    return writer.result()


def serialize_set(
    tset: TransactionSet, *, delimiters: Delimiters | None = None, newline: bool = True
) -> Rendered:
    """Write a bare ST..SE transaction set (no envelope)."""
    writer = _Writer(delimiters or tset.delimiters, newline)
    _write_set(writer, tset)
    return writer.result()


def serialize_document(
    document: Document, *, delimiters: Delimiters | None = None, newline: bool = True
) -> Rendered:
    """Write every interchange of a document, then any set found without an envelope."""
    texts: list[str] = []
    found: list[Diagnostic] = []
    for interchange in document.interchanges:
        rendered = serialize_interchange(interchange, delimiters=delimiters, newline=newline)
        texts.append(rendered.text)
        found.extend(rendered.diagnostics)
    for tset in document.fragments:
        rendered = serialize_set(tset, delimiters=delimiters, newline=newline)
        texts.append(rendered.text)
        found.extend(rendered.diagnostics)
    failed = any(d.severity is Severity.ERROR for d in found)
    return Rendered("" if failed else "".join(texts), found)


def interchange_header(
    profile: PartnerProfile, control_number: int, now: datetime, *, ack_requested: bool = False
) -> Segment:
    """A new ISA from a partner profile."""
    delimiters = profile.delimiters
    standards = delimiters.repetition if profile.isa_version >= "00402" else "U"
    return Segment(
        [
            "ISA",
            "00",
            "",
            "00",
            "",
            profile.sender_qualifier,
            profile.sender_id,
            profile.receiver_qualifier,
            profile.receiver_id,
            now.strftime("%y%m%d"),
            now.strftime("%H%M"),
            standards or "U",
            profile.isa_version,
            f"{control_number:09d}",
            "1" if ack_requested else "0",
            profile.usage,
            delimiters.component,
        ]
    )


def group_header(
    profile: PartnerProfile, functional_id: str, control_number: int, now: datetime
) -> Segment:
    """A new GS from a partner profile."""
    return Segment(
        [
            "GS",
            functional_id,
            profile.gs_sender,
            profile.gs_receiver,
            now.strftime("%Y%m%d"),
            now.strftime("%H%M"),
            str(control_number),
            "X",
            profile.version,
        ]
    )


def build_interchange(
    sets: Sequence[TransactionSet],
    profile: PartnerProfile,
    counter: ControlNumbers,
    *,
    now: datetime | None = None,
) -> tuple[Interchange, list[Diagnostic]]:
    """Wrap sets in a new interchange for a partner: one group per functional ID, and fresh
    control numbers from the partner's counter (the sets' own numbers are replaced)."""
    moment = now or datetime.now(UTC)
    problems: list[Diagnostic] = []
    header = interchange_header(
        profile, counter.next_interchange(), moment, ack_requested=profile.acknowledgment_requested
    )
    interchange = Interchange(header=header, delimiters=profile.delimiters)
    by_function: dict[str, list[TransactionSet]] = {}
    for tset in sets:
        function = FUNCTIONAL_IDS.get(tset.id)
        if function is None:
            problems.append(
                diagnostic(
                    "INVALID_DOCUMENT",
                    f"no functional group is known for transaction set {tset.id!r}",
                    0,
                    segment_id="ST",
                    element_position=1,
                    bad_value=tset.id,
                )
            )
            continue
        by_function.setdefault(function, []).append(tset)
    for function, members in by_function.items():
        group_number = counter.next_group()
        group = FunctionalGroup(
            header=group_header(profile, function, group_number, moment),
            interchange=interchange,
            delimiters=INTERNAL,
        )
        for tset in members:
            control = f"{counter.next_set():04d}"
            header = Segment(["ST", tset.id, control, *tset.header.elements[3:]])
            group.sets.append(
                TransactionSet(
                    id=tset.id,
                    control_number=control,
                    header=header,
                    version=profile.version,
                    items=tset.items,
                    delimiters=tset.delimiters,
                    group=group,
                )
            )
        interchange.groups.append(group)
    return interchange, problems


def render(
    sets: Sequence[TransactionSet],
    profile: PartnerProfile,
    counter: ControlNumbers,
    *,
    now: datetime | None = None,
) -> Rendered:
    """Serialize sets for a partner: new envelope, partner delimiters and layout."""
    interchange, problems = build_interchange(sets, profile, counter, now=now)
    rendered = serialize_interchange(
        interchange, delimiters=profile.delimiters, newline=profile.newline_after_terminator
    )
    rendered.diagnostics[:0] = problems
    if problems:
        rendered.text = ""
    return rendered
