"""Reading the hot path's small queries without SQLAlchemy's per-execution work.

Every order reads its SKUs, its network and its balances: a few rows each, which the database
answers in less time than SQLAlchemy spends preparing the execution and building its result.
:func:`rows` sends a statement built once straight to the driver (psycopg, or ``sqlite3``
inside the session's transaction) and converts each column with the result processor
SQLAlchemy itself would apply to it, so the values are the ones an ordinary ``execute``
returns.

The statements are the module-level ones built with :func:`midway.db.per_dialect`, with lists
passed as one parameter (:func:`midway.db.one_of`), never as expanding ``IN`` parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Dialect, Select
from sqlalchemy.orm import Session

from midway.inserts import wrapped

Processor = Callable[[Any], Any] | None
AnySelect = Select[*tuple[Any, ...]]


@dataclass
class _Compiled:
    statement: AnySelect  # kept alive: the cache is keyed by its id
    sql: str
    names: list[str] | None  # the parameters in order, for a driver that takes them so
    defaults: Mapping[str, Any]  # the statement's own literal values
    binds: Mapping[str, Callable[[Any], Any]]
    results: list[Processor] | None = field(default=None)  # known after the first execution


_compiled: dict[tuple[int, str], _Compiled] = {}


def rows(
    session: Session, statements: Mapping[str, AnySelect], params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """All rows of the statement built for the session's database, as tuples."""
    connection = session.connection()
    dialect = connection.dialect
    statement = statements[dialect.name]
    compiled = _compile(statement, dialect)
    values = {**compiled.defaults, **params}
    for name, process in compiled.binds.items():
        values[name] = process(values[name])
    bound: Any = values if compiled.names is None else [values[n] for n in compiled.names]
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(compiled.sql, bound)
        fetched: list[tuple[Any, ...]] = cursor.fetchall()
        if compiled.results is None:
            compiled.results = [
                column.type._cached_result_processor(dialect, described[1])
                for column, described in zip(
                    statement.selected_columns, cursor.description or (), strict=True
                )
            ]
    except dialect.loaded_dbapi.Error as error:
        raise wrapped(compiled.sql, bound, error, dialect) from error
    finally:
        cursor.close()
    convert = [(i, p) for i, p in enumerate(compiled.results) if p is not None]
    if not convert:
        return fetched
    result = []
    for row in fetched:
        converted = list(row)
        for i, process in convert:
            converted[i] = process(converted[i])
        result.append(converted)
    return result


def _compile(statement: AnySelect, dialect: Dialect) -> _Compiled:
    key = (id(statement), dialect.name)
    compiled = _compiled.get(key)
    if compiled is None:
        sql = statement.compile(dialect=dialect)
        if sql.post_compile_params:
            raise ValueError("expanding parameters cannot be read directly; use one_of()")
        binds = {
            name: process for name, process in sql._bind_processors.items() if callable(process)
        }
        defaults = {name: value for name, value in sql.params.items() if value is not None}
        names = list(sql.positiontup) if sql.positional and sql.positiontup else None
        compiled = _compiled[key] = _Compiled(statement, sql.string, names, defaults, binds)
    return compiled
