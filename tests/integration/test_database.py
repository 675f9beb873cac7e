"""The database layer itself: fast inserts store what SQLAlchemy would, errors surface as
SQLAlchemy's, and pooled PostgreSQL connections that died are replaced before use."""

from __future__ import annotations

import gc
import importlib.util
import multiprocessing
import re
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anyio
import psycopg
import pytest
from anyio import to_thread
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

import midway.db
from midway import heap, reads
from midway.app import create_app
from midway.db import Database, new_id, one_of, per_dialect
from midway.events.models import Event
from midway.inserts import COPY_FROM_ROWS, insert_rows, insert_tables
from midway.orders import service as orders
from midway.orders.models import Order, OrderLine
from midway.parties import service as parties
from midway.settings import Settings


def _merchant(db: Database) -> str:
    with db.transaction() as session:
        party, _key = parties.create_party(session, kind="merchant", name="Rows Inc")
        return party.id


def _order_row(merchant_id: str, n: int, **changes: object) -> dict[str, object]:
    at = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC) + timedelta(minutes=n)
    row: dict[str, object] = {
        "id": new_id("ord"),
        "merchant_id": merchant_id,
        "channel": "web",
        "external_id": f"E-{n}",
        "status": "open",
        "ship_to": {"country": "DE", "name": f"Kundin {n} ✓", "nested": {"k": [1, None, "x"]}},
        "currency": "EUR",
        "order_value": Decimal("12.345") * n,
        "sourcing": [],
        "placed_at": at,
        "ship_by": None,
        "promised_delivery": at + timedelta(days=2),
        "created_at": at,
        "updated_at": at,
    }
    row.update(changes)
    return row


def _stored(db: Database, merchant_id: str) -> list[tuple[object, ...]]:
    with db.transaction(write=False) as session:
        orders_ = session.scalars(
            select(Order).where(Order.merchant_id == merchant_id).order_by(Order.external_id)
        )
        return [
            (
                o.external_id,
                o.ship_to,
                o.order_value,
                o.placed_at,
                o.ship_by,
                o.promised_delivery,
                o.sourcing,
            )
            for o in orders_
        ]


@pytest.mark.parametrize("count", [3, COPY_FROM_ROWS + 2])
def test_fast_inserts_store_what_sqlalchemy_stores(db: Database, count: int) -> None:
    """The same rows through SQLAlchemy's insert and through insert_rows read back equal
    (datetimes, money, JSON, NULLs), for a small table and for one big enough to be copied."""
    ours, theirs = _merchant(db), _merchant(db)
    with db.transaction() as session:
        insert_rows(session, Order, [_order_row(ours, n) for n in range(count)])
        session.execute(insert(Order), [_order_row(theirs, n) for n in range(count)])
    mine, reference = _stored(db, ours), _stored(db, theirs)
    assert len(mine) == count
    assert mine == reference
    assert mine[1][2] == Decimal("12.345")
    placed_at = mine[1][3]
    assert isinstance(placed_at, datetime)
    assert placed_at.tzinfo is UTC


_ORDER_COLUMNS = per_dialect(
    lambda dialect: (
        select(
            Order.external_id,
            Order.status,
            Order.ship_to,
            Order.order_value,
            Order.placed_at,
            Order.ship_by,
            Order.sourcing,
        )
        .where(
            Order.merchant_id == bindparam("m"),
            one_of(Order.external_id, "ids", dialect),
            Order.status != "cancelled",  # a literal of the statement's own
        )
        .order_by(Order.external_id)
    )
)


