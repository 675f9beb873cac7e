"""Writing many new rows fast, in the caller's transaction.

The hot paths (order intake, bulk import, EDI receiving) insert many small rows into a few
tables. Going through SQLAlchemy's ``execute(insert(table), rows)`` costs more Python per row
than the database spends storing it: parameter dictionaries are rebuilt, every value passes
the statement's processors one by one, and psycopg sends one ``INSERT`` per row. Here the rows
go to the driver directly:

* each value is converted by the same bind processors SQLAlchemy would use for the column
  (UTC datetimes, money, JSON, booleans), so what is stored is identical;
* on PostgreSQL, large tables go through ``COPY … FROM STDIN`` and small ones are sent
  together in one pipeline (one round trip for all of them);
* on SQLite, ``executemany`` of ``sqlite3``.

A driver error is raised as SQLAlchemy's own (``IntegrityError`` for a unique key, …), as if the
insert had gone through SQLAlchemy, and leaves the transaction in the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Dialect, Table, insert
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from midway.db import Base

# From this many rows a PostgreSQL table is copied rather than inserted row by row.
COPY_FROM_ROWS = 48

Rows = list[dict[str, Any]]
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Shape:
    """How to write one table's rows with a given set of columns on one dialect."""

    columns: tuple[str, ...]
    processors: tuple[Processor, ...]
    insert_sql: str
    copy_sql: str

    def params(self, rows: Rows) -> list[Sequence[Any]]:
        """The rows as driver parameters, in column order."""
        width = len(self.columns)
        take = itemgetter(*self.columns)
        convert = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        # The rows of one write share many values (one timestamp for all of an order's rows,
        # one due time for an FO's tasks): each value object is converted once in a row.
        last_in: list[Any] = [_NOTHING] * len(convert)
        last_out: list[Any] = [None] * len(convert)
        result: list[Sequence[Any]] = []
        for row in rows:
            if len(row) != width:
                raise ValueError(f"row has columns {sorted(row)}, expected {sorted(self.columns)}")
            values = take(row)
            if width == 1:
                values = (values,)
            if convert:
                values = list(values)
                for n, (i, process) in enumerate(convert):
                    value = values[i]
                    if value is not last_in[n]:
                        last_in[n], last_out[n] = value, process(value)
                    values[i] = last_out[n]
            result.append(values)
        return result


_NOTHING = object()
_shapes: dict[tuple[str, type[Base], tuple[str, ...]], _Shape] = {}


def _shape(dialect: Dialect, model: type[Base], columns: tuple[str, ...]) -> _Shape:
    key = (dialect.name, model, columns)
    shape = _shapes.get(key)
    if shape is None:
        table: Table = model.__table__  # type: ignore[assignment]
        # The processors SQLAlchemy itself would apply to these columns on this dialect.
        compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
        processors = compiled._bind_processors
        names = ", ".join(table.c[c].name for c in columns)
        mark = "?" if dialect.name == "sqlite" else "%s"
        shape = _shapes[key] = _Shape(
            columns=columns,
            processors=tuple(_single(processors.get(c)) for c in columns),
            insert_sql=f"INSERT INTO {table.name} ({names}) "
            f"VALUES ({', '.join(mark for _ in columns)})",
            copy_sql=f"COPY {table.name} ({names}) FROM STDIN",
        )
    return shape


def _single(processor: Any) -> Processor:
    """A column's one processor (tuple-valued binds, the only kind with several, never occur
    in a plain insert)."""
    if processor is None or callable(processor):
        return processor  # type: ignore[no-any-return]
    raise TypeError("an insert column with several bind processors")


def insert_rows(session: Session, model: type[Base], rows: Rows) -> None:
    """Insert plain rows (dictionaries with the same keys) into ``model``'s table."""
    insert_tables(session, [(model, rows)])


def insert_tables(session: Session, tables: Sequence[tuple[type[Base], Rows]]) -> None:
    """Insert the rows of several tables, in the order given (parents before children).

    Columns a row leaves out get the database's default; every row of a table must name the
    same columns.
    """
    work = [(model, rows) for model, rows in tables if rows]
    if not work:
        return
    connection = session.connection()
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    planned = [(_shape(dialect, model, tuple(rows[0])), rows) for model, rows in work]
    if dialect.name == "postgresql":
        _write_postgres(driver, dialect, planned)
    else:
        _write_sqlite(driver, dialect, planned)


def _write_sqlite(driver: Any, dialect: Dialect, planned: list[tuple[_Shape, Rows]]) -> None:
    for shape, rows in planned:
        params = shape.params(rows)
        try:
            driver.executemany(shape.insert_sql, params)
        except dialect.loaded_dbapi.Error as error:
            raise wrapped(shape.insert_sql, params, error, dialect) from error


def _write_postgres(driver: Any, dialect: Dialect, planned: list[tuple[_Shape, Rows]]) -> None:
    # Parents go first: a table is copied (big) or queued (small) in the given order, and the
    # queue is flushed before any later table is copied.
    queued: list[tuple[_Shape, list[Sequence[Any]]]] = []
    for shape, rows in planned:
        params = shape.params(rows)
        if len(params) < COPY_FROM_ROWS:
            queued.append((shape, params))
            continue
        _flush(driver, dialect, queued)
        queued = []
        try:
            with driver.cursor() as cursor, cursor.copy(shape.copy_sql) as copy:
                for values in params:
                    copy.write_row(values)
        except dialect.loaded_dbapi.Error as error:
            raise wrapped(shape.copy_sql, params[:1], error, dialect) from error
    _flush(driver, dialect, queued)


def _flush(driver: Any, dialect: Dialect, queued: list[tuple[_Shape, list[Sequence[Any]]]]) -> None:
    """Send the queued small inserts in one pipeline: one round trip for all of them (an error
    surfaces when the pipeline syncs, so it names every statement sent)."""
    if not queued:
        return
    try:
        with driver.pipeline(), driver.cursor() as cursor:
            for shape, params in queued:
                cursor.executemany(shape.insert_sql, params)
    except dialect.loaded_dbapi.Error as error:
        statements = "; ".join(shape.insert_sql for shape, _ in queued)
        raise wrapped(statements, None, error, dialect) from error


def wrapped(statement: str, params: Any, error: Exception, dialect: Dialect) -> Exception:
    """The driver's error as SQLAlchemy's (``IntegrityError``, ``OperationalError``, …)."""
    return sa_exc.DBAPIError.instance(
        statement, params, error, dialect.loaded_dbapi.Error, dialect=dialect
    )
