"""The loop-aware parser and element validation: structure, placement errors, element errors."""

from __future__ import annotations

import pytest

from midway.integrations.edi import Diagnostic, Loop, Segment, TransactionSet, parse
from tests.unit.edi.edi_support import ORDER_BODY, envelope, x12


def one_set(*body: str, set_id: str = "940", functional_id: str = "OW") -> TransactionSet:
    document = parse(x12(*envelope(*body, set_id=set_id, functional_id=functional_id)))
    (tset,) = document.sets()
    return tset


def found(tset: TransactionSet) -> list[tuple[str, str, int | None]]:
    return [(d.code, d.segment_id, d.element_position) for d in tset.diagnostics]


def test_loops_follow_the_grammar() -> None:
    tset = one_set(*ORDER_BODY)
    shape = [item.id if isinstance(item, Loop) else item.elements[0] for item in tset.items]
    assert shape == ["W05", "N1", "N9", "G62", "W66", "LX", "LX", "W76"]
    (party,) = tset.loops("N1")
    assert [s.id for s in party.walk()] == ["N1", "N3", "N4"]
    first_line = tset.loops("LX")[0]
    (item_loop,) = first_line.loops("W01")
    assert [s.id for s in item_loop.walk()] == ["W01", "G69"]
    assert [s.position for s in tset.walk()] == list(range(2, len(ORDER_BODY) + 2))


def test_elements_by_position_reference_and_name() -> None:
    tset = one_set(*ORDER_BODY)
    w05 = tset.segment("W05")
    assert w05 is not None
    assert w05[2] == w05["W0502"] == w05["W05-02"] == w05["depositor_order_number"] == "ORD1001"
    assert w05.get("link_sequence") == "" and w05[40] == ""
    assert w05.spec is not None and w05.spec.name == "Shipping Order Identification"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (("N1*ST*X",), [("MANDATORY_SEGMENT_MISSING", "W05", None)]),
        (
            ("N1*ST*X", "W05*N*A1"),
            [("MANDATORY_SEGMENT_MISSING", "W05", None), ("SEGMENT_OUT_OF_ORDER", "W05", None)],
        ),
        (("W05*N*A1", "BSN*00*1*20240105*1200"), [("SEGMENT_NOT_IN_SET", "BSN", None)]),
        (("W05*N*A1", "ZZQ*1"), [("UNRECOGNIZED_SEGMENT", "ZZQ", None)]),
        (("W05*N*A1", *["N9*PO*X"] * 11), [("SEGMENT_REPEAT_EXCEEDED", "N9", None)]),
        (("W05*N*A1", *["N1*ST*X"] * 11), [("LOOP_REPEAT_EXCEEDED", "N1", None)]),
    ],
)
def test_placement_errors(body: tuple[str, ...], expected: list[tuple[str, str, None]]) -> None:
    assert found(one_set(*body)) == expected


def test_mandatory_loop_missing_is_reported_where_noticed() -> None:
    tset = one_set("W17*F*20240105*R1", "N1*WH*X", set_id="944", functional_id="RE")
    assert found(tset) == [
        ("MANDATORY_SEGMENT_MISSING", "W07", None),
        ("MANDATORY_SEGMENT_MISSING", "W14", None),
    ]
    assert all(d.segment_position == 4 for d in tset.diagnostics)  # noticed at SE


@pytest.mark.parametrize(
    ("segment", "code", "position", "ak4"),
    [
        ("W05*N", "MANDATORY_ELEMENT_MISSING", 2, "1"),
        ("N1*ST", "CONDITIONAL_ELEMENT_MISSING", 2, "2"),
        ("N3*A*B*C", "TOO_MANY_ELEMENTS", 3, "3"),
        ("N1*ST**92*1", "ELEMENT_TOO_SHORT", 4, "4"),
        ("W05*N*ABCDEFGHIJKLMNOPQRSTUVW", "ELEMENT_TOO_LONG", 2, "5"),
        ("W76*two", "INVALID_CHARACTER", 1, "6"),
        ("W05*X*A1", "INVALID_CODE", 1, "7"),
        ("G62*10*20240230", "INVALID_DATE", 2, "8"),
        ("G62*10*20240105*A*2561", "INVALID_TIME", 4, "9"),
    ],
)
def test_each_element_error_maps_to_its_ak4_code(
    segment: str, code: str, position: int, ak4: str
) -> None:
    body = [segment] if segment.startswith("W05") else ["W05*N*A1", "N1*ST*X", segment]
    tset = one_set(*body)
    (problem,) = tset.diagnostics
    assert (problem.code, problem.element_position) == (code, position)
    assert (problem.ack_segment, problem.ack_code) == ("AK4", ak4)
    assert problem.segment_id == segment[:3].rstrip("*")


def test_exclusion_rule() -> None:
    tset = one_set(
        "BSN*00*S1*20240105*1200", "HL*1**S", "TD3*TL*********RRRR",
        set_id="856", functional_id="SH",
    )  # fmt: skip
    assert found(tset) == [("EXCLUSION_VIOLATED", "TD3", 10)]


def test_composite_components_are_checked() -> None:
    tset = one_set("BSN*00*S1*20240105*1200", "HL*1**S", "MEA*PD*G*12*L", set_id="856",
                   functional_id="SH")  # fmt: skip
    (problem,) = tset.diagnostics
    assert (problem.code, problem.element_position, problem.component_position) == (
        "ELEMENT_TOO_SHORT",
        4,
        1,
    )
    assert problem.element_ref() == "MEA04-1"


def test_leap_day_passes_the_slow_path() -> None:
    assert one_set("W05*N*A1", "G62*10*20240229").accepted
    assert not one_set("W05*N*A1", "G62*10*20230229").accepted


def test_element_offsets_point_into_the_file() -> None:
    data = x12(*envelope("W05*N*A1", "W76*two"))
    (problem,) = parse(data).all_diagnostics()
    assert isinstance(problem, Diagnostic)
    assert data[problem.offset : problem.offset + 3] == b"two"


def test_unexpected_segments_are_kept_in_order() -> None:
    tset = one_set("W05*N*A1", "ZZQ*1", "W76*1")
    assert [s.id for s in tset.walk()] == ["W05", "ZZQ", "W76"]
    zzq = tset.segment("ZZQ")
    assert isinstance(zzq, Segment) and zzq.spec is None