def test_direct_reads_return_what_sqlalchemy_returns(db: Database) -> None:
    """reads.rows gives the values an ordinary execute gives (UTC datetimes, money, JSON,
    NULLs), with the statement's own literals and an array parameter."""
    merchant = _merchant(db)
    with db.transaction() as session:
        insert_rows(session, Order, [_order_row(merchant, n) for n in range(4)])
        insert_rows(session, Order, [_order_row(merchant, 9, status="cancelled")])
    params = {"m": merchant, "ids": ["E-1", "E-3", "E-9", "E-404"]}
    with db.transaction(write=False) as session:
        reference = [
            tuple(r) for r in session.execute(_ORDER_COLUMNS[db.engine.dialect.name], params)
        ]
        for _ in range(7):  # past psycopg's prepare threshold
            got = [tuple(r) for r in reads.rows(session, _ORDER_COLUMNS, params)]
            assert got == reference
    assert [r[0] for r in got] == ["E-1", "E-3"]
    assert got[0][3] == Decimal("12.345") and got[0][4].tzinfo is UTC and got[0][5] is None
    assert got[0][2]["nested"] == {"k": [1, None, "x"]}


def test_a_failed_direct_read_is_sqlalchemys_error(db: Database) -> None:
    with db.transaction(write=False) as session, pytest.raises(DBAPIError):
        reads.rows(session, _ORDER_COLUMNS, {"m": object(), "ids": []})  # no driver takes it


def test_tables_are_written_parents_first_and_events_keep_their_order(db: Database) -> None:
    merchant = _merchant(db)
    order = _order_row(merchant, 1)
    lines = [
        {
            "id": new_id("oln"),
            "order_id": order["id"],
            "merchant_id": merchant,
            "line_no": i + 1,
            "sku": f"SKU-{i}",
            "quantity": i + 1,
            "cancelled_quantity": 0,
            "unit_price": None,
        }
        for i in range(60)
    ]
    now = datetime.now(UTC)
    events = [
        {
            "id": new_id("evt"),
            "type": f"test.step_{i:02d}",
            "merchant_id": merchant,
            "provider_id": None,
            "subject_type": "order",
            "subject_id": order["id"],
            "actor_party_id": merchant,
            "data": {"step": i},
            "dispatched": False,
            "created_at": now,
        }
        for i in range(12)
    ]
    with db.transaction() as session:
        insert_tables(session, [(Order, [order]), (OrderLine, lines), (Event, events)])
    with db.transaction(write=False) as session:
        stored_lines = session.scalars(
            select(OrderLine.quantity).where(OrderLine.order_id == order["id"])
        ).all()
        types = session.scalars(
            select(Event.type).where(Event.subject_id == order["id"]).order_by(Event.seq)
        ).all()
    assert sorted(stored_lines) == list(range(1, 61))
    assert types == [f"test.step_{i:02d}" for i in range(12)]


@pytest.mark.parametrize("count", [1, COPY_FROM_ROWS])
def test_a_duplicate_order_is_an_integrity_error_named_by_its_key(db: Database, count: int) -> None:
    merchant = _merchant(db)
    with db.transaction() as session:
        insert_rows(session, Order, [_order_row(merchant, 7)])
    rows = [_order_row(merchant, 100 + n) for n in range(count - 1)] + [_order_row(merchant, 7)]
    with pytest.raises(IntegrityError) as raised, db.transaction() as session:
        insert_rows(session, Order, rows)
    assert orders.is_duplicate(raised.value)
    assert len(_stored(db, merchant)) == 1  # nothing of the failed lot was kept


def test_other_integrity_errors_are_not_taken_for_duplicates(db: Database) -> None:
    merchant = _merchant(db)
    line = {
        "id": new_id("oln"),
        "order_id": "ord_missing",
        "merchant_id": merchant,
        "line_no": 1,
        "sku": "X",
        "quantity": 1,
        "cancelled_quantity": 0,
        "unit_price": None,
    }
    with pytest.raises(IntegrityError) as raised, db.transaction() as session:
        insert_rows(session, OrderLine, [line])
    assert not orders.is_duplicate(raised.value)


def test_a_savepoint_rolls_back_a_failed_fast_insert(db: Database) -> None:
    merchant = _merchant(db)
    with db.transaction() as session:
        insert_rows(session, Order, [_order_row(merchant, 1)])
        with pytest.raises(IntegrityError), session.begin_nested():
            insert_rows(session, Order, [_order_row(merchant, 2), _order_row(merchant, 1)])
        insert_rows(session, Order, [_order_row(merchant, 3)])
    assert [r[0] for r in _stored(db, merchant)] == ["E-1", "E-3"]


