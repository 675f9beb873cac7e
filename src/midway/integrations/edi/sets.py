"""Transaction set grammars: which segments and loops each supported set holds, in order.

Rows follow the 004010 grammars of the warehouse sets (trimmed of the rarely used LM/LQ code
source, LS/LE and hazardous-material loops). See ``spec`` for the row format: a loop row's
children follow its trigger segment, which is implied by the loop ID.
"""

from __future__ import annotations

from midway.integrations.edi.spec import GrammarRow, SetSpec, build_grammar

_ADDRESS = (("N2", "O", 2), ("N3", "O", 2), ("N4", "O", 1), ("PER", "O", 5))

_940: tuple[GrammarRow, ...] = (
    ("W05", "M", 1),
    ("N1", "O", 10, _ADDRESS),
    ("N9", "O", 10),
    ("G61", "O", 3),
    ("G62", "O", 10),
    ("NTE", "O", 100),
    ("W09", "O", 1),
    ("W66", "O", 1),
    (
        "LX",
        "O",
        999999,
        (
            ("MAN", "O", 999999),
            ("N1", "O", 1),
            ("G62", "O", 10),
            (
                "W01",
                "O",
                999999,
                (
                    ("G69", "O", 5),
                    ("N9", "O", 200),
                    ("NTE", "O", 100),
                    ("W20", "O", 3),
                    ("QTY", "O", 10),
                    ("AMT", "O", 1),
                    ("G62", "O", 10),
                    ("N1", "O", 3),
                    ("PER", "O", 5),
                ),
            ),
        ),
    ),
    ("W76", "O", 1),
)

_945: tuple[GrammarRow, ...] = (
    ("W06", "M", 1),
    ("N1", "M", 10, (("N2", "O", 1), ("N3", "O", 2), ("N4", "O", 1), ("PER", "O", 5))),
    ("N9", "O", 10),
    ("G61", "O", 3),
    ("G62", "O", 5),
    ("NTE", "O", 20),
    ("W27", "O", 1),
    ("W28", "O", 1),
    ("W10", "O", 10),
    ("G72", "O", 5),
    (
        "LX",
        "O",
        999999,
        (
            ("MAN", "O", 999999),
            ("PAL", "O", 1),
            ("N9", "O", 5),
            (
                "W12",
                "O",
                999999,
                (
                    ("G69", "O", 5),
                    ("N9", "O", 200),
                    ("G62", "O", 10),
                    ("QTY", "O", 10),
                    ("MEA", "O", 5),
                    ("AMT", "O", 1),
                    ("W27", "O", 1),
                    ("N1", "O", 5),
                    ("G72", "O", 5),
                ),
            ),
        ),
    ),
    ("W03", "O", 1),
)

_943: tuple[GrammarRow, ...] = (
    ("W06", "M", 1),
    ("N1", "M", 10, (("N2", "O", 1), ("N3", "O", 2), ("N4", "O", 1), ("PER", "O", 5))),
    ("N9", "O", 10),
    ("G61", "O", 3),
    ("G62", "O", 5),
    ("NTE", "O", 20),
    ("W27", "M", 1),
    ("W28", "O", 1),
    ("W10", "O", 1),
    ("W04", "M", 9999, (("G69", "O", 5), ("N9", "O", 200), ("W20", "O", 2))),
    ("W03", "M", 1),
)

_944: tuple[GrammarRow, ...] = (
    ("W17", "M", 1),
    ("N1", "M", 10, (("N2", "O", 1), ("N3", "O", 2), ("N4", "O", 1), ("PER", "O", 5))),
    ("N9", "O", 10),
    ("G61", "O", 3),
    ("G62", "O", 5),
    ("NTE", "O", 20),
    ("W08", "O", 1),
    ("W18", "O", 10),
    ("G08", "O", 2),
    (
        "W07",
        "M",
        9999,
        (
            ("G69", "O", 5),
            ("N9", "O", 200),
            ("W20", "O", 2),
            ("W13", "O", 50, (("N9", "O", 200),)),
        ),
    ),
    ("W14", "M", 1),
)

_947: tuple[GrammarRow, ...] = (
    ("W15", "M", 1),
    ("N1", "M", 100, (("N2", "O", 1), ("N3", "O", 1), ("N4", "O", 1), ("PER", "O", 5))),
    ("N9", "O", 10),
    ("G61", "O", 3),
    ("G62", "O", 5),
    ("NTE", "O", 20),
    (
        "W19",
        "M",
        999999,
        (
            ("G69", "O", 5),
            ("N9", "O", 10),
            ("CS", "O", 1),
            ("AMT", "O", 1),
            ("G62", "O", 10),
            ("N1", "O", 50, (("N2", "O", 2), ("N3", "O", 2), ("N4", "O", 1), ("G61", "O", 5))),
            ("LX", "O", 999999, (("N9", "O", 999999), ("G62", "O", 1), ("N1", "O", 1))),
        ),
    ),
)

_PARTY_WITH_REFERENCES: tuple[GrammarRow, ...] = (
    ("N2", "O", 2),
    ("N3", "O", 2),
    ("N4", "O", 1),
    ("REF", "O", 12),
    ("PER", "O", 3),
)

