"""The tokenizer: delimiters from the ISA, tolerated layouts, offsets, streaming."""

from __future__ import annotations

import pytest

from midway.integrations.edi import Delimiters, Segment
from midway.integrations.edi.delimiters import scan_isa
from midway.integrations.edi.tokenizer import Tokenizer, iter_chunks
from tests.unit.edi.edi_support import ORDER_BODY, envelope, isa, x12


def tokens(data: bytes, chunk_size: int = 1 << 20) -> tuple[list[Segment], Tokenizer]:
    tokenizer = Tokenizer(iter_chunks(data, chunk_size))
    return list(tokenizer), tokenizer


def test_fixed_isa_gives_all_four_delimiters() -> None:
    text = isa(version="00501", standards="^", component=":") + "~GS*OW"
    scan = scan_isa(text, 0)
    assert scan.delimiters == Delimiters("*", ":", "~", "^")
    assert scan.problems == ()
    assert scan.end == 106


def test_repetition_separator_only_from_version_00402() -> None:
    text = isa(version="00401", standards="U") + "~GS*OW"
    assert scan_isa(text, 0).delimiters.repetition is None


def test_isa_shorter_than_106_characters_is_scanned_by_separator_count() -> None:
    short = "ISA*00* *00* *ZZ*ME *ZZ*YOU *240105*1200*U*00401*000000007*0*P*>~GS*OW*A*B"
    scan = scan_isa(short, 0)
    assert scan.delimiters == Delimiters("*", ">", "~")
    assert scan.elements[6] == "ME "
    assert scan.elements[13] == "000000007"
    assert short[scan.end :].startswith("GS*")


def test_missing_isa16_with_newline_after_the_terminator() -> None:
    text = isa()[:-1] + "~\nGS*OW*A*B*20240105*1200*1*X*004010~\nST*940*0001~\n"
    scan = scan_isa(text, 0)
    assert scan.delimiters.segment == "~"
    assert [code for code, _ in scan.problems] == ["ISA16_MISSING"]
    assert scan.elements[16] == ""


def test_isa16_followed_by_newline_terminator_is_not_taken_for_missing() -> None:
    text = isa(component="`") + "\nGS*FA*A*B*20240105*1200*1*X*004010\n"
    scan = scan_isa(text, 0)
    assert scan.delimiters == Delimiters("*", "`", "\n")
    assert scan.problems == ()


def test_bom_crlf_and_indentation_are_tolerated() -> None:
    lines = envelope(*ORDER_BODY)
    data = b"\xef\xbb\xbf" + "\r\n".join("  " + s + "~" for s in lines).encode()
    segments, tokenizer = tokens(data)
    assert [s.id for s in segments][:3] == ["ISA", "GS", "ST"]
    assert len(segments) == len(lines)
    assert all(s.notes is None for s in segments)
    # Offsets count the BOM and the indentation: they point at the segment's first byte.
    for segment in segments:
        assert data[segment.offset : segment.offset + len(segment.id)].decode() == segment.id
    assert tokenizer.diagnostics == []


def test_newline_as_the_terminator_with_crlf() -> None:
    lines = [isa(), *envelope(*ORDER_BODY)[1:]]
    data = ("\r\n".join(lines) + "\r\n").encode()
    segments, _ = tokens(data)
    assert segments[0].elements[16] == ">"
    assert segments[-1].elements == ["IEA", "1", "000000001"]
    assert all("\r" not in e for s in segments for e in s.elements)


def test_offsets_point_at_each_segment_in_a_multibyte_file() -> None:
    body = ("W05*N*ORD1", "N1*ST*MÜLLER GMBH*92*C1", "W76*1")
    data = x12(*envelope(*body))
    segments, _ = tokens(data)
    name = next(s for s in segments if s.id == "N1")
    assert name.elements[2] == "MÜLLER GMBH"
    w76 = next(s for s in segments if s.id == "W76")
    assert data[w76.offset : w76.offset + 3] == b"W76"
    assert name.element_offset(2) == data.index("MÜLLER".encode())