def test_rows_of_one_table_must_name_the_same_columns(db: Database) -> None:
    merchant = _merchant(db)
    odd = _order_row(merchant, 2)
    del odd["ship_by"]
    with pytest.raises(ValueError, match="ship_by"), db.transaction() as session:
        insert_rows(session, Order, [_order_row(merchant, 1), odd])


def _backend_pid(db: Database) -> int:
    with db.transaction(write=False) as session:
        return int(session.scalar(text("SELECT pg_backend_pid()")) or 0)


def _terminate(url: str, pid: int) -> None:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_pooled_connection_that_died_while_idle_is_replaced(db: Database) -> None:
    """The server closed the pooled connection: it is pinged on checkout (it sat idle longer
    than the threshold) and replaced, so the next transaction works."""
    pinged = Database(db.url, pool_size=1, ping_after_idle=0.0)
    try:
        dead = _backend_pid(pinged)
        _terminate(db.url, dead)
        assert _backend_pid(pinged) not in (0, dead)
    finally:
        pinged.dispose()


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_connection_used_moments_ago_is_not_pinged(db: Database) -> None:
    """Within the idle threshold no ping is sent, so a connection killed in that window fails
    its next use (the round trip saved under load; the test shows the check is real)."""
    trusting = Database(db.url, pool_size=1, ping_after_idle=3600.0)
    try:
        _terminate(db.url, _backend_pid(trusting))
        with pytest.raises(OperationalError):
            _backend_pid(trusting)
        assert _backend_pid(trusting) > 0  # SQLAlchemy dropped the broken connection
    finally:
        trusting.dispose()


def test_fastapi_telemetry_follows_the_opentelemetry_sdk() -> None:
    """Without an OpenTelemetry SDK to receive them, FastAPI's spans and metrics are off (no
    request looks for a provider); with one, they are on."""
    from midway.app import _telemetry

    try:
        installed = importlib.util.find_spec("opentelemetry.sdk") is not None
    except ModuleNotFoundError:
        installed = False
    config = _telemetry().get("telemetry")
    if config is None:
        pytest.skip("this FastAPI has no built-in telemetry")
    assert config == {"tracing": installed, "metrics": installed, "logs": installed}


def test_the_api_runs_no_more_request_threads_than_pooled_connections(db: Database) -> None:
    """More threads than pooled connections would open and close overflow connections under
    a burst (a new PostgreSQL backend each); the app caps its thread pool at the pool size."""
    app = create_app(Settings(database_url=db.url), database=db)

    async def started() -> float:
        async with app.router.lifespan_context(app):
            return to_thread.current_default_thread_limiter().total_tokens

    assert anyio.run(started) == db.pool_size == 40


def test_a_transaction_can_be_finished_by_another_thread(db: Database) -> None:
    """Bulk import commits a batch in a second thread while it plans the next: the commit
    there keeps the rows and lets the next writer in (on SQLite, the writer line is left)."""
    merchant_id = _merchant(db)
    unit = db.begin()
    insert_rows(unit.session, Order, [_order_row(merchant_id, 1)])
    finisher = threading.Thread(target=unit.finish)
    finisher.start()
    finisher.join(10)
    assert not finisher.is_alive()

    done = threading.Event()

    def write_again() -> None:  # would wait forever if the line had not been left
        with db.transaction() as session:
            insert_rows(session, Order, [_order_row(merchant_id, 2)])
        done.set()

    threading.Thread(target=write_again, daemon=True).start()
    assert done.wait(10)
    with db.transaction(write=False) as session:
        stored = session.scalars(select(Order.external_id).where(Order.merchant_id == merchant_id))
        assert sorted(stored) == ["E-1", "E-2"]


