"""Every error names its field the same way, whether pydantic or a service found it."""

from __future__ import annotations

import pytest

from midway.errors import field_path


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("body", "lines", 1, "sku"), "lines[1].sku"),
        (("body", "ship_to", "country"), "ship_to.country"),
        (("body", "rows", 0, "components", 2, "quantity"), "rows[0].components[2].quantity"),
        (("lines", 0, "quantity"), "lines[0].quantity"),
        (("query", "status"), "status"),
        (("path", "order_id"), "order_id"),
        (("header", "idempotency-key"), "header.idempotency-key"),
        (("body",), "body"),
        ((), ""),
    ],
)
def test_field_paths(loc, path):
    assert field_path(loc) == path
