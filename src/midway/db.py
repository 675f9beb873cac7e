"""Database engine, column types and the unit of work.

SQLite and PostgreSQL run the same code; where they differ (pragmas, how a write transaction
begins) the difference lives here.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Dialect,
    Engine,
    Numeric,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    exc,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from midway.errors import Busy
from midway.writers import WriterLine

_CENT = Decimal("0.01")
# quantize() refuses results of more digits than the decimal context keeps (28 by default).
_MONEY_READ_DIGITS = 25
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Exact decimals: NUMERIC on PostgreSQL, canonical text on SQLite (which has no decimal)."""

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(20, 6, asdecimal=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # Same value on both databases: no padding from NUMERIC's scale, at least cents. (A
        # value too large for cents, which only a write from before amounts were bounded can
        # have stored on SQLite, is returned as it is.)
        number = Decimal(str(value)).normalize()
        if number.as_tuple().exponent > -2 and number.adjusted() < _MONEY_READ_DIGITS:  # type: ignore[operator]
            return number.quantize(_CENT)
        return number


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {dict[str, Any]: JSONType, list[Any]: JSONType, datetime: UTCDateTime()}


T = TypeVar("T")
_clock: ContextVar[datetime | None] = ContextVar("midway_clock", default=None)


def utcnow() -> datetime:
    """Now, timezone-aware UTC (or the instant set by :func:`clock_at`)."""
    return _clock.get() or datetime.now(UTC)


@contextmanager
def clock_at(instant: datetime) -> Iterator[None]:
    """Make :func:`utcnow` answer ``instant`` inside the block (replaying history, tests)."""
    if instant.tzinfo is None:
        raise ValueError("clock_at needs a timezone-aware datetime")
    token = _clock.set(instant.astimezone(UTC))
    try:
        yield
    finally:
        _clock.reset(token)


def new_id(prefix: str) -> str:
    """An opaque id such as ``ord_01jdz3k9q…`` (the prefix says what it names): 20 characters
    of lowercase Crockford base32, the first 9 the time it was made in milliseconds, the other
    11 55 bits from the operating system's random source.

    The time comes first so that the rows written together land together in each index: with
    fully random ids each row of an order dirtied its own page of every index it is in
    (measured on SQLite, groups of 5 orders: 215 KiB of write-ahead log per order and 3.9 ms
    per commit, against 105 KiB and 2.1 ms with the time first). The random part keeps ids
    hard to guess and makes a repeat unlikely even among the ids of one millisecond (about one
    in 10^14 for 30 of them)."""
    global _random_part
    now = _milliseconds()
    stamp = _stamps.get(now)
    if stamp is None:
        stamp = _stamp(now)
        _stamps.clear()
        _stamps[now] = stamp
    try:
        return f"{prefix}_{stamp}{next(_random_part)}"
    except StopIteration:
        _random_part = _draw_random_parts()
        return f"{prefix}_{stamp}{next(_random_part)}"


ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32, in the order it sorts
# Each random byte becomes one character: 256 is a multiple of 32, so every character is
# equally likely and carries 5 bits.
_BYTE_TO_CHARACTER = bytes(ord(ID_ALPHABET[b % 32]) for b in range(256))


def _milliseconds() -> int:
    return time.time_ns() // 1_000_000


def _stamp(milliseconds: int) -> str:
    return "".join(ID_ALPHABET[(milliseconds >> shift) & 31] for shift in range(40, -5, -5))


# The random parts are drawn from the operating system a few hundred at a time: an order writes
# some twenty rows, and one system call each cost more than the rest of making the id. Taking
# the next one is a single step under the interpreter lock, so threads never get the same one;
# a forked child starts with a fresh draw.
_IDS_PER_DRAW = 256
_random_part: Iterator[str] = iter(())
_stamps: dict[int, str] = {}


def _draw_random_parts() -> Iterator[str]:
    text = os.urandom(11 * _IDS_PER_DRAW).translate(_BYTE_TO_CHARACTER).decode("ascii")
    return iter([text[i : i + 11] for i in range(0, len(text), 11)])


def _forget_random_parts() -> None:
    global _random_part
    _random_part = iter(())


os.register_at_fork(after_in_child=_forget_random_parts)


# How long SQLite's busy handler lets a writer wait for the write lock once it left the queue
# (:mod:`midway.writers`): its last word before "database is locked".
SQLITE_BUSY_SECONDS = 30.0

_SQLITE_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def as_busy(exc: BaseException) -> Busy | None:
    """The :class:`~midway.errors.Busy` error for SQLite's "database is locked" (raised
    through SQLAlchemy), None for anything else."""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlite_errorcode", None)
    if not isinstance(orig, sqlite3.OperationalError) or code is None:
        return None
    if code & 0xFF not in _SQLITE_BUSY_CODES:
        return None
    return Busy(
        "the database stayed locked by other writers for too long; nothing was written, try again"
    )


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" hook below decide how each transaction begins.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_on_begin(conn: Any) -> None:
    # Writers take the write lock up front so two writers never deadlock upgrading a read lock.
    mode = "IMMEDIATE" if conn.get_execution_options().get("midway_write", True) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


# A pooled connection idle for longer than this is pinged before use (a server restart or a
# network drop closes connections while they sit in the pool); one returned moments ago is
# not, which saves a round trip per request under load.
PING_AFTER_IDLE_SECONDS = 2.0


def create_db_engine(
    url: str, *, pool_size: int = 10, ping_after_idle: float = PING_AFTER_IDLE_SECONDS
) -> Engine:
    """An engine for ``url`` with Midway's settings for that database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            json_serializer=json_text,
            json_deserializer=orjson.loads,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        json_serializer=json_text,
        json_deserializer=orjson.loads,
    )
    event.listen(engine, "checkin", _on_checkin)
    event.listen(engine, "checkout", _pinger(engine.dialect, ping_after_idle))
    return engine


def _on_checkin(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
    record.info["midway_idle_since"] = time.monotonic()


def _pinger(dialect: Dialect, after_idle: float) -> Callable[..., None]:
    def ping(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        since = record.info.get("midway_idle_since")
        if since is not None and time.monotonic() - since < after_idle:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as error:
            # The pool throws this connection away and checks out (or opens) another.
            raise exc.DisconnectionError(f"pooled connection is gone: {error}") from error

    return ping


def json_text(value: Any) -> str:
    """JSON columns' text: compact, keys as given (orjson, several times faster than ``json``;
    non-string keys become strings as ``json`` would make them)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def one_of(column: QueryableAttribute[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` is one of the list given as parameter ``name``, passed as one parameter so
    that the statement's text (and the plan the database prepares for it) is the same
    whatever the length of the list: ``column = ANY(:name)`` with an array on PostgreSQL,
    ``column IN (SELECT value FROM json_each(:name))`` with a JSON array on SQLite, which
    still searches the column's index with the list's values."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.expression.type)))
    values = func.json_each(bindparam(name, type_=JSON)).table_valued("value")
    return column.in_(select(values.c.value))


def per_dialect(build: Callable[[str], T]) -> dict[str, T]:
    """A statement built once for each supported database (see :func:`one_of`)."""
    return {dialect: build(dialect) for dialect in ("sqlite", "postgresql")}


def is_postgres(session_or_engine: Session | Engine) -> bool:
    """True when running on PostgreSQL (the one place dialect branches ask)."""
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"


class Transaction:
    """A session in one transaction, ended once by :meth:`finish` (commit) or :meth:`abort`
    (roll back); either closes the session and lets the next SQLite writer in. It may be
    ended in another thread than the one that began it, as long as only one thread uses it
    at a time."""

    def __init__(self, session: Session, writers: WriterLine | None) -> None:
        self.session = session
        self._writers = writers

    def finish(self) -> None:
        """Commit (on failure: roll back and raise)."""
        try:
            self.session.commit()
        except BaseException:
            self.session.rollback()
            raise
        finally:
            self._end()

    def abort(self) -> None:
        """Roll back."""
        try:
            self.session.rollback()
        finally:
            self._end()

    def _end(self) -> None:
        try:
            self.session.close()
        finally:
            if self._writers is not None:
                self._writers.leave()
                self._writers = None


class Database:
    """An engine plus the unit of work: one transaction per use case, committed here only."""

    def __init__(
        self, url: str, *, pool_size: int = 10, ping_after_idle: float = PING_AFTER_IDLE_SECONDS
    ) -> None:
        self.url = url
        self.pool_size = pool_size
        self.engine = create_db_engine(url, pool_size=pool_size, ping_after_idle=ping_after_idle)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._sqlite = self.engine.dialect.name == "sqlite"
        self._writers = WriterLine(make_url(url).database) if self._sqlite else None

    @property
    def serial_writes(self) -> bool:
        """True when write transactions queue for one lock (SQLite)."""
        return self._writers is not None

    @contextmanager
    def transaction(self, *, write: bool = True, snapshot: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on error.

        ``snapshot``: every statement reads the same snapshot (REPEATABLE READ on PostgreSQL,
        whose default gives each statement its own; a SQLite transaction always reads one)."""
        unit = self.begin(write=write, snapshot=snapshot)
        try:
            yield unit.session
        except BaseException:
            unit.abort()
            raise
        unit.finish()

    def begin(self, *, write: bool = True, snapshot: bool = False) -> Transaction:
        """A transaction to end explicitly (see :class:`Transaction`); :meth:`transaction` is
        the usual way. Bulk import uses it to commit one batch in a second thread while the
        next is planned."""
        queued = write and self._writers is not None and self._writers.enter()
        try:
            session = self._sessions()
            if self._sqlite:
                session.connection(execution_options={"midway_write": write})
            elif snapshot:
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        except BaseException:
            if queued:
                assert self._writers is not None
                self._writers.leave()
            raise
        return Transaction(session, self._writers if queued else None)

    def checkpoint(self) -> None:
        """SQLite: copy what the write-ahead log holds into the database file, waiting for no
        one (a passive checkpoint), so that the next writer can start the log over; nothing
        on PostgreSQL.

        SQLite checkpoints by itself after a commit, but cannot finish while a read
        transaction is open: a writer that commits while others read keeps growing the log,
        and every page lookup then searches a longer log."""
        if not self._sqlite:
            return
        raw = self.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            raw.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()
