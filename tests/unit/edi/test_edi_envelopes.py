"""Envelope checks: pairing, control numbers, counts, GS01 and version, never an exception."""

from __future__ import annotations

from midway.integrations.edi import Severity, parse, validate
from tests.unit.edi.edi_support import ORDER_BODY, codes, envelope, isa, x12


def test_a_valid_interchange_is_clean_and_fully_modelled() -> None:
    document = parse(x12(*envelope(*ORDER_BODY)))
    assert document.clean
    (interchange,) = document.interchanges
    assert interchange.control_number == "000000001"
    assert interchange.sender == ("ZZ", "MERCHANT")
    (group,) = interchange.groups
    assert (group.functional_id, group.control_number, group.version) == ("OW", "1", "004010")
    (tset,) = group.sets
    assert (tset.id, tset.control_number, tset.accepted) == ("940", "0001", True)
    assert tset.trailer is not None and tset.trailer.get(1) == str(len(ORDER_BODY) + 2)


def test_control_number_mismatches_at_every_level() -> None:
    lines = envelope("W05*N*A1")
    lines[-3] = "SE*3*0002"  # ST02 is 0001
    lines[-2] = "GE*1*9"  # GS06 is 1
    lines[-1] = "IEA*1*000000002"
    document = parse(x12(*lines))
    assert sorted(codes(document)) == [
        "GE_CONTROL_MISMATCH",
        "IEA_CONTROL_MISMATCH",
        "SE_CONTROL_MISMATCH",
    ]
    se = next(d for d in document.all_diagnostics() if d.code == "SE_CONTROL_MISMATCH")
    assert (se.ack_segment, se.ack_code, se.segment_position, se.element_position) == (
        "AK5",
        "3",
        3,
        2,
    )


def test_counts_are_checked_against_what_arrived() -> None:
    lines = envelope("W05*N*A1", "W76*1")
    lines[-3] = "SE*9*0001"
    lines[-2] = "GE*2*1"
    lines[-1] = "IEA*3*000000001"
    assert sorted(codes(parse(x12(*lines)))) == [
        "GE_COUNT_MISMATCH",
        "IEA_COUNT_MISMATCH",
        "SE_COUNT_MISMATCH",
    ]


def test_padding_difference_in_a_trailer_is_a_length_error_not_a_mismatch() -> None:
    lines = envelope("W05*N*A1")
    lines[-1] = "IEA*1*1"
    found = parse(x12(*lines)).all_diagnostics()
    assert [(d.code, d.element_ref()) for d in found] == [("ELEMENT_TOO_SHORT", "IEA02")]
    assert found[0].ack_segment == "TA1" and found[0].ack_code == "018"


def test_truncated_file_closes_everything_with_findings() -> None:
    lines = envelope(*ORDER_BODY)[:6]  # stops inside the set
    document = parse(x12(*lines))
    assert sorted(codes(document)) == ["GE_MISSING", "IEA_MISSING", "SE_MISSING"]
    (tset,) = document.sets()
    assert not tset.accepted
    assert [s.id for s in tset.walk()][:2] == ["W05", "N1"]


def test_a_new_st_before_se_ends_the_previous_set() -> None:
    lines = envelope("W05*N*A1", "ST*940*0002", "W05*N*A2")
    lines[-3] = "SE*3*0002"
    lines[-2] = "GE*2*1"
    document = parse(x12(*lines))
    first, second = document.sets()
    assert [d.code for d in first.diagnostics] == ["SE_MISSING"]
    assert second.accepted


def test_gs01_must_suit_the_sets_it_holds() -> None:
    document = parse(x12(*envelope("W06*F*ORD1", "N1*SF*WH", set_id="945", functional_id="IN")))
    assert codes(document) == ["FUNCTIONAL_ID_MISMATCH"]
    (tset,) = document.sets()
    assert tset.diagnostics[0].ack_code == "6"


def test_version_from_gs08_selects_the_dictionary() -> None:
    body = ("AK1*OW*1", "AK9*A*0*0*0")
    old = parse(x12(*envelope(*body, set_id="997", functional_id="FA")))
    assert old.clean
    lines = envelope(*body, set_id="997", functional_id="FA", version="005010")
    lines[2] = "ST*997*0001*005010X231"
    assert parse(x12(*lines)).clean
    lines[1] = lines[1].replace("005010", "004010")
    too_new = parse(x12(*lines)).all_diagnostics()
    assert [(d.code, d.element_ref()) for d in too_new] == [("TOO_MANY_ELEMENTS", "ST03")]


def test_unknown_versions_fall_back_or_are_refused() -> None:
    fallback = parse(x12(*envelope("W05*N*A1", version="004060"))).all_diagnostics()
    assert [(d.code, d.severity) for d in fallback] == [("VERSION_FALLBACK", Severity.WARNING)]
    refused = parse(x12(*envelope("W05*N*A1", version="ABC"))).all_diagnostics()
    assert [d.code for d in refused] == ["VERSION_NOT_SUPPORTED"]
    assert refused[0].ack_segment == "AK9" and refused[0].ack_code == "2"


def test_isa11_depends_on_the_envelope_version() -> None:
    wrong_standard = envelope("W05*N*A1")
    wrong_standard[0] = isa(standards="X")
    assert codes(parse(x12(*wrong_standard))) == ["INVALID_CODE"]
    repetition = envelope("W05*N*A1", version="005010")
    repetition[0] = isa(version="00501", standards="^")
    assert parse(x12(*repetition)).clean
    not_a_separator = envelope("W05*N*A1")
    not_a_separator[0] = isa(version="00501", standards="U")
    assert codes(parse(x12(*not_a_separator))) == ["INVALID_CODE"]


def test_unsupported_set_is_kept_but_reported() -> None:
    document = parse(x12(*envelope("BEG*00*SA*PO1**20240105", set_id="850", functional_id="PO")))
    assert codes(document) == ["SET_NOT_SUPPORTED"]
    (tset,) = document.sets()
    assert [s.id for s in tset.walk()] == ["BEG"]


def test_segments_outside_any_set_are_reported() -> None:
    lines = envelope("W05*N*A1")
    lines.insert(-2, "N9*PO*STRAY")  # between SE and GE
    assert codes(parse(x12(*lines))) == ["DATA_OUTSIDE_ENVELOPE"]


def test_set_without_envelope_is_parsed_and_flagged() -> None:
    document = parse(x12("ST*940*0001", "W05*N*A1", "SE*3*0001"))
    assert codes(document) == ["NO_ENVELOPE"]
    assert len(document.fragments) == 1


def test_several_interchanges_and_groups() -> None:
    one = envelope("W05*N*A1")
    two = envelope("W05*N*B1", interchange="000000002", group="2", control="0002")
    document = parse(x12(*one, *two))
    assert document.clean
    assert [i.control_number for i in document.interchanges] == ["000000001", "000000002"]
    assert [t.control_number for t in document.sets()] == ["0001", "0002"]


def test_validate_streams_the_same_findings_as_parse() -> None:
    lines = envelope(*ORDER_BODY)
    lines[3] = "W05*X*ORD1001*PO77"
    data = x12(*lines)
    streamed = validate(data, chunk_size=16)
    assert [d.code for d in streamed] == codes(parse(data)) == ["INVALID_CODE"]
