"""Declarative specs: every grammar is backed by the dictionary; overrides are data."""

from __future__ import annotations

from pathlib import Path

import pytest

from midway.integrations.edi import CODES, ElementOverride, SpecError, dialect, parse
from midway.integrations.edi.spec import LoopUse, SyntaxRule, parse_element_ref, version_key
from tests.unit.edi.edi_support import envelope, x12

SUPPORTED = ("940", "945", "943", "944", "846", "947", "856", "180", "997", "999")


@pytest.mark.parametrize("set_id", SUPPORTED)
def test_every_segment_of_every_grammar_is_defined(set_id: str) -> None:
    active = dialect("004010")
    spec = active.set_spec(set_id)
    assert spec is not None
    missing = sorted(sid for sid in spec.segment_ids() if active.segment(sid) is None)
    assert missing == []
    stack = list(spec.body)
    while stack:
        node = stack.pop()
        if isinstance(node, LoopUse):
            assert node.children[0].id == node.id  # a loop opens with its own segment
            stack.extend(node.children)


def test_element_specs_are_well_formed() -> None:
    for segment in dialect("005010").segments.values():
        for position, element in enumerate(segment.elements, start=1):
            assert element.position == position
            assert element.min_length <= element.max_length
            assert element.type in {"AN", "ID", "R", "DT", "TM", "COMP", "N0", "N2"}
        for rule in segment.rules:
            assert max(rule.positions) <= len(segment.elements), (segment.id, str(rule))


def test_syntax_rule_notation_round_trips() -> None:
    rule = SyntaxRule.parse("R020305")
    assert (rule.kind, rule.positions, str(rule)) == ("R", (2, 3, 5), "R020305")
    for bad in ("P04", "X0405", "P0405A"):
        with pytest.raises(SpecError):
            SyntaxRule.parse(bad)


def test_element_references() -> None:
    assert parse_element_ref("N901") == ("N9", 1)
    assert parse_element_ref("w01-14") == ("W01", 14)
    with pytest.raises(SpecError):
        parse_element_ref("N9")


def test_version_keys() -> None:
    assert version_key("004010VICS") == ("004010", None)
    assert version_key("005010X231A1") == ("005010", None)
    assert version_key("004060") == ("004010", "VERSION_FALLBACK")
    assert version_key("006020") == ("005010", "VERSION_FALLBACK")
    assert version_key("") == ("004010", "VERSION_NOT_SUPPORTED")


def test_version_overrides_add_5010_elements() -> None:
    assert len(dialect("004010").segments["ST"].elements) == 2
    st = dialect("005010").segments["ST"]
    assert st.elements[2].name == "implementation_reference"


def test_an_extra_code_value_for_one_partner() -> None:
    data = x12(*envelope("W05*N*A1", "N9*X7*REF1"))
    (problem,) = parse(data).all_diagnostics()
    assert (problem.code, problem.element_ref()) == ("INVALID_CODE", "N901")
    extra = ElementOverride.from_dict({"element": "N901", "add_codes": ["X7"]})
    assert parse(data, overrides=[extra]).clean
    # The base dictionary is untouched for everyone else.
    assert "X7" not in (dialect("004010").segments["N9"].elements[0].codes or ())


def test_a_longer_element_for_one_partner() -> None:
    data = x12(*envelope("W05*N*A1", "LX*1", "W01*12*CA*000100000010*VN*000100*********1999"))
    (problem,) = parse(data).all_diagnostics()
    assert (problem.code, problem.element_ref()) == ("ELEMENT_TOO_LONG", "W0114")
    wider = ElementOverride("W01", 14, max_length=8, type="AN")
    assert parse(data, overrides=[wider]).clean


def test_an_override_can_lift_a_code_list_or_add_an_element() -> None:
    lifted = ElementOverride.from_dict({"segment": "W05", "position": 1, "codes": []}).apply(
        dialect("004010").segments["W05"]
    )
    assert lifted.elements[0].codes is None
    grown = ElementOverride("G69", 2, name="language", max_length=3).apply(
        dialect("004010").segments["G69"]
    )
    assert [e.name for e in grown.elements] == ["description", "language"]


@pytest.mark.parametrize(
    "data",
    [
        {"element": "N901", "colour": "red"},
        {"segment": "N9"},
        {"element": "N901", "requirement": "Q"},
        {"element": "N901", "type": "XX"},
        {"element": "N901", "max_length": "8"},
        {"element": "N901", "add_codes": "X7"},
        {"element": "N900"},
    ],
)
def test_malformed_overrides_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(SpecError):
        ElementOverride.from_dict(data)


def test_override_to_dict_reads_back() -> None:
    override = ElementOverride("N9", 1, add_codes=("X7",), max_length=3)
    assert ElementOverride.from_dict(override.to_dict()) == override


def test_docs_list_every_diagnostic_code() -> None:
    docs = Path(__file__).resolve().parents[3] / "docs" / "edi.md"
    text = docs.read_text(encoding="utf-8")
    missing = [code for code in CODES if f"`{code}`" not in text]
    assert missing == []
