"""Conformance on the shared corpus of real partner files (../shared/data/edi, SOURCES.md).

Each file either parses clean or is rejected with the findings its SOURCES.md note describes.
The table below is that note turned into expected findings (code @ element or segment, and
how many times). Where a strict reading of X12 004010 finds more than the note mentions, the
extra findings are listed and explained; where the note and the bytes disagree, the bytes win
and the comment says why. Every file that yields sets must also round-trip: parse, serialize,
parse again gives the same sets.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

import pytest

from midway.integrations.edi import acknowledge_document, parse, serialize_document
from tests.unit.edi.edi_support import corpus_dir, corpus_files, document_shape


class Expected(NamedTuple):
    findings: dict[str, int]
    why: str


CLEAN: dict[str, int] = {}

TABLE: dict[str, Expected] = {
    "856-ediengine-1.edi": Expected(CLEAN, "cross-dock 856, newline terminator: tolerated"),
    "856-gozer-1.edi": Expected(
        {"IEA_CONTROL_MISMATCH@IEA02": 1, "VERSION_FALLBACK@GS08": 1},
        "IEA02 differs from ISA13; GS08 004060 is read with the 004010 specs (a warning)",
    ),
    "856-silvenga-1.edi": Expected(CLEAN, "'|' element separator, one line: tolerated"),
    "856-stupidedi-1.edi": Expected(
        {"MIXED_TERMINATOR@N1": 1, "MIXED_TERMINATOR@N3": 1, "MIXED_TERMINATOR@N4": 1},
        "'$' terminator but N1/N3/N4 end in '~' plus blank lines. Split where the foreign "
        "terminator ends a line, the set has 25 segments, which is what SE01 says: the "
        "'SE01 wrong' of the note is what a reader that does not split them would count",
    ),
    "940-ediengine-1.edi": Expected(CLEAN, "ISA12 00400 and GS07 T are valid codes"),
    "940-ediengine-2.edi": Expected(CLEAN, "minimal 940, newline terminator"),
    "940-ediengine-3.edi": Expected(
        {
            "SE_CONTROL_MISMATCH@SE02": 1,
            "GE_CONTROL_MISMATCH@GE02": 1,
            "IEA_CONTROL_MISMATCH@IEA02": 1,
        },
        "ST/SE, GS/GE and ISA/IEA control numbers all mismatch",
    ),
    "940-ediengine-4.edi": Expected(
        {"ELEMENT_TOO_SHORT@IEA02": 2},
        "IEA02 not zero-padded (twice: both interchanges). The note's 'second interchange "
        "truncated (no GE/IEA)' is not in the bytes: both GE and IEA are there, only the "
        "final newline is missing, which a newline-terminated file may omit",
    ),
    "940-ediengine-5.edi": Expected(
        {"MANDATORY_ELEMENT_MISSING@N901": 1, "ELEMENT_TOO_LONG@W6606": 1},
        "N9**3 misses N901; also W66*...*43.00 puts 5 characters in W6606 (ID 2/2)",
    ),
    "940-x12types-1.edi": Expected(
        {
            "GE_CONTROL_MISMATCH@GE02": 1,
            "IEA_CONTROL_MISMATCH@IEA02": 1,
            "INVALID_CHARACTER@IEA02": 1,
        },
        "GE02/IEA02 inconsistent with GS06/ISA13; IEA02 space-padded",
    ),
    "940-x12types-2.edi": Expected(
        {"ELEMENT_TOO_LONG@N402": 3, "CONDITIONAL_ELEMENT_MISSING@G6104": 1},
        "beyond the note: the Chinese addresses put 3-digit codes in N402 (ID 2/2), and "
        "G61*DC*...*TE has G6103 without G6104 (syntax rule P0304)",
    ),
    "940-x12types-3.edi": Expected(
        {"SEGMENT_WRAPPED@W01": 2},
        "two W01 segments wrap onto a PI*... line (PDF copy): joined, and SE01 then agrees",
    ),
    "940-x12types-4.edi": Expected({"ISA16_MISSING@ISA": 1}, "ISA16 missing, 104-char ISA"),
    "940-x12types-5.edi": Expected({"ISA16_MISSING@ISA": 1}, "ISA16 missing"),
    "943-stupidedi-1.edi": Expected(CLEAN, "structurally valid 943"),
    "944-nodex12edi-1.edi": Expected(
        {"INVALID_CODE@ISA11": 1, "CONDITIONAL_ELEMENT_MISSING@W0707": 5},
        "ISA11 X is invalid; beyond the note, each W07 has qualifier W0706 'LT' without "
        "W0707 (the lot went to W0708), breaking syntax rule P0607",
    ),
    "944-stupidedi-1.edi": Expected(CLEAN, "structurally valid 944"),
    "945-x12types-1.edi": Expected(
        {
            "ELEMENT_TOO_SHORT@ISA02": 1,
            "ELEMENT_TOO_SHORT@ISA04": 1,
            "ELEMENT_TOO_SHORT@ISA06": 1,
            "ELEMENT_TOO_SHORT@ISA08": 1,
            "SE_COUNT_MISMATCH@SE01": 1,
            "CONDITIONAL_ELEMENT_MISSING@N102": 1,
            "CONDITIONAL_ELEMENT_MISSING@N103": 1,
            "ELEMENT_TOO_SHORT@W1001": 1,
        },
        "non-fixed-width ISA (each short field named) and SE01=12 for 16 segments; beyond "
        "the note, N1*SF***CHI has neither N102 nor N103 (R0203) and N104 without N103 "
        "(P0304), and W10*1 is shorter than W1001's 2 characters",
    ),
    "945-x12types-2.edi": Expected(
        {
            "NO_ENVELOPE@ST": 1,
            "SE_COUNT_MISMATCH@SE01": 1,
            "ELEMENT_TOO_LONG@N902": 1,
            "ELEMENT_TOO_LONG@W2707": 1,
            "ELEMENT_TOO_LONG@W1207": 3,
            "ELEMENT_TOO_LONG@W1209": 3,
            "ELEMENT_TOO_LONG@W1211": 3,
            "INVALID_CHARACTER@W1213": 3,
        },
        "ST..SE only, SE01=32 for 29 segments; beyond the note, placeholder texts overflow "
        "N902 and W2707, and the W12s put the UPC one place late (W1207), shifting the "
        "lot, weight qualifier and weight into the wrong elements",
    ),
    "997-stupidedi-1.edi": Expected(
        {"ELEMENT_TOO_SHORT@ISA06": 1}, "ISA sender ID shortened (102-char ISA)"
    ),
    "997-x12types-1.edi": Expected({"NO_ENVELOPE@ST": 1}, "ST..SE only"),
    "999-stupidedi-1.edi": Expected(CLEAN, "5010 999 with a BOM: tolerated"),
}

pytestmark = pytest.mark.shared_data


def test_every_corpus_file_has_an_expectation() -> None:
    corpus_dir()  # skips (or fails in CI) without the corpus
    assert corpus_files() == sorted(TABLE)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_file_is_clean_or_rejected_for_its_known_defects(name: str) -> None:
    document = parse(corpus_dir() / name)
    found = Counter(
        f"{d.code}@{d.element_ref() if d.element_position else d.segment_id}"
        for d in document.all_diagnostics()
    )
    assert dict(found) == TABLE[name].findings, TABLE[name].why
    assert list(document.sets()), "every corpus file holds at least one set"


@pytest.mark.parametrize("name", sorted(TABLE))
def test_file_round_trips(name: str) -> None:
    document = parse(corpus_dir() / name)
    rendered = serialize_document(document)
    assert rendered.ok, rendered.diagnostics
    again = parse(rendered.text.encode("utf-8"))
    assert document_shape(again) == document_shape(document)
    # Canonical output repairs the envelope; what remains are the content's own findings.
    before = {d.code for d in document.all_diagnostics()}
    assert {d.code for d in again.all_diagnostics()} <= before


@pytest.mark.parametrize("name", sorted(TABLE))
def test_every_inbound_group_gets_a_997(name: str) -> None:
    document = parse(corpus_dir() / name)
    rendered = acknowledge_document(document)
    assert rendered.ok
    groups = [g for g in document.all_groups() if g.functional_id != "FA"]
    if not groups:
        # A bare fragment, or acknowledgments: nothing to acknowledge.
        assert rendered.text == ""
        return
    reply = parse(rendered.text.encode("utf-8"))
    assert reply.clean
    acknowledged = [s.segment("AK1") for s in reply.sets()]
    assert [(a.get(1), a.get(2)) for a in acknowledged if a is not None] == [
        (g.functional_id, g.control_number) for g in groups
    ]
