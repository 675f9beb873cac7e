"""Property tests: generated valid documents for every spec round-trip clean, the fast and
slow validation paths agree, and mutated real files never raise."""

from __future__ import annotations

import json
import string
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from midway.integrations.edi import (
    CODES,
    ControlNumberCounter,
    Diagnostic,
    PartnerProfile,
    Segment,
    TransactionSet,
    acknowledge_document,
    dialect,
    document_to_json,
    parse,
    render,
    serialize_document,
    validate,
)
from midway.integrations.edi.fastpath import fast_check
from midway.integrations.edi.models import INTERNAL, Delimiters
from midway.integrations.edi.spec import ElementSpec, LoopUse, Node, SegmentSpec, SyntaxRule
from midway.integrations.edi.validate import rule_finding, segment_findings
from tests.unit.edi.edi_support import (
    ORDER_BODY,
    corpus_dir,
    corpus_files,
    document_shape,
    envelope,
    x12,
)

TEXT = string.ascii_uppercase + string.digits + " -.,/&#()"
CODE = string.ascii_uppercase + string.digits
SUPPORTED = ("940", "945", "943", "944", "846", "947", "856", "180", "997", "999")
NOW = datetime(2024, 1, 5, 9, 30, tzinfo=UTC)
SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

Draw = st.DrawFn


def digits(draw: Draw, low: int, high: int) -> str:
    size = draw(st.integers(max(low, 1), min(high, low + 6)))
    return str(draw(st.text(string.digits, min_size=size, max_size=size)))


def value_for(draw: Draw, element: ElementSpec) -> str:
    """A valid, non-empty value for an element."""
    low, high, kind = element.min_length, element.max_length, element.type
    if element.components:
        parts = []
        for component in element.components:
            present = component.mandatory or draw(st.booleans())
            parts.append(value_for(draw, component) if present else "")
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        return INTERNAL.component.join(parts)
    if kind == "DT":
        day = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2089, 12, 31)))
        assert isinstance(day, date)
        return day.strftime("%Y%m%d" if high >= 8 else "%y%m%d")
    if kind == "TM":
        moment = draw(st.times(min_value=time(0, 0), max_value=time(23, 59, 59)))
        assert isinstance(moment, time)
        return moment.strftime("%H%M%S" if low <= 6 <= high and draw(st.booleans()) else "%H%M")
    if kind.startswith("N"):
        return digits(draw, low, high)
    if kind == "R":
        number = digits(draw, low, min(high, 8))
        if len(number) > 1 and draw(st.booleans()):
            point = draw(st.integers(1, len(number) - 1))
            number = number[:point] + "." + number[point:]
        return number
    if element.codes is not None:
        return str(draw(st.sampled_from(sorted(element.codes))))
    alphabet = CODE if kind == "ID" else TEXT
    text = str(draw(st.text(alphabet, min_size=low, max_size=min(high, low + 10))))
    assume(text.strip())
    return text


def repair(rules: tuple[SyntaxRule, ...], present: dict[int, bool]) -> None:
    """Adjust which elements are present until the syntax rules hold."""
    for _ in range(4):
        for rule in rules:
            flags = [present[p] for p in rule.positions]
            first, others = rule.positions[0], rule.positions[1:]
            if rule.kind == "P" and any(flags):
                present.update(dict.fromkeys(rule.positions, True))
            elif rule.kind == "R" and not any(flags):
                present[first] = True
            elif rule.kind == "C" and flags[0]:
                present.update(dict.fromkeys(others, True))
            elif rule.kind == "L" and flags[0] and not any(flags[1:]):
                present[others[0]] = True
            elif rule.kind == "E" and sum(flags) > 1:
                present.update(dict.fromkeys(others, False))


def segment_for(draw: Draw, spec: SegmentSpec) -> list[str]:
    present = {e.position: e.mandatory or bool(draw(st.booleans())) for e in spec.elements}
    repair(spec.rules, present)
    values = [spec.id]
    for element in spec.elements:
        values.append(value_for(draw, element) if present[element.position] else "")
    assume(all(rule_finding(rule, values, spec) is None for rule in spec.rules))
    while len(values) > 1 and values[-1] == "":
        values.pop()
    return values


def body_for(draw: Draw, nodes: tuple[Node, ...], version: str) -> list[list[str]]:
    active = dialect(version)
    segments: list[list[str]] = []
    for node in nodes:
        low = 1 if node.requirement == "M" else 0
        limit = node.max_repeat if isinstance(node, LoopUse) else node.max_use
        count = draw(st.integers(low, min(limit, 2)))
        for _ in range(count):
            spec = active.segment(node.id)
            assert spec is not None
            segments.append(segment_for(draw, spec))
            if isinstance(node, LoopUse):
                segments += body_for(draw, node.children[1:], version)
    return segments