def test_an_aborted_transaction_keeps_nothing_and_lets_the_next_writer_in(db: Database) -> None:
    merchant_id = _merchant(db)
    unit = db.begin()
    insert_rows(unit.session, Order, [_order_row(merchant_id, 1)])
    unit.abort()
    with db.transaction() as session:
        insert_rows(session, Order, [_order_row(merchant_id, 2)])
    with db.transaction(write=False) as session:
        stored = session.scalars(select(Order.external_id).where(Order.merchant_id == merchant_id))
        assert list(stored) == ["E-2"]


def test_a_checkpoint_copies_the_sqlite_log_into_the_database_file(sqlite_db: Database) -> None:
    """Committed pages sit in the write-ahead log until a checkpoint copies them into the
    database file (SQLite does so on its own only once the log holds 1,000 pages)."""
    path = Path(sqlite_db.url.removeprefix("sqlite:///"))
    sqlite_db.checkpoint()
    with sqlite_db.transaction() as session:
        session.execute(text("CREATE TABLE filler (payload BLOB)"))
        session.execute(text("INSERT INTO filler VALUES (zeroblob(2000000))"))
    before = path.stat().st_size
    sqlite_db.checkpoint()
    assert path.stat().st_size >= before + 2_000_000


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_a_checkpoint_on_postgresql_does_nothing(db: Database) -> None:
    db.checkpoint()  # PostgreSQL checkpoints by itself; no error, no statement
    with db.transaction(write=False) as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1


def test_ids_are_unique_across_threads_and_fresh_in_a_forked_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The random parts of ids come from a shared draw of random bytes: threads never take the
    same one, and a forked child does not repeat the ids its parent is about to hand out, even
    within the same millisecond (the clock stands still here)."""
    monkeypatch.setattr(midway.db, "_milliseconds", lambda: 1_790_000_000_000)
    taken: list[list[str]] = []

    def take() -> None:
        taken.append([new_id("ord") for _ in range(5_000)])

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for ids in taken for i in ids]
    assert len(set(everything)) == len(everything) == 20_000
    assert all(re.fullmatch(r"ord_[0-9a-hjkmnp-tv-z]{20}", i) for i in everything)

    new_id("ord")  # the parent is now part-way through a draw
    context = multiprocessing.get_context("fork")
    parent_end, child_end = context.Pipe()

    def child() -> None:
        child_end.send([new_id("ord") for _ in range(300)])

    process = context.Process(target=child)
    process.start()
    from_child = parent_end.recv()
    process.join(10)
    from_parent = [new_id("ord") for _ in range(300)]
    assert not set(from_child) & set(from_parent)


def test_ids_begin_with_the_millisecond_they_were_made_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids made later sort after those made earlier, so rows written together sit together in
    an index; ids of the same millisecond differ in their random part."""
    clock = iter([1_790_000_000_000] * 3 + [1_790_000_000_001] * 3 + [2**45 - 1])
    monkeypatch.setattr(midway.db, "_milliseconds", lambda: next(clock))
    first = [new_id("evt") for _ in range(3)]
    second = [new_id("evt") for _ in range(3)]
    last = new_id("evt")
    assert len({i[4:13] for i in first}) == 1 and len(set(first)) == 3
    assert max(first) < min(second)
    assert last[4:13] == "zzzzzzzzz"  # 45 bits of milliseconds last until the year 3084
    assert sorted([*second, last, *first]) == sorted(first) + sorted(second) + [last]
    value = 0
    for char in first[0][4:13]:
        value = value * 32 + "0123456789abcdefghjkmnpqrstvwxyz".index(char)
    assert value == 1_790_000_000_000


def test_a_frozen_heap_is_handed_back_when_the_outermost_job_ends() -> None:
    before = gc.get_freeze_count()
    with heap.frozen():
        frozen = gc.get_freeze_count()
        assert frozen > before
        with heap.frozen():  # a job inside a job (an EDI file received by the API server)
            pass
        assert gc.get_freeze_count() == frozen  # the inner end keeps the outer freeze
    assert gc.get_freeze_count() == before
