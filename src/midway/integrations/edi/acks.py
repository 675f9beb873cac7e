"""Functional acknowledgments: building 997s (and TA1s) for inbound files, reading inbound 997s.

For every inbound functional group Midway answers with a 997: AK1 names the group, each set
gets an AK2, the AK3/AK4 notes of its segment and element errors and an AK5 verdict, and AK9
gives the group's verdict and counts. An interchange whose ISA14 is 1 also gets a TA1. The
codes come straight from the diagnostics (see ``diagnostics.CODES``).

Inbound 997s (and 999s) are read into :class:`GroupAcknowledgment` records, so that a later
service can match them, by functional ID and GS06/ST02, to what Midway sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from midway.integrations.edi.diagnostics import Diagnostic, Severity
from midway.integrations.edi.models import (
    INTERNAL,
    Document,
    FunctionalGroup,
    Interchange,
    Segment,
    SetResult,
    TransactionSet,
)
from midway.integrations.edi.profiles import (
    ControlNumberCounter,
    ControlNumbers,
    PartnerProfile,
    ProfileError,
)
from midway.integrations.edi.serializer import Rendered, group_header, serialize_interchange
from midway.integrations.edi.spec import version_key

_CODE_SAFE = re.compile(r"[^A-Za-z0-9 .,\-/()#&+@!%?=]")
_MAX_AK4_VALUE = 99


def _errors(diagnostics: Iterable[Diagnostic], level: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.ERROR and d.ack_segment == level]


def _unique(codes: Iterable[str | None], limit: int = 5) -> list[str]:
    seen: list[str] = []
    for code in codes:
        if code and code not in seen:
            seen.append(code)
    return seen[:limit]


def _segment_notes(result: SetResult) -> list[Segment]:
    """AK3 (and AK4) notes for the segment and element errors of one set."""
    notes: list[Segment] = []
    by_segment: dict[tuple[int, str], list[Diagnostic]] = {}
    for item in result.diagnostics:
        if item.severity is not Severity.ERROR or item.segment_position is None:
            continue
        if item.ack_segment in ("AK3", "AK4"):
            sid = re.sub(r"[^A-Z0-9]", "", item.segment_id.upper())[:3] or "XX"
            by_segment.setdefault((item.segment_position, sid), []).append(item)
    for (position, sid), found in sorted(by_segment.items()):
        segment_codes = [d.ack_code for d in found if d.ack_segment == "AK3"]
        elements = [d for d in found if d.ack_segment == "AK4"]
        for code in _unique(segment_codes, limit=99):
            notes.append(Segment(["AK3", sid, str(position), "", code]))
        if elements:
            if "8" not in segment_codes:
                notes.append(Segment(["AK3", sid, str(position), "", "8"]))
            for element in elements[:99]:
                where = str(element.element_position or 0)
                if element.component_position is not None:
                    where += INTERNAL.component + str(element.component_position)
                bad = _CODE_SAFE.sub("", element.bad_value or "")[:_MAX_AK4_VALUE]
                notes.append(Segment(["AK4", where, "", element.ack_code or "", bad]))
    return notes


def acknowledgment_set(group: FunctionalGroup, control_number: str) -> TransactionSet:
    """The 997 answering one inbound functional group."""
    version_5010 = group.version.startswith("005010")
    header = Segment(["ST", "997", control_number])
    ak1 = ["AK1", group.functional_id, group.control_number]
    if version_5010:
        ak1.append(group.version)
    items: list[Segment] = [Segment(ak1)]
    accepted = 0
    for result in group.results:
        items.append(Segment(["AK2", result.set_id[:3], result.control_number[:9]]))
        items.extend(_segment_notes(result))
        set_errors = _errors(result.diagnostics, "AK5")
        codes = _unique(d.ack_code for d in set_errors)
        has_notes = any(
            d.severity is Severity.ERROR and d.ack_segment in ("AK3", "AK4")
            for d in result.diagnostics
        )
        if has_notes and len(codes) < 5 and "5" not in codes:
            codes.append("5")
        rejected = not result.accepted
        accepted += not rejected
        items.append(Segment(["AK5", "R" if rejected else "A", *codes]))
    group_errors = _errors(group.diagnostics, "AK9")
    received = len(group.results)
    declared = group.trailer.get(1).strip() if group.trailer is not None else ""
    included = declared if declared.isdigit() else str(received)
    if group_errors or (received and not accepted):
        status = "R"
    elif accepted < received:
        status = "P"
    else:
        status = "A"
    codes = _unique(d.ack_code for d in group_errors)
    items.append(Segment(["AK9", status, included, str(received), str(accepted), *codes]))
    return TransactionSet(
        id="997",
        control_number=control_number,
        header=header,
        version="005010" if version_5010 else "004010",
        items=list(items),
        delimiters=INTERNAL,
    )


def interchange_acknowledgment(interchange: Interchange) -> Segment:
    """The TA1 answering one inbound interchange."""
    errors = _errors(interchange.diagnostics, "TA1")
    note = errors[0].ack_code if errors else "000"
    return Segment(
        [
            "TA1",
            interchange.control_number.strip().zfill(9)[:9],
            interchange.header.get(9),
            interchange.header.get(10),
            "R" if errors else "A",
            note or "000",
        ]
    )


def _plain(value: str, default: str, size: int = 15) -> str:
    """An identifier safe to write back: letters, digits and a few marks, at most ``size``."""
    kept = "".join(c for c in value if c.isalnum() or c in " -._").strip()[:size]
    return kept or default


def responder_profile(interchange: Interchange) -> PartnerProfile:
    """A profile answering an interchange: its receiver becomes the sender, its delimiters
    and version are kept when they can be (inbound values are untrusted: anything unusable
    falls back to the X12 defaults)."""
    groups = interchange.groups
    header = interchange.header
    isa_version = (
        header.get(12) if len(header.get(12)) == 5 and header.get(12).isdigit() else "00401"
    )
    values: dict[str, object] = {
        "name": "acknowledgment",
        "sender_qualifier": _plain(header.get(7), "ZZ", 2).ljust(2, "Z"),
        "sender_id": _plain(header.get(8), "UNKNOWN"),
        "receiver_qualifier": _plain(header.get(5), "ZZ", 2).ljust(2, "Z"),
        "receiver_id": _plain(header.get(6), "UNKNOWN"),
        "application_sender": _plain(groups[0].receiver, "UNKNOWN") if groups else "",
        "application_receiver": _plain(groups[0].sender, "UNKNOWN") if groups else "",
        # Answer in the supported version nearest to the inbound one.
        "version": version_key(groups[0].version)[0] if groups else "004010",
        "interchange_version": isa_version,
        "usage": header.get(15) if header.get(15) in ("P", "T") else "P",
    }
    delimiters = interchange.delimiters
    try:
        return PartnerProfile(
            **values,  # type: ignore[arg-type]
            element_separator=delimiters.element,
            component_separator=delimiters.component,
            segment_terminator=delimiters.segment,
            repetition_separator=delimiters.repetition or "^",
        )
    except ProfileError:
        return PartnerProfile(**values)  # type: ignore[arg-type]


def acknowledge(
    interchange: Interchange,
    *,
    profile: PartnerProfile | None = None,
    counter: ControlNumbers | None = None,
    now: datetime | None = None,
) -> Interchange | None:
    """The interchange answering an inbound one: a TA1 if it asked for one, and a 997 per
    functional group, from ``profile`` (by default the inbound envelope, reversed).

    Acknowledgments are never acknowledged, so FA groups get no 997; None means there is
    nothing to send.
    """
    from midway.integrations.edi.serializer import interchange_header

    groups = [g for g in interchange.groups if g.functional_id != "FA"]
    if not groups and not interchange.ack_requested:
        return None
    profile = profile or responder_profile(interchange)
    counter = counter or ControlNumberCounter()
    moment = now or datetime.now(UTC)
    reply = Interchange(
        header=interchange_header(profile, counter.next_interchange(), moment),
        delimiters=profile.delimiters,
    )
    if interchange.ack_requested:
        reply.ta1.append(interchange_acknowledgment(interchange))
    if groups:
        group = FunctionalGroup(
            header=group_header(profile, "FA", counter.next_group(), moment),
            interchange=reply,
            delimiters=INTERNAL,
        )
        for inbound in groups:
            tset = acknowledgment_set(inbound, f"{counter.next_set():04d}")
            tset.group = group
            group.sets.append(tset)
        reply.groups.append(group)
    return reply


def acknowledge_document(
    document: Document,
    *,
    profile: PartnerProfile | None = None,
    counter: ControlNumbers | None = None,
    now: datetime | None = None,
) -> Rendered:
    """The serialized acknowledgments of every interchange of a parsed file."""
    counter = counter or ControlNumberCounter()
    texts: list[str] = []
    found: list[Diagnostic] = []
    for interchange in document.interchanges:
        reply = acknowledge(interchange, profile=profile, counter=counter, now=now)
        if reply is None:
            continue
        chosen = profile or responder_profile(interchange)
        rendered = serialize_interchange(
            reply, delimiters=chosen.delimiters, newline=chosen.newline_after_terminator
        )
        texts.append(rendered.text)
        found.extend(rendered.diagnostics)
    return Rendered("".join(texts), found)


# --- Reading inbound acknowledgments -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ElementError:
    """An AK4/IK4 note: the element at fault, its error code and a copy of its value."""

    position: int
    component: int | None
    reference: str
    code: str
    bad_value: str


@dataclass(frozen=True, slots=True)
class SegmentError:
    """An AK3/IK3 note: the segment at fault and the element notes below it."""

    segment_id: str
    position: int
    loop: str
    code: str
    elements: tuple[ElementError, ...]


@dataclass(frozen=True, slots=True)
class SetAcknowledgment:
    """What a partner said about one of our transaction sets (AK2..AK5)."""

    set_id: str
    control_number: str
    status: str
    codes: tuple[str, ...]
    errors: tuple[SegmentError, ...]

    @property
    def accepted(self) -> bool:
        """True for A (accepted) and E (accepted with errors noted)."""
        return self.status in ("A", "E")


@dataclass(frozen=True, slots=True)
class GroupAcknowledgment:
    """What a partner said about one of our functional groups (AK1..AK9).

    ``functional_id`` and ``group_control_number`` (AK1) identify the group acknowledged;
    ``sets`` its sets by ST02. ``source_control_number`` is the 997's own ST02.
    """

    functional_id: str
    group_control_number: str
    status: str
    sets_included: int
    sets_received: int
    sets_accepted: int
    codes: tuple[str, ...]
    sets: tuple[SetAcknowledgment, ...]
    source_control_number: str

    @property
    def accepted(self) -> bool:
        """True when the whole group was accepted (A or E)."""
        return self.status in ("A", "E")

    def set_status(self, control_number: str) -> str | None:
        """The AK5 status of the set with this ST02, or None if it is not listed."""
        for item in self.sets:
            if item.control_number == control_number:
                return item.status
        return None


def _number(value: str) -> int:
    return int(value) if value.strip().isdigit() else 0


def _element_error(segment: Segment, delimiters_component: str) -> ElementError:
    where = segment.get(1).split(delimiters_component)
    component = _number(where[1]) if len(where) > 1 and where[1] else None
    return ElementError(
        _number(where[0]), component, segment.get(2), segment.get(3), segment.get(4)
    )


def read_acknowledgment(tset: TransactionSet) -> GroupAcknowledgment | None:
    """Read a parsed 997 or 999; None if the set is neither."""
    if tset.id not in ("997", "999"):
        return None
    component = tset.delimiters.component
    functional_id = group_control = status = ""
    counts = (0, 0, 0)
    group_codes: tuple[str, ...] = ()
    sets: list[SetAcknowledgment] = []
    current: dict[str, object] | None = None
    segment_errors: list[SegmentError] = []
    pending: tuple[str, int, str, str] | None = None
    element_errors: list[ElementError] = []

    def close_segment() -> None:
        """File the AK3 being read, with its AK4s, under the current set."""
        nonlocal pending, element_errors
        if pending is not None:
            segment_errors.append(SegmentError(*pending, elements=tuple(element_errors)))
        pending, element_errors = None, []

    for segment in tset.walk():
        sid = segment.elements[0]
        if sid == "AK1":
            functional_id, group_control = segment.get(1), segment.get(2)
        elif sid == "AK2":
            close_segment()
            current = {"id": segment.get(1), "control": segment.get(2)}
            segment_errors = []
        elif sid in ("AK3", "IK3"):
            close_segment()
            pending = (segment.get(1), _number(segment.get(2)), segment.get(3), segment.get(4))
        elif sid in ("AK4", "IK4"):
            element_errors.append(_element_error(segment, component))
        elif sid in ("AK5", "IK5") and current is not None:
            close_segment()
            codes = tuple(v for v in segment.elements[2:7] if v)
            sets.append(
                SetAcknowledgment(
                    str(current["id"]),
                    str(current["control"]),
                    segment.get(1),
                    codes,
                    tuple(segment_errors),
                )
            )
            current = None
        elif sid == "AK9":
            status = segment.get(1)
            counts = (_number(segment.get(2)), _number(segment.get(3)), _number(segment.get(4)))
            group_codes = tuple(v for v in segment.elements[5:10] if v)
    return GroupAcknowledgment(
        functional_id,
        group_control,
        status,
        *counts,
        group_codes,
        tuple(sets),
        tset.control_number,
    )


def read_acknowledgments(document: Document) -> list[GroupAcknowledgment]:
    """Every 997/999 in a parsed file, read."""
    found = [read_acknowledgment(tset) for tset in document.sets()]
    return [item for item in found if item is not None]
