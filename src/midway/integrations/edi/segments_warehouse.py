"""The X12 segment dictionary, part 3: the warehouse (W-series) segments and their helpers.

Rows follow the 004010 standard; see ``spec`` for the row format. A few rarely used segments
(pallet, contract and schedule details) are typed loosely, as optional text elements, so that
they are accepted and kept without a claim to validate their content.
"""

from __future__ import annotations

from midway.integrations.edi.spec import ElementRow, SegmentRow

# W05-01: what a shipping order asks for. N new order, C and R change or replace it, F and D
# cancel or delete it: the mapping of 940s to orders branches on it, so other values are errors.
ORDER_STATUSES = ("C", "D", "F", "N", "R")


def _loose(count: int) -> tuple[ElementRow, ...]:
    """Optional free-text elements for a segment Midway keeps but does not interpret."""
    return tuple(("O", "AN", 1, 264, f"element_{n:02d}") for n in range(1, count + 1))


def _product_pairs(first: int, count: int) -> tuple[ElementRow, ...]:
    """(qualifier, product ID) element pairs, conditional on each other."""
    rows: list[ElementRow] = []
    for n in range(first, first + count):
        rows.append(("X", "ID", 2, 2, f"product_qualifier_{n}"))
        rows.append(("X", "AN", 1, 48, f"product_id_{n}"))
    return tuple(rows)


