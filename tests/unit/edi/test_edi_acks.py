"""997 and TA1 generation for inbound files; reading partners' 997s and 999s."""

from __future__ import annotations

from datetime import UTC, datetime

from midway.integrations.edi import (
    ControlNumberCounter,
    acknowledge,
    acknowledge_document,
    parse,
    read_acknowledgments,
)
from tests.unit.edi.edi_support import ORDER_BODY, envelope, isa, x12

NOW = datetime(2024, 1, 5, 9, 30, tzinfo=UTC)


def body_of(text: str) -> list[str]:
    """The 997 segments between ST and SE of a rendered acknowledgment."""
    lines = [line for line in text.replace("~\n", "\n").splitlines() if line]
    start = next(i for i, line in enumerate(lines) if line.startswith("ST*997"))
    end = next(i for i, line in enumerate(lines) if line.startswith("SE*"))
    return lines[start + 1 : end]


def test_clean_group_is_accepted() -> None:
    rendered = acknowledge_document(parse(x12(*envelope(*ORDER_BODY))), now=NOW)
    assert rendered.ok
    assert body_of(rendered.text) == ["AK1*OW*1", "AK2*940*0001", "AK5*A", "AK9*A*1*1*1"]
    reply = parse(rendered.text.encode())
    assert reply.clean
    (interchange,) = reply.interchanges
    assert interchange.sender == ("ZZ", "WAREHOUSE")  # the inbound receiver answers
    assert interchange.receiver == ("ZZ", "MERCHANT")


def test_element_and_segment_errors_become_ak3_and_ak4() -> None:
    lines = envelope("W05*N*A1", "N9**3", "W76*two", "ZZQ*1")
    rendered = acknowledge_document(parse(x12(*lines)), now=NOW)
    assert body_of(rendered.text) == [
        "AK1*OW*1",
        "AK2*940*0001",
        "AK3*N9*3**8",
        "AK4*1**1",
        "AK3*W76*4**8",
        "AK4*1**6*two",
        "AK3*ZZQ*5**1",
        "AK5*R*5",
        "AK9*R*1*1*0",
    ]


def test_envelope_errors_reach_ak5_and_ak9() -> None:
    first = envelope("W05*N*A1")
    first[-3] = "SE*7*0001"
    second_set = ["ST*940*0002", "W05*N*A2", "SE*3*0002"]
    lines = [*first[:-2], *second_set, "GE*3*1", first[-1]]
    rendered = acknowledge_document(parse(x12(*lines)), now=NOW)
    assert body_of(rendered.text) == [
        "AK1*OW*1",
        "AK2*940*0001",
        "AK5*R*4",
        "AK2*940*0002",
        "AK5*A",
        "AK9*R*3*2*1*5",
    ]


def test_partially_accepted_group() -> None:
    lines = [*envelope("W05*N*A1")[:-2], "ST*940*0002", "W05*Q*A2", "SE*3*0002", "GE*2*1"]
    lines.append("IEA*1*000000001")
    reply = acknowledge(parse(x12(*lines)).interchanges[0], now=NOW)
    assert reply is not None
    (ack,) = reply.groups[0].sets
    assert [s.elements for s in ack.walk()][-1] == ["AK9", "P", "2", "2", "1"]


def test_ta1_when_the_sender_asks_for_it() -> None:
    lines = envelope("W05*N*A1")
    lines[0] = isa(ack="1")
    reply = acknowledge(parse(x12(*lines)).interchanges[0], now=NOW)
    assert reply is not None
    assert [t.elements for t in reply.ta1] == [["TA1", "000000001", "240105", "1200", "A", "000"]]
    lines[-1] = "IEA*1*000000009"
    rejected = acknowledge(parse(x12(*lines)).interchanges[0], now=NOW)
    assert rejected is not None
    assert rejected.ta1[0].elements[4:] == ["R", "001"]
    rendered = acknowledge_document(parse(x12(*lines)), now=NOW)
    assert "TA1*000000001*240105*1200*R*001" in rendered.text


def test_acknowledgments_are_not_acknowledged() -> None:
    lines = envelope("AK1*OW*1", "AK9*A*0*0*0", set_id="997", functional_id="FA")
    document = parse(x12(*lines))
    assert acknowledge(document.interchanges[0], now=NOW) is None
    assert acknowledge_document(document, now=NOW).text == ""


def test_control_numbers_come_from_the_counter() -> None:
    counter = ControlNumberCounter(interchange=10, group=20, transaction_set=30)
    reply = acknowledge(parse(x12(*envelope("W05*N*A1"))).interchanges[0], counter=counter, now=NOW)
    assert reply is not None
    assert reply.control_number == "000000011"
    assert reply.groups[0].control_number == "21"
    assert reply.groups[0].sets[0].control_number == "0031"


def test_reading_a_partner_997() -> None:
    lines = envelope(
        "AK1*OW*1201",
        "AK2*940*0001",
        "AK5*A",
        "AK2*940*0002",
        "AK3*W05*2**8",
        "AK4*2**1",
        "AK4*1>2**7*XX",
        "AK5*R*5",
        "AK9*P*2*2*1",
        set_id="997",
        functional_id="FA",
    )
    (report,) = read_acknowledgments(parse(x12(*lines)))
    assert (report.functional_id, report.group_control_number, report.status) == ("OW", "1201", "P")
    assert (report.sets_included, report.sets_received, report.sets_accepted) == (2, 2, 1)
    assert report.set_status("0001") == "A" and report.set_status("0002") == "R"
    assert report.set_status("0003") is None
    rejected = report.sets[1]
    assert not rejected.accepted and rejected.codes == ("5",)
    (note,) = rejected.errors
    assert (note.segment_id, note.position, note.code) == ("W05", 2, "8")
    assert [(e.position, e.component, e.code) for e in note.elements] == [
        (2, None, "1"),
        (1, 2, "7"),
    ]


def test_our_997_reads_back_as_what_we_found() -> None:
    lines = envelope("W05*N*A1", "W76*two")
    rendered = acknowledge_document(parse(x12(*lines)), now=NOW)
    (report,) = read_acknowledgments(parse(rendered.text.encode()))
    assert report.status == "R" and report.group_control_number == "1"
    (answer,) = report.sets
    assert answer.control_number == "0001" and not answer.accepted
    assert answer.errors[0].elements[0].bad_value == "two"


def test_copied_bad_values_never_carry_delimiters() -> None:
    lines = envelope("W05*N*A1", "W76*1>2")
    rendered = acknowledge_document(parse(x12(*lines)), now=NOW)
    assert rendered.ok
    assert "AK4*1**6*12" in body_of(rendered.text)[3]
    assert parse(rendered.text.encode()).clean
