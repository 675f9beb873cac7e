"""Serialization and partner profiles: canonical output, delimiters, counters, overrides."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from midway.integrations.edi import (
    ControlNumberCounter,
    Delimiters,
    PartnerProfile,
    ProfileError,
    parse,
    render,
    serialize_document,
    set_from_json,
)
from midway.integrations.edi.jsonform import document_to_json, find_sets
from tests.unit.edi.edi_support import ORDER_BODY, document_shape, envelope, x12

NOW = datetime(2024, 1, 5, 9, 30, tzinfo=UTC)


def profile(**changes: object) -> PartnerProfile:
    base: dict[str, object] = {"name": "acme", "sender_id": "MIDWAY", "receiver_id": "ACME3PL"}
    base.update(changes)
    return PartnerProfile.from_dict(base)


def test_canonical_output_pads_the_isa_and_recomputes_trailers() -> None:
    lines = envelope(*ORDER_BODY)
    lines[0] = "ISA*00* *00* *ZZ*MERCHANT *ZZ*WAREHOUSE *240105*1200*U*00401*1*0*P*>"
    lines[-3] = "SE*99*0001"
    document = parse(x12(*lines))
    rendered = serialize_document(document)
    assert rendered.ok
    first = rendered.text.split("~\n")[0]
    assert len(first) == 105 and first.endswith("*000000001*0*P*>")
    again = parse(rendered.text.encode())
    assert again.clean
    assert document_shape(again) == document_shape(document)


def test_delimiters_and_layout_can_change_and_composites_follow() -> None:
    body = ("BSN*00*S1*20240105*1200", "HL*1**S", "MEA*PD*G*12*LB>2")
    document = parse(x12(*envelope(*body, set_id="856", functional_id="SH")))
    target = Delimiters("|", ":", "'", None)
    rendered = serialize_document(document, delimiters=target, newline=False)
    assert rendered.ok and "\n" not in rendered.text
    assert "MEA|PD|G|12|LB:2'" in rendered.text
    again = parse(rendered.text.encode())
    assert again.clean and document_shape(again) == document_shape(document)


def test_a_value_holding_a_target_delimiter_is_refused() -> None:
    document = parse(x12(*envelope("W05*N*A1", "N1*ST*O'HARA*92*1")))
    rendered = serialize_document(document, delimiters=Delimiters("*", ">", "'"))
    assert not rendered.ok and rendered.text == ""
    assert [(d.code, d.bad_value) for d in rendered.diagnostics] == [
        ("DELIMITER_IN_DATA", "O'HARA")
    ]


def test_render_uses_the_partner_profile_and_counter() -> None:
    source = parse(x12(*envelope(*ORDER_BODY)))
    (tset,) = source.sets()
    partner = profile(segment_terminator="'", component_separator=":", usage="T")
    counter = ControlNumberCounter(interchange=41, group=7, transaction_set=99)
    first = render([tset], partner, counter, now=NOW)
    second = render([tset], partner, counter, now=NOW)
    assert first.ok and second.ok
    lines = first.text.split("'\n")
    assert lines[0] == (
        "ISA*00*          *00*          *ZZ*MIDWAY         *ZZ*ACME3PL        "
        "*240105*0930*U*00401*000000042*0*T*:"
    )
    assert lines[1] == "GS*OW*MIDWAY*ACME3PL*20240105*0930*8*X*004010"
    assert lines[2] == "ST*940*0100"
    assert counter.to_dict() == {"interchange": 43, "group": 9, "transaction_set": 101}
    rendered = parse(first.text.encode())
    assert rendered.clean
    assert document_shape(rendered)[0]["segments"] == document_shape(source)[0]["segments"]


def test_render_from_the_typed_json_form() -> None:
    source = parse(x12(*envelope(*ORDER_BODY)))
    data = json.loads(json.dumps(document_to_json(source)))
    (found,) = find_sets(data)
    tset, problems = set_from_json(found)
    assert problems == [] and tset is not None
    rendered = render([tset], profile(version="005010"), ControlNumberCounter(), now=NOW)
    again = parse(rendered.text.encode())
    assert again.clean
    assert next(again.sets()).version == "005010"
    assert document_shape(again)[0]["segments"] == document_shape(source)[0]["segments"]


def test_json_fields_alone_are_enough_to_render() -> None:
    tset, problems = set_from_json(
        {
            "id": "940",
            "segments": [
                {"segment": "W05", "fields": {"order_status": "N", "depositor_order_number": "A1"}},
                {"loop": "N1", "segments": [{"segment": "N1", "elements": ["ST", "JANE"]}]},
            ],
        }
    )
    assert problems == [] and tset is not None
    assert [s.elements for s in tset.walk()] == [["W05", "N", "A1"], ["N1", "ST", "JANE"]]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"segments": []}, "needs its ID"),
        ({"id": "940", "segments": [{"elements": ["N"]}]}, "needs an ID"),
        ({"id": "940", "segments": [{"segment": "W05", "elements": [1]}]}, "strings"),
        ({"id": "940", "segments": [{"segment": "W05", "fields": {"colour": "x"}}]}, "no field"),
        ({"id": "940", "segments": "W05"}, "must be a list"),
    ],
)
def test_malformed_json_sets_are_reported(data: dict[str, object], fragment: str) -> None:
    tset, problems = set_from_json(data)
    assert tset is None
    assert any(fragment in p.message for p in problems)
    assert all(p.code == "INVALID_DOCUMENT" for p in problems)


def test_unknown_sets_cannot_be_rendered() -> None:
    tset, _ = set_from_json({"id": "123", "segments": []})
    assert tset is not None
    rendered = render([tset], profile(), ControlNumberCounter(), now=NOW)
    assert not rendered.ok and [d.code for d in rendered.diagnostics] == ["INVALID_DOCUMENT"]


def test_profiles_load_from_json_and_toml() -> None:
    as_json = PartnerProfile.from_json(
        json.dumps(
            {
                "name": "gm",
                "sender_id": "MIDWAY",
                "receiver_id": "GMI",
                "version": "005010",
                "overrides": [{"element": "N901", "add_codes": ["X7"]}],
            }
        )
    )
    as_toml = PartnerProfile.from_toml(
        'name = "gm"\nsender_id = "MIDWAY"\nreceiver_id = "GMI"\nversion = "005010"\n'
        '[[overrides]]\nelement = "N901"\nadd_codes = ["X7"]\n'
    )
    assert as_json == as_toml
    assert as_json.isa_version == "00501"
    assert as_json.delimiters.repetition == "^"
    assert PartnerProfile.from_dict(as_json.to_dict()) == as_json


@pytest.mark.parametrize(
    "changes",
    [
        {"segment_terminator": "*"},
        {"element_separator": "A"},
        {"sender_id": "X" * 16},
        {"usage": "Q"},
        {"version": "4010"},
        {"colour": "red"},
        {"newline_after_terminator": "yes"},
        {"overrides": [{"element": "N9"}]},
    ],
)
def test_bad_profiles_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ProfileError):
        profile(**changes)


def test_counters_wrap_and_reload() -> None:
    counter = ControlNumberCounter(interchange=999_999_999)
    assert counter.next_interchange() == 1
    assert ControlNumberCounter.from_dict(counter.to_dict()) == counter
    with pytest.raises(ProfileError):
        ControlNumberCounter.from_dict({"group": -1})
