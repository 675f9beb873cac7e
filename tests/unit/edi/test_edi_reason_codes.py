"""The 947 reason codes Midway writes are the reverse of the ones it reads."""

from __future__ import annotations

from midway.edi.stock import REASONS, code_for, reason_for


def test_every_code_midway_reads_goes_back_as_the_same_code():
    for code in REASONS:
        kind, reason, _direction = reason_for(code)
        assert code_for(kind, reason) == code


def test_codes_for_reasons_of_midways_own_postings():
    assert code_for("adjustment", "damaged_in_facility") == "AU"
    assert code_for("adjustment", "taken_off_hold") == "55"
    assert code_for("count", "cycle count") == "AA"  # any count correction
    assert code_for("adjustment", "x12_zz") == "ZZ"  # a code Midway keeps without a name
    assert code_for("adjustment", "lost in aisle 3") == "AH"  # other
    assert code_for("adjustment", "x12_toolong") == "AH"
