"""Keyset paging: a list sorted by a key (ending with the id, so that no two items tie) goes
on from the last item of the previous page, whatever was written in between and however many
items share the key's first columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import QueryableAttribute

from midway.errors import InvalidInput

T = TypeVar("T")
Key = Sequence[ColumnElement[Any] | QueryableAttribute[Any]]


def sorted_by(query: Select[T], key: Key, *, newest_first: bool = False) -> Select[T]:
    """``query`` in the order of ``key`` (descending with ``newest_first``)."""
    return query.order_by(*(column.desc() if newest_first else column for column in key))


def after(
    query: Select[T],
    key: Key,
    anchor: Sequence[Any] | None,
    *,
    newest_first: bool = False,
    what: str = "an item",
) -> Select[T]:
    """The items of ``query`` that come after ``anchor`` (the key's values of the previous
    page's last item, None when the caller cannot see it) in the order of :func:`sorted_by`.

    Raises :class:`InvalidInput` naming ``after`` when there is no anchor."""
    if anchor is None:
        raise InvalidInput(f"after must be the id of {what} you can see", field="after")
    if len(anchor) != len(key):
        raise ValueError("the anchor needs one value per column of the key")
    beyond = []
    for n, column in enumerate(key):
        same = [key[i] == anchor[i] for i in range(n)]
        step = column < anchor[n] if newest_first else column > anchor[n]
        beyond.append(and_(*same, step))
    return query.where(or_(*beyond))