@pytest.mark.parametrize("chunk_size", [7, 64, 1000])
def test_chunk_boundaries_do_not_change_the_tokens(chunk_size: int) -> None:
    data = x12(*envelope(*ORDER_BODY)) * 3
    whole, _ = tokens(data)
    pieces, _ = tokens(data, chunk_size)
    assert [(s.elements, s.offset) for s in pieces] == [(s.elements, s.offset) for s in whole]


def test_each_interchange_declares_its_own_delimiters() -> None:
    first = x12(*envelope("W05*N*A1", "W76*1"))
    second_isa = isa(sep="|", component=":").replace("ISA|", "ISA|", 1)
    second = x12(
        second_isa,
        "GS|OW|A|B|20240105|1200|2|X|004010",
        "ST|940|0002",
        "W05|N|B2",
        "SE|3|0002",
        "GE|1|2",
        "IEA|1|000000001",
        terminator="'",
    )
    segments, tokenizer = tokens(first + second)
    ids = [s.id for s in segments]
    assert ids.count("ISA") == 2
    w05 = [s for s in segments if s.id == "W05"]
    assert [s.elements for s in w05] == [["W05", "N", "A1"], ["W05", "N", "B2"]]
    assert tokenizer.delimiters == Delimiters("|", ":", "'")


def test_wrapped_segment_is_joined_and_noted() -> None:
    data = x12(*envelope("W05*N*ORD1", "W01*1*EA**VN*SKU\nWITH-WRAP", "W76*1"))
    segments, _ = tokens(data)
    w01 = next(s for s in segments if s.id == "W01")
    assert w01.elements[5] == "SKUWITH-WRAP"
    assert [n.code for n in w01.notes or []] == ["SEGMENT_WRAPPED"]


def test_foreign_terminator_before_a_line_break_splits_the_segment() -> None:
    lines = envelope("W05*N*ORD1", "N1*ST*NAME~\nN3*STREET", "W76*1")
    data = ("$\n".join(lines) + "$\n").encode()
    data = data.replace(isa().encode() + b"$", isa().encode()[:-1] + b"{$")
    segments, tokenizer = tokens(data)
    assert tokenizer.delimiters is not None and tokenizer.delimiters.segment == "$"
    n1 = next(s for s in segments if s.id == "N1")
    n3 = next(s for s in segments if s.id == "N3")
    assert n1.elements == ["N1", "ST", "NAME"]
    assert n3.elements == ["N3", "STREET"]
    assert [n.code for n in n1.notes or []] == ["MIXED_TERMINATOR"]
    assert data[n3.offset : n3.offset + 2] == b"N3"


def test_fragment_without_isa_guesses_delimiters() -> None:
    segments, tokenizer = tokens(b"ST*997*0001~AK1*PO*2~AK9*A*1*1*1~SE*4*0001~")
    assert [s.id for s in segments] == ["ST", "AK1", "AK9", "SE"]
    assert tokenizer.delimiters is not None and tokenizer.delimiters.segment == "~"


def test_data_that_is_not_x12_is_reported_not_raised() -> None:
    segments, tokenizer = tokens(b"hello, this is an email signature\n")
    assert segments == []
    assert [d.code for d in tokenizer.diagnostics] == ["DATA_OUTSIDE_ENVELOPE"]
    _, empty = tokens(b"")
    assert [d.code for d in empty.diagnostics] == ["NO_INTERCHANGE"]


def test_unterminated_last_segment_is_noted_unless_the_terminator_is_a_newline() -> None:
    data = x12(*envelope("W05*N*A1")).rstrip(b"~\n")
    segments, _ = tokens(data)
    assert segments[-1].elements == ["IEA", "1", "000000001"]
    assert [n.code for n in segments[-1].notes or []] == ["MISSING_TERMINATOR"]
    lines = [isa(), *envelope("W05*N*A1")[1:]]
    newline_file = "\n".join(lines).encode()
    segments, _ = tokens(newline_file)
    assert segments[-1].notes is None