SEGMENTS: dict[str, SegmentRow] = {
    "W01": (
        "Line Item Detail - Warehouse",
        ("R0304", "P0405", "P0607", "P1516"),
        (
            ("M", "R", 1, 15, "quantity_ordered"),
            ("M", "ID", 2, 2, "unit"),
            ("X", "AN", 12, 12, "upc_case_code"),
            *_product_pairs(1, 2),
            ("O", "AN", 2, 5, "freight_class"),
            ("O", "ID", 1, 3, "rate_class"),
            ("O", "ID", 1, 1, "commodity_code_qualifier"),
            ("O", "AN", 1, 30, "commodity_code"),
            ("O", "N0", 6, 6, "pallet_block_and_tiers"),
            ("O", "AN", 1, 12, "warehouse_lot"),
            ("O", "ID", 2, 2, "product_condition"),
            *_product_pairs(3, 1),
        ),
    ),
    "W03": (
        "Total Shipment Information",
        (),
        (
            ("M", "R", 1, 10, "units_shipped"),
            ("O", "R", 1, 10, "weight"),
            ("X", "ID", 2, 2, "weight_unit"),
            ("O", "R", 1, 8, "volume"),
            ("X", "ID", 2, 2, "volume_unit"),
            ("O", "R", 1, 7, "lading_quantity"),
            ("X", "ID", 2, 2, "lading_unit"),
        ),
    ),
    "W04": (
        "Item Detail Total",
        ("R0304", "P0405", "P0607", "P1415"),
        (
            ("M", "R", 1, 10, "quantity"),
            ("M", "ID", 2, 2, "unit"),
            ("X", "AN", 12, 12, "upc_case_code"),
            *_product_pairs(1, 2),
            ("O", "AN", 2, 5, "freight_class"),
            ("O", "ID", 1, 3, "rate_class"),
            ("O", "ID", 1, 1, "commodity_code_qualifier"),
            ("O", "AN", 1, 30, "commodity_code"),
            ("O", "N0", 6, 6, "pallet_block_and_tiers"),
            ("O", "ID", 2, 2, "product_condition"),
            *_product_pairs(3, 1),
        ),
    ),
    "W05": (
        "Shipping Order Identification",
        ("P0405",),
        (
            ("M", "ID", 1, 1, "order_status", ORDER_STATUSES),
            ("M", "AN", 1, 22, "depositor_order_number"),
            ("O", "AN", 1, 22, "purchase_order_number"),
            ("X", "N0", 6, 6, "link_sequence"),
            ("X", "AN", 1, 22, "master_reference"),
            ("O", "ID", 2, 2, "transaction_type"),
            ("O", "ID", 1, 2, "action_code"),
        ),
    ),
    "W06": (
        "Warehouse Shipment Identification",
        ("P0708",),
        (
            ("M", "ID", 1, 1, "reporting_code"),
            ("O", "AN", 1, 22, "depositor_order_number"),
            ("O", "DT", 8, 8, "date"),
            ("O", "AN", 1, 30, "shipment_id"),
            ("O", "AN", 1, 12, "agent_shipment_id"),
            ("O", "AN", 1, 22, "purchase_order_number"),
            ("X", "AN", 1, 22, "master_reference"),
            ("X", "N0", 6, 6, "link_sequence"),
            ("O", "ID", 2, 3, "reason_code"),
            ("O", "ID", 2, 2, "transaction_type"),
            ("O", "ID", 2, 2, "time_code"),
            ("O", "ID", 1, 2, "action_code"),
        ),
    ),
    "W07": (
        "Item Detail For Stock Receipt",
        ("R0304", "P0405", "P0607", "P1011"),
        (
            ("M", "R", 1, 7, "quantity_received"),
            ("M", "ID", 2, 2, "unit"),
            ("X", "AN", 12, 12, "upc_case_code"),
            *_product_pairs(1, 2),
            ("O", "AN", 1, 12, "warehouse_lot"),
            ("O", "ID", 1, 1, "receiving_condition"),
            *_product_pairs(3, 1),
        ),
    ),
    "W08": (
        "Warehouse Carrier Information",
        (),
        (
            ("M", "ID", 1, 2, "transportation_method"),
            ("O", "ID", 2, 4, "scac"),
            ("O", "AN", 1, 35, "routing"),
            ("O", "AN", 1, 4, "equipment_initial"),
            ("O", "AN", 1, 10, "equipment_number"),
            ("O", "AN", 2, 15, "seal_number"),
            ("O", "AN", 2, 15, "seal_number_2"),
            ("O", "ID", 2, 2, "equipment_description"),
            ("O", "ID", 2, 2, "payment_method"),
        ),
    ),
    "W09": (
        "Equipment and Temperature",
        ("P0203", "P0405"),
        (
            ("M", "ID", 2, 2, "equipment_description"),
            ("X", "R", 1, 4, "temperature_minimum"),
            ("X", "ID", 2, 2, "temperature_unit"),
            ("X", "R", 1, 4, "temperature_maximum"),
            ("X", "ID", 2, 2, "temperature_unit_2"),
            ("O", "AN", 1, 60, "description"),
            ("O", "ID", 1, 1, "vent_setting"),
            ("O", "R", 1, 3, "vent_percent"),
            ("O", "R", 1, 15, "quantity"),
        ),
    ),
    "W10": (
        "Warehouse Delivery Information",
        (),
        (
            ("O", "ID", 2, 2, "unit_load_option"),
            ("O", "R", 1, 3, "pallet_count"),
            ("O", "ID", 1, 1, "pallet_exchange"),
            ("O", "AN", 2, 15, "seal_number"),
            ("O", "AN", 2, 15, "seal_number_2"),
            ("O", "R", 1, 4, "temperature"),
            ("O", "ID", 2, 2, "temperature_unit"),
            ("O", "R", 1, 4, "temperature_2"),
            ("O", "ID", 2, 2, "temperature_unit_2"),
        ),
    ),
    "W12": (
        "Warehouse Item Detail",
        ("R0607", "P0708", "P1718", "P2122"),
        (
            ("M", "ID", 2, 2, "status"),
            ("X", "R", 1, 15, "quantity_ordered"),
            ("X", "R", 1, 10, "quantity_shipped"),
            ("X", "R", 1, 9, "quantity_difference"),
            ("X", "ID", 2, 2, "unit"),
            ("X", "AN", 12, 12, "upc_case_code"),
            *_product_pairs(1, 1),
            ("O", "AN", 1, 12, "warehouse_lot"),
            ("X", "R", 1, 10, "weight"),
            ("X", "ID", 1, 2, "weight_qualifier"),
            ("X", "ID", 1, 1, "weight_unit"),
            ("X", "R", 1, 10, "weight_2"),
            ("X", "ID", 1, 2, "weight_qualifier_2"),
            ("X", "ID", 1, 1, "weight_unit_2"),
            ("X", "AN", 12, 12, "original_upc_case_code"),
            *_product_pairs(2, 1),
            ("O", "ID", 2, 2, "change_reason"),
            ("O", "ID", 1, 1, "yes_no"),
            *_product_pairs(3, 1),
        ),
    ),
    "W13": (
        "Item Detail - Exception",
        (),
        (
            ("M", "R", 1, 15, "quantity"),
            ("M", "ID", 2, 2, "unit"),
            ("M", "ID", 2, 2, "receiving_condition"),
            ("O", "AN", 1, 12, "warehouse_lot"),
            ("O", "ID", 2, 2, "damage_reason"),
        ),
    ),
    "W14": (
        "Total Receipt Information",
        (),
        (
            ("M", "R", 1, 7, "quantity_received"),
            ("O", "R", 1, 10, "quantity_ordered"),
            ("O", "R", 1, 9, "quantity_damaged"),
            ("O", "R", 1, 7, "quantity_over"),
            ("O", "R", 1, 7, "quantity_short"),
        ),
    ),
    "W15": (
        "Warehouse Adjustment Identification",
        (),
        (
            ("M", "DT", 8, 8, "date"),
            ("O", "AN", 1, 22, "adjustment_number"),
            ("O", "AN", 1, 22, "depositor_adjustment_number"),
            ("O", "ID", 2, 2, "transaction_type"),
            ("O", "ID", 2, 2, "time_code"),
            ("O", "ID", 1, 2, "action_code"),
        ),
    ),
    "W17": (
        "Warehouse Receipt Identification",
        (),
        (
            ("M", "ID", 1, 1, "reporting_code"),
            ("M", "DT", 8, 8, "date"),
            ("M", "AN", 1, 12, "receipt_number"),
            ("O", "AN", 1, 22, "depositor_order_number"),
            ("O", "AN", 1, 30, "shipment_id"),
            ("O", "ID", 1, 2, "transaction_type"),
            ("O", "TM", 4, 8, "time"),
            ("O", "AN", 1, 22, "master_reference"),
            ("O", "N0", 6, 6, "link_sequence"),
        ),
    ),
    "W18": (
        "Warehouse Receipt Discrepancy",
        (),
        (
            ("M", "ID", 2, 2, "condition"),
            ("M", "R", 1, 4, "quantity"),
            ("O", "ID", 2, 2, "unit"),
        ),
    ),
    "W19": (
        "Inventory Adjustment Details",
        ("P0506", "P0708", "P1718"),
        (
            ("M", "ID", 2, 2, "reason_code"),
            ("M", "R", 1, 10, "quantity"),
            ("M", "ID", 2, 2, "unit"),
            ("X", "AN", 12, 12, "upc_case_code"),
            *_product_pairs(1, 2),
            ("O", "AN", 1, 12, "warehouse_lot"),
            ("X", "R", 1, 10, "weight"),
            ("X", "ID", 1, 2, "weight_qualifier"),
            ("X", "ID", 1, 1, "weight_unit"),
            ("X", "R", 1, 10, "weight_2"),
            ("X", "ID", 1, 2, "weight_qualifier_2"),
            ("X", "ID", 1, 1, "weight_unit_2"),
            ("O", "ID", 1, 2, "inventory_transaction_type"),
            *_product_pairs(3, 1),
        ),
    ),
    "W20": (
        "Line Item Detail - Miscellaneous",
        ("P0405",),
        (
            ("O", "R", 1, 6, "pack"),
            ("O", "R", 1, 8, "size"),
            ("O", "ID", 2, 2, "unit"),
            ("X", "R", 1, 10, "weight"),
            ("X", "ID", 1, 2, "weight_qualifier"),
            ("O", "ID", 1, 1, "weight_unit"),
            ("X", "R", 1, 8, "volume"),
            ("O", "R", 1, 8, "volume_2"),
            ("X", "ID", 2, 2, "volume_unit"),
            ("O", "AN", 1, 10, "color"),
        ),
    ),
    "W27": (
        "Carrier Detail",
        (),
        (
            ("M", "ID", 1, 2, "transportation_method"),
            ("O", "ID", 2, 4, "scac"),
            ("O", "AN", 1, 35, "routing"),
            ("O", "ID", 2, 2, "payment_method"),
            ("O", "ID", 2, 2, "equipment_description"),
            ("O", "AN", 1, 4, "equipment_initial"),
            ("O", "AN", 1, 10, "equipment_number"),
            ("O", "ID", 2, 2, "special_handling"),
            ("O", "ID", 2, 3, "service_level"),
            ("O", "ID", 2, 2, "service_level_2"),
        ),
    ),
    "W28": (
        "Consolidation Information",
        (),
        (
            ("M", "ID", 1, 1, "consolidation_code"),
            ("O", "R", 1, 10, "quantity"),
            ("O", "ID", 1, 2, "transportation_method"),
            ("O", "ID", 1, 1, "yes_no"),
            ("O", "R", 1, 2, "number"),
            ("O", "AN", 1, 30, "reference"),
            ("O", "ID", 1, 2, "routing_sequence"),
            ("O", "AN", 1, 12, "reference_2"),
        ),
    ),
    "W66": (
        "Warehouse Carrier Information",
        (),
        (
            ("M", "ID", 2, 2, "payment_method"),
            ("M", "ID", 1, 2, "transportation_method"),
            ("O", "ID", 1, 1, "pallet_exchange"),
            ("O", "ID", 2, 2, "unit_load_option"),
            ("O", "AN", 1, 35, "routing"),
            ("O", "ID", 2, 2, "location_qualifier"),
            ("O", "AN", 1, 30, "location"),
            ("O", "ID", 1, 1, "payment_method_2"),
            ("O", "N2", 1, 15, "freight_charge"),
            ("O", "ID", 2, 4, "scac"),
        ),
    ),
    "W76": (
        "Total Shipping Order",
        ("P0203", "P0405"),
        (
            ("M", "R", 1, 15, "quantity_ordered"),
            ("X", "R", 1, 10, "weight"),
            ("X", "ID", 2, 2, "weight_unit"),
            ("X", "R", 1, 8, "volume"),
            ("X", "ID", 2, 2, "volume_unit"),
            ("O", "R", 1, 10, "pallet_count"),
        ),
    ),
    "G08": ("Pallet Information", (), _loose(6)),
    "G72": ("Allowance or Charge", (), _loose(12)),
    "CS": ("Contract Summary", (), _loose(18)),
    "PAL": ("Pallet Information", (), _loose(17)),
    "PKG": ("Marking, Packaging, Loading", (), _loose(6)),
    "SAC": ("Service, Promotion, Allowance, or Charge Information", (), _loose(16)),
    "SCH": ("Line Item Schedule", (), _loose(12)),
}