_846: tuple[GrammarRow, ...] = (
    ("BIA", "M", 1),
    ("CUR", "O", 1),
    ("DTM", "O", 10),
    ("REF", "O", 12),
    ("PER", "O", 3),
    ("MEA", "O", 20),
    ("N1", "O", 5, _PARTY_WITH_REFERENCES),
    (
        "LIN",
        "M",
        10000,
        (
            ("PID", "O", 200),
            ("MEA", "O", 40),
            ("PKG", "O", 25),
            ("DTM", "O", 10),
            ("CUR", "O", 1),
            ("SAC", "O", 25),
            ("REF", "O", 999999),
            ("PER", "O", 3),
            ("MAN", "O", 1),
            ("UIT", "O", 5),
            ("CS", "O", 1),
            (
                "QTY",
                "O",
                99,
                (("UIT", "O", 12), ("MEA", "O", 25), ("DTM", "O", 10), ("SCH", "O", 25)),
            ),
            ("N1", "O", 200, _PARTY_WITH_REFERENCES),
        ),
    ),
    ("CTT", "O", 1),
)

_856: tuple[GrammarRow, ...] = (
    ("BSN", "M", 1),
    ("DTM", "O", 10),
    (
        "HL",
        "M",
        200000,
        (
            ("LIN", "O", 1),
            ("SN1", "O", 1),
            ("PRF", "O", 1),
            ("PO4", "O", 1),
            ("PID", "O", 200),
            ("MEA", "O", 40),
            ("PKG", "O", 25),
            ("TD1", "O", 20),
            ("TD5", "O", 12),
            ("TD3", "O", 12),
            ("REF", "O", 999999),
            ("PER", "O", 3),
            ("MAN", "O", 999999),
            ("DTM", "O", 10),
            ("FOB", "O", 1),
            ("PAL", "O", 1),
            ("N1", "O", 200, (*_PARTY_WITH_REFERENCES, ("FOB", "O", 1))),
            ("CUR", "O", 1),
            ("SAC", "O", 999999),
            ("YNQ", "O", 10),
        ),
    ),
    ("CTT", "O", 1),
)

_180: tuple[GrammarRow, ...] = (
    ("BGN", "M", 1),
    ("RDR", "O", 1),
    ("PRF", "O", 1),
    ("DTM", "O", 10),
    ("N9", "O", 10),
    ("PER", "O", 2),
    ("SAC", "O", 10),
    ("PKG", "O", 5),
    ("TD1", "O", 10),
    ("TD5", "O", 10),
    ("NTE", "O", 5),
    ("N1", "O", 200, _ADDRESS),
    (
        "BLI",
        "O",
        999999,
        (
            ("N9", "O", 20),
            ("PID", "O", 5),
            ("RDR", "O", 1),
            ("SAC", "O", 10),
            ("AMT", "O", 999999),
            ("MEA", "O", 999999),
            ("NTE", "O", 999999),
            ("PRF", "O", 1),
            ("DTM", "O", 15),
            ("TD5", "O", 5),
            ("N1", "O", 200, _ADDRESS),
            (
                "QTY",
                "O",
                999999,
                (
                    ("AMT", "O", 5),
                    ("DTM", "O", 10),
                    ("N1", "O", 1),
                    ("LX", "O", 999999, (("N9", "O", 999999), ("DTM", "O", 10), ("N1", "O", 1))),
                ),
            ),
        ),
    ),
)

_997: tuple[GrammarRow, ...] = (
    ("AK1", "M", 1),
    (
        "AK2",
        "O",
        999999,
        (
            ("AK3", "O", 999999, (("AK4", "O", 99),)),
            ("AK5", "M", 1),
        ),
    ),
    ("AK9", "M", 1),
)

_999: tuple[GrammarRow, ...] = (
    ("AK1", "M", 1),
    (
        "AK2",
        "O",
        999999,
        (
            ("IK3", "O", 999999, (("CTX", "O", 10), ("IK4", "O", 99, (("CTX", "O", 10),)))),
            ("IK5", "M", 1),
        ),
    ),
    ("AK9", "M", 1),
)

SETS: dict[str, SetSpec] = {
    spec.id: spec
    for spec in (
        SetSpec("940", "Warehouse Shipping Order", "OW", build_grammar(_940)),
        SetSpec("945", "Warehouse Shipping Advice", "SW", build_grammar(_945)),
        SetSpec("943", "Warehouse Stock Transfer Shipment Advice", "AR", build_grammar(_943)),
        SetSpec("944", "Warehouse Stock Transfer Receipt Advice", "RE", build_grammar(_944)),
        SetSpec("947", "Warehouse Inventory Adjustment Advice", "AW", build_grammar(_947)),
        SetSpec("846", "Inventory Inquiry/Advice", "IB", build_grammar(_846)),
        SetSpec("856", "Ship Notice/Manifest", "SH", build_grammar(_856)),
        SetSpec(
            "180", "Return Merchandise Authorization and Notification", "AN", build_grammar(_180)
        ),
        SetSpec("997", "Functional Acknowledgment", "FA", build_grammar(_997)),
        SetSpec("999", "Implementation Acknowledgment", "FA", build_grammar(_999)),
    )
}

# GS01 of sets Midway does not parse, so that a group mislabelled for them is still caught.
FUNCTIONAL_IDS: dict[str, str] = {
    **{set_id: spec.functional_id for set_id, spec in SETS.items()},
    "810": "IN",
    "820": "RA",
    "824": "AG",
    "830": "PS",
    "832": "SC",
    "837": "HC",
    "850": "PO",
    "855": "PR",
    "860": "PC",
    "861": "RC",
    "864": "TX",
}
