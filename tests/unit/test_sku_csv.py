"""The SKU CSV takes whole numbers as people write them, and names the line and column of
any other."""

from __future__ import annotations

import pytest

from midway.catalog.service import parse_csv
from midway.errors import InvalidInput

HEADER = "sku,name,weight_g,tags,components\n"


def test_whole_numbers_and_components_are_read() -> None:
    [kit] = parse_csv(HEADER + "K-1,Kit, 250 ,kit,A-1:2; B-2\n")
    assert (kit.weight_g, kit.components) == (250, [("A-1", 2), ("B-2", 1)])


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("1_000,,", "weight_g: '1_000' is not a whole number"),
        ("12.5,,", "weight_g: '12.5' is not a whole number"),
        ("١٢,,", "weight_g: '١٢' is not a whole number"),
        ("1,,A-1:1_0", "components: 'A-1:1_0' is not SKU:quantity"),
        ("1,,A-1:x", "components: 'A-1:x' is not SKU:quantity"),
    ],
)
def test_other_cells_are_refused_naming_line_and_column(cells: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_csv(HEADER + "A-1,Alpha,100,,\n" + f"B-2,Beta,{cells}\n")
    assert info.value.extra["field"] == "line 3"
    assert info.value.extra["errors"] == [{"line": 3, "message": message}]
