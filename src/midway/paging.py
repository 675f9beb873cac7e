"""Keyset paging: a list sorted by a key (ending with the id, so that no two items tie) goes
on from the last item of the previous page, whatever was written in between and however many
items share the key's first columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from midway.errors import InvalidInput

T = TypeVar("T")
Key = Sequence[ColumnElement[Any] | QueryableAttribute[Any]]


def page(
    session: Session,
    query: Select[T],
    key: Key,
    visible: ColumnElement[bool],
    *,
    after: str | None,
    limit: int,
    newest_first: bool = False,
    what: str = "an item",
) -> Select[T]:
    """A page of ``query``: sorted by ``key`` (its last column the id), at most ``limit``
    items, those after the item whose id is ``after`` if given.

    The anchor is looked up among the items ``visible`` selects (the caller's), not with the
    list's other filters, so that an item whose status changed since the last page still
    anchors the next one."""
    query = query.order_by(*(column.desc() if newest_first else column for column in key))
    query = query.limit(limit)
    if after is None:
        return query
    anchor = session.execute(select(*key).where(key[-1] == after, visible)).first()
    if anchor is None:
        raise InvalidInput(f"after must be the id of {what} you can see", field="after")
    # Lexicographic: equal on the first n columns, then beyond the anchor on column n.
    beyond = []
    for n, column in enumerate(key):
        same = [key[i] == anchor[i] for i in range(n)]
        step = column < anchor[n] if newest_first else column > anchor[n]
        beyond.append(and_(*same, step))
    return query.where(or_(*beyond))
