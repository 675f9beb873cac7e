"""The X12 segment dictionary, part 1: envelopes (ISA, GS, ST...) and acknowledgments.

Rows follow the 004010 standard (element requirement, type, minimum and maximum length, name,
and a code list where the value drives processing); see ``spec`` for the row format. Versions
differ from this base through :data:`VERSION_OVERRIDES`.
"""

from __future__ import annotations

from midway.integrations.edi.spec import ElementOverride, ElementRow, SegmentRow

AUTHORIZATION_QUALIFIERS = ("00", "01", "02", "03", "04", "05", "06")
INTERCHANGE_ID_QUALIFIERS = (
    *(f"{n:02d}" for n in range(1, 39)),
    *("AM", "NR", "SA", "SN", "ZZ"),
)
INTERCHANGE_VERSIONS = (
    *("00200", "00201", "00204", "00300", "00301", "00302", "00303", "00304", "00305"),
    *("00306", "00307", "00400", "00401", "00402", "00403", "00404", "00405", "00406"),
    *("00500", "00501", "00502", "00503", "00504", "00505", "00600", "00601", "00602"),
    *("00603", "00604", "00605", "00700", "00701", "00702", "00703", "00704", "00800"),
    "00801",
)
TA1_NOTE_CODES = tuple(f"{n:03d}" for n in range(32))
ACK_STATUSES = ("A", "E", "M", "P", "R", "W", "X")

COMPOSITES: dict[str, tuple[ElementRow, ...]] = {
    # C001 unit of measure: a unit followed by (exponent, multiplier) pairs.
    "C001": (
        ("M", "ID", 2, 2, "unit"),
        *(
            row
            for n in range(1, 8)
            for row in (
                ("O", "R", 1, 15, f"exponent_{n}"),
                ("O", "R", 1, 10, f"multiplier_{n}"),
            )
        ),
    ),
    "C030": (
        ("M", "N0", 1, 2, "element_position"),
        ("O", "N0", 1, 2, "component_position"),
        ("O", "N0", 1, 4, "repetition_position"),
    ),
    "C040": (
        ("M", "ID", 2, 3, "qualifier"),
        ("M", "AN", 1, 30, "reference"),
        ("X", "ID", 2, 3, "qualifier_2"),
        ("X", "AN", 1, 30, "reference_2"),
        ("X", "ID", 2, 3, "qualifier_3"),
        ("X", "AN", 1, 30, "reference_3"),
    ),
    "C998": (
        ("M", "AN", 1, 35, "context_name"),
        ("O", "AN", 1, 35, "context_reference"),
    ),
    "C999": (
        ("M", "N0", 1, 2, "element_position"),
        ("O", "N0", 1, 2, "component_position"),
        ("O", "N0", 1, 4, "repetition_position"),
        ("O", "N0", 1, 4, "element_reference"),
    ),
}

