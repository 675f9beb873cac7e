"""Shared API shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from midway.core import money

# A calendar month, YYYY-MM: documented in the OpenAPI document as a pattern; the services
# check it themselves, with a message that shows the expected form.
MONTH: JsonDict = {"pattern": r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$", "examples": ["2026-10"]}
# An amount of money or a rate, as Midway stores it (see :mod:`midway.core.money`): a number or
# a decimal string, finite, at most 14 digits before the point and 6 after.
Amount = Annotated[
    Decimal, Field(max_digits=money.WHOLE_DIGITS + money.PLACES, decimal_places=money.PLACES)
]

# An ISO 3166-1 alpha-2 country code (either case): the services check it is an assigned code.
COUNTRY: JsonDict = {"pattern": r"^[A-Za-z]{2}$", "examples": ["US"]}


class StrictModel(BaseModel):
    """Input bodies: unknown fields are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Problem(BaseModel):
    """RFC 9457 problem details, with Midway's stable ``code`` and the ``field`` at fault."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}}
    for status in (400, 401, 403, 404, 409, 422)
}