@st.composite
def transaction_sets(draw: Draw, set_id: str, version: str = "004010") -> TransactionSet:
    spec = dialect(version).set_spec(set_id)
    assert spec is not None
    segments = body_for(draw, spec.body, version)
    header = Segment(["ST", set_id, "0001"])
    return TransactionSet(
        set_id, "0001", header, items=[Segment(v) for v in segments], delimiters=INTERNAL
    )


@st.composite
def profiles(draw: Draw) -> PartnerProfile:
    element, component, terminator = draw(st.permutations(["*", "|", ">", "~", "'", "!"]))[:3]
    return PartnerProfile(
        name="generated",
        sender_id="MIDWAY",
        receiver_id="PARTNER",
        element_separator=element,
        component_separator=component,
        segment_terminator=terminator,
        repetition_separator="^",
        newline_after_terminator=draw(st.booleans()),
        version=draw(st.sampled_from(["004010", "005010"])),
    )


def in_target(values: list[str], delimiters: Delimiters) -> list[str]:
    return [v.replace(INTERNAL.component, delimiters.component) for v in values]


@pytest.mark.parametrize("set_id", SUPPORTED)
def test_generated_valid_sets_render_parse_clean_and_round_trip(set_id: str) -> None:
    @SETTINGS
    @given(tset=transaction_sets(set_id), partner=profiles())
    def check(tset: TransactionSet, partner: PartnerProfile) -> None:
        rendered = render([tset], partner, ControlNumberCounter(), now=NOW)
        assert rendered.ok, rendered.diagnostics
        document = parse(rendered.text.encode("utf-8"))
        assert document.all_diagnostics() == []
        (parsed,) = document.sets()
        expected = [in_target(s.elements, partner.delimiters) for s in tset.walk()]
        assert [s.trimmed() for s in parsed.walk()] == expected
        again = parse(serialize_document(document).text.encode("utf-8"))
        assert document_shape(again) == document_shape(document)

    check()


ALL_SEGMENTS = sorted(dialect("004010").segments.values(), key=lambda s: s.id)


@st.composite
def segments(draw: Draw) -> tuple[SegmentSpec, list[str]]:
    """A segment that may be valid, or may carry anything in any element."""
    spec = draw(st.sampled_from(ALL_SEGMENTS))
    assert isinstance(spec, SegmentSpec)
    values = [spec.id]
    for element in (*spec.elements, ElementSpec(99, "extra")):
        choice = draw(st.integers(0, 3))
        if choice == 0:
            values.append("")
        elif choice == 1 and element.position != 99:
            values.append(value_for(draw, element).replace(INTERNAL.component, ">"))
        else:
            values.append(str(draw(st.text(TEXT + "\t\x01>", max_size=12))))
    return spec, values


@settings(max_examples=300, deadline=None, derandomize=True)
@given(case=segments())
def test_fast_path_never_accepts_what_the_slow_path_rejects(
    case: tuple[SegmentSpec, list[str]],
) -> None:
    spec, values = case
    delimiters = Delimiters()
    segment = Segment(values, 0, "*".join(values))
    if fast_check(spec, delimiters).accepts(segment):
        assert segment_findings(values, spec, delimiters) == []


def mutate(data: bytes, kind: int, at: int, size: int, byte: int) -> bytes:
    at %= max(len(data), 1)
    if kind == 0:  # flip a byte
        return data[:at] + bytes([byte]) + data[at + 1 :]
    if kind == 1:  # delete a run
        return data[:at] + data[at + size :]
    if kind == 2:  # duplicate a run
        return data[: at + size] + data[at : at + size] + data[at + size :]
    if kind == 3:  # truncate
        return data[:at]
    # swap two delimiter characters everywhere
    first, second = b"*~>\n|"[at % 5 : at % 5 + 1], b"*~>\n|:'"[byte % 7 : byte % 7 + 1]
    return data.replace(first, b"\x00").replace(second, first).replace(b"\x00", second)


def exercise(data: bytes) -> None:
    """Everything the engine does with a file must end in findings, never an exception."""
    document = parse(data)
    found = document.all_diagnostics()
    assert all(isinstance(d, Diagnostic) and d.code in CODES for d in found)
    assert [d.code for d in validate(data)] == [d.code for d in found] or found
    json.dumps(document_to_json(document))
    serialize_document(document)
    acknowledge_document(document, now=NOW)


MUTATION = st.tuples(
    st.integers(0, 4), st.integers(0, 10**6), st.integers(1, 40), st.integers(0, 255)
)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(mutation=MUTATION)
def test_mutated_generated_documents_never_raise(mutation: tuple[int, int, int, int]) -> None:
    exercise(mutate(x12(*envelope(*ORDER_BODY)), *mutation))


@pytest.mark.shared_data
def test_mutated_corpus_files_never_raise() -> None:
    root = corpus_dir()
    originals = {name: (root / name).read_bytes() for name in corpus_files()}

    @settings(max_examples=250, deadline=None, derandomize=True)
    @given(name=st.sampled_from(sorted(originals)), mutation=MUTATION)
    def check(name: str, mutation: tuple[int, int, int, int]) -> None:
        exercise(mutate(originals[name], *mutation))

    check()