SEGMENTS: dict[str, SegmentRow] = {
    # --- Envelopes -------------------------------------------------------------------------
    "ISA": (
        "Interchange Control Header",
        (),
        (
            ("M", "ID", 2, 2, "authorization_qualifier", AUTHORIZATION_QUALIFIERS),
            ("M", "AN", 10, 10, "authorization_information"),
            ("M", "ID", 2, 2, "security_qualifier", ("00", "01")),
            ("M", "AN", 10, 10, "security_information"),
            ("M", "ID", 2, 2, "sender_qualifier", INTERCHANGE_ID_QUALIFIERS),
            ("M", "AN", 15, 15, "sender_id"),
            ("M", "ID", 2, 2, "receiver_qualifier", INTERCHANGE_ID_QUALIFIERS),
            ("M", "AN", 15, 15, "receiver_id"),
            ("M", "DT", 6, 6, "date"),
            ("M", "TM", 4, 4, "time"),
            ("M", "AN", 1, 1, "standards_id_or_repetition_separator"),
            ("M", "ID", 5, 5, "version", INTERCHANGE_VERSIONS),
            ("M", "N0", 9, 9, "control_number"),
            ("M", "ID", 1, 1, "acknowledgment_requested", ("0", "1")),
            ("M", "ID", 1, 1, "usage", ("I", "P", "T")),
            ("M", "AN", 1, 1, "component_separator"),
        ),
    ),
    "IEA": (
        "Interchange Control Trailer",
        (),
        (
            ("M", "N0", 1, 5, "group_count"),
            ("M", "N0", 9, 9, "control_number"),
        ),
    ),
    "TA1": (
        "Interchange Acknowledgment",
        (),
        (
            ("M", "N0", 9, 9, "control_number"),
            ("M", "DT", 6, 6, "date"),
            ("M", "TM", 4, 4, "time"),
            ("M", "ID", 1, 1, "acknowledgment_code", ("A", "E", "R")),
            ("M", "ID", 3, 3, "note_code", TA1_NOTE_CODES),
        ),
    ),
    "GS": (
        "Functional Group Header",
        (),
        (
            ("M", "ID", 2, 2, "functional_id"),
            ("M", "AN", 2, 15, "application_sender"),
            ("M", "AN", 2, 15, "application_receiver"),
            ("M", "DT", 8, 8, "date"),
            ("M", "TM", 4, 8, "time"),
            ("M", "N0", 1, 9, "control_number"),
            ("M", "ID", 1, 2, "agency", ("T", "X")),
            ("M", "AN", 1, 12, "version"),
        ),
    ),
    "GE": (
        "Functional Group Trailer",
        (),
        (
            ("M", "N0", 1, 6, "set_count"),
            ("M", "N0", 1, 9, "control_number"),
        ),
    ),
    "ST": (
        "Transaction Set Header",
        (),
        (
            ("M", "ID", 3, 3, "set_id"),
            ("M", "AN", 4, 9, "control_number"),
        ),
    ),
    "SE": (
        "Transaction Set Trailer",
        (),
        (
            ("M", "N0", 1, 10, "segment_count"),
            ("M", "AN", 4, 9, "control_number"),
        ),
    ),
    # --- Acknowledgments (997, and the 999's IK segments) ------------------------------------
    "AK1": (
        "Functional Group Response Header",
        (),
        (
            ("M", "ID", 2, 2, "functional_id"),
            ("M", "N0", 1, 9, "group_control_number"),
        ),
    ),
    "AK2": (
        "Transaction Set Response Header",
        (),
        (
            ("M", "ID", 3, 3, "set_id"),
            ("M", "AN", 4, 9, "set_control_number"),
        ),
    ),
    "AK3": (
        "Data Segment Note",
        (),
        (
            ("M", "ID", 2, 3, "segment_id"),
            ("M", "N0", 1, 6, "segment_position"),
            ("O", "AN", 1, 4, "loop_id"),
            ("O", "ID", 1, 3, "error_code"),
        ),
    ),
    "AK4": (
        "Data Element Note",
        (),
        (
            ("M", "COMP", 1, 99, "element_position", ("C030",)),
            ("O", "N0", 1, 4, "element_reference"),
            ("M", "ID", 1, 3, "error_code"),
            ("O", "AN", 1, 99, "bad_value"),
        ),
    ),
    "AK5": (
        "Transaction Set Response Trailer",
        (),
        (
            ("M", "ID", 1, 1, "status", ACK_STATUSES),
            *(("O", "ID", 1, 3, f"error_code_{n}") for n in range(1, 6)),
        ),
    ),
    "AK9": (
        "Functional Group Response Trailer",
        (),
        (
            ("M", "ID", 1, 1, "status", ACK_STATUSES),
            ("M", "N0", 1, 6, "sets_included"),
            ("M", "N0", 1, 6, "sets_received"),
            ("M", "N0", 1, 6, "sets_accepted"),
            *(("O", "ID", 1, 3, f"error_code_{n}") for n in range(1, 6)),
        ),
    ),
    "IK3": (
        "Implementation Data Segment Note",
        (),
        (
            ("M", "ID", 2, 3, "segment_id"),
            ("M", "N0", 1, 10, "segment_position"),
            ("O", "AN", 1, 4, "loop_id"),
            ("M", "ID", 1, 3, "error_code"),
        ),
    ),
    "IK4": (
        "Implementation Data Element Note",
        (),
        (
            ("M", "COMP", 1, 99, "element_position", ("C030",)),
            ("O", "N0", 1, 4, "element_reference"),
            ("M", "ID", 1, 3, "error_code"),
            ("O", "AN", 1, 99, "bad_value"),
        ),
    ),
    "IK5": (
        "Implementation Transaction Set Response Trailer",
        (),
        (
            ("M", "ID", 1, 1, "status", ACK_STATUSES),
            *(("O", "ID", 1, 3, f"error_code_{n}") for n in range(1, 6)),
        ),
    ),
    "CTX": (
        "Context",
        (),
        (
            ("M", "COMP", 1, 99, "context", ("C998",)),
            ("O", "ID", 2, 3, "segment_id"),
            ("O", "N0", 1, 10, "segment_position"),
            ("O", "AN", 1, 4, "loop_id"),
            ("O", "COMP", 1, 99, "element_position", ("C030",)),
            ("O", "COMP", 1, 99, "reference_in_segment", ("C999",)),
        ),
    ),
}

# How later versions differ from the 004010 base, as overrides of the base dictionary.
VERSION_OVERRIDES: dict[str, tuple[ElementOverride, ...]] = {
    "005010": (
        ElementOverride("ST", 3, "implementation_reference", "O", "AN", 1, 35),
        ElementOverride("AK1", 3, "version", "O", "AN", 1, 12),
        ElementOverride("AK2", 3, "implementation_reference", "O", "AN", 1, 35),
    ),
}
