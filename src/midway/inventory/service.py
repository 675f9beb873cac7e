"""Stock: balances kept with an append-only ledger, in one transaction, never oversold.

An order's reservation (:func:`reserve`) is all or nothing and takes its row locks in a fixed
key order, so two reservations never deadlock:

* On PostgreSQL: one plain update per (facility, SKU) inside a savepoint, sent in one round
  trip. The CHECK ``reserved <= on_hand`` refuses the update that would oversell, after
  waiting for any concurrent writer of the row, and the savepoint is rolled back.
* On SQLite (writers are serialised by ``BEGIN IMMEDIATE``): one guarded update per key,
  ``… WHERE … AND on_hand - reserved >= :q``, inside a savepoint; a zero row count rolls the
  savepoint back.

Either way the caller gets InsufficientStock and re-plans. A bulk import's batch reserves
many keys at once (:func:`reserve_all`): on PostgreSQL it locks its rows in the same key order
with one statement and updates them with another. The CHECK constraints are the backstop
everywhere. The concurrency tests prove it on both databases.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from midway import reads
from midway.agreements import service as agreements
from midway.catalog import service as catalog
from midway.db import is_postgres, one_of, per_dialect, utcnow
from midway.errors import InvalidInput, NotFound
from midway.events.service import NewEvent, emit
from midway.facilities import service as facilities
from midway.facilities.models import Facility
from midway.inserts import insert_rows, wrapped
from midway.inventory.models import StockBalance, StockMovement
from midway.principal import Principal

MANUAL_KINDS = ("receipt", "adjustment", "count", "return")

Key = tuple[str, str]  # (facility_id, sku)


@dataclass(frozen=True)
class Movement:
    """A change to post: on hand and reserved deltas for one facility × SKU."""

    facility_id: str
    sku: str
    on_hand: int
    reserved: int


class InsufficientStock(Exception):
    """A guarded reservation found less available than asked (someone was faster)."""


def available(session: Session, merchant_id: str, keys: Iterable[Key]) -> dict[Key, int]:
    """Available units (on hand − reserved) for the given facility × SKU keys."""
    wanted = set(keys)
    if not wanted:
        return {}
    found = available_in(session, merchant_id, {f for f, _ in wanted}, {s for _, s in wanted})
    return {key: units for key, units in found.items() if key in wanted}


def available_in(
    session: Session, merchant_id: str, facility_ids: Iterable[str], skus: Iterable[str]
) -> dict[Key, int]:
    """Available units of every balance of these SKUs at these facilities (a missing key has
    no balance: nothing available)."""
    sites, codes = sorted(set(facility_ids)), sorted(set(skus))
    if not sites or not codes:
        return {}
    rows = reads.rows(session, _AVAILABLE, {"m": merchant_id, "f": sites, "s": codes})
    return {(f, s): int(a) for f, s, a in rows}


# Built once: every order reads the balances it may reserve.
_AVAILABLE = per_dialect(
    lambda dialect: select(
        StockBalance.facility_id, StockBalance.sku, StockBalance.on_hand - StockBalance.reserved
    ).where(
        StockBalance.merchant_id == bindparam("m"),
        one_of(StockBalance.facility_id, "f", dialect),
        one_of(StockBalance.sku, "s", dialect),
    )
)


def _ledger(
    session: Session,
    merchant_id: str,
    movements: Iterable[Movement],
    *,
    kind: str,
    reason: str,
    reference: str | None,
    actor: str,
) -> None:
    rows = _ledger_rows(
        merchant_id, movements, kind=kind, reason=reason, reference=reference, actor=actor
    )
    if rows:
        insert_rows(session, StockMovement, rows)


def _ledger_rows(
    merchant_id: str,
    movements: Iterable[Movement],
    *,
    kind: str,
    reason: str,
    reference: str | None,
    actor: str,
) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "merchant_id": merchant_id,
            "facility_id": m.facility_id,
            "sku": m.sku,
            "kind": kind,
            "on_hand_delta": m.on_hand,
            "reserved_delta": m.reserved,
            "reason": reason,
            "reference": reference,
            "actor_party_id": actor,
            "created_at": now,
        }
        for m in movements
    ]


# Built once: the guarded update of a reservation (an order's on SQLite, through the driver;
# a bulk batch's few keys on either database).
_GUARDED_RESERVE = (
    update(StockBalance)
    .where(
        StockBalance.merchant_id == bindparam("m"),
        StockBalance.facility_id == bindparam("f"),
        StockBalance.sku == bindparam("s"),
        StockBalance.on_hand - StockBalance.reserved >= bindparam("q"),
    )
    .values(reserved=StockBalance.reserved + bindparam("q"))
)


def reserve(session: Session, merchant_id: str, totals: Mapping[Key, int]) -> None:
    """Reserve one order's units, all or nothing: raises InsufficientStock having changed
    nothing when any key had fewer available than asked (the caller re-plans).

    On PostgreSQL the savepoint, the updates in key order and the savepoint's release go to
    the server together, in one round trip. The updates are not guarded by a WHERE clause:
    the CHECK ``reserved <= on_hand`` refuses the one that would oversell (after waiting for
    any concurrent writer of its row), which skips the rest and the release, and the
    savepoint is rolled back. On SQLite, whose writers are serialised, the guarded updates in
    a savepoint of the driver's, rolled back when one of them matched no row. Many keys on
    PostgreSQL: a savepoint around :func:`reserve_all`.
    """
    wanted = sorted((key, q) for key, q in totals.items() if q > 0)
    if not wanted:
        return
    connection = session.connection()
    driver = connection.connection.driver_connection
    if connection.dialect.name == "sqlite":
        _reserve_guarded(driver, connection.dialect, merchant_id, wanted)
    elif len(wanted) < SET_BASED_FROM_KEYS:
        _reserve_in_one_trip(driver, connection.dialect, merchant_id, wanted)
    else:
        with session.begin_nested():
            reserve_all(session, merchant_id, totals)


def _reserve_guarded(
    driver: Any, dialect: Dialect, merchant_id: str, wanted: list[tuple[Key, int]]
) -> None:
    sql, names = _guarded_for_driver(dialect)
    params = [
        tuple({"m": merchant_id, "f": f, "s": s, "q": q}[name] for name in names)
        for (f, s), q in wanted
    ]
    cursor = driver.cursor()
    try:
        cursor.execute(_SAVEPOINT)
        try:
            cursor.executemany(sql, params)
            short = len(wanted) - cursor.rowcount
        except dialect.loaded_dbapi.Error as error:
            cursor.execute(_ROLLBACK)
            cursor.execute(_RELEASE)
            raise wrapped(sql, params, error, dialect) from error
        if short:
            cursor.execute(_ROLLBACK)
            cursor.execute(_RELEASE)
            raise InsufficientStock(f"{short} of {len(wanted)} balances had too little")
        cursor.execute(_RELEASE)
    finally:
        cursor.close()


def _guarded_for_driver(dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """The guarded update as a positional driver takes it: its text and the names of its
    parameters in order (compiled once per database)."""
    known = _guarded_compiled.get(dialect.name)
    if known is None:
        compiled = _GUARDED_RESERVE.compile(dialect=dialect)
        known = _guarded_compiled[dialect.name] = (
            compiled.string,
            tuple(compiled.positiontup or ()),
        )
    return known


_guarded_compiled: dict[str, tuple[str, tuple[str, ...]]] = {}
_SAVEPOINT = "SAVEPOINT midway_reserve"
_RELEASE = "RELEASE SAVEPOINT midway_reserve"
_ROLLBACK = "ROLLBACK TO SAVEPOINT midway_reserve"
_UNGUARDED_RESERVE = (
    "UPDATE stock_balances SET reserved = reserved + %s"
    " WHERE merchant_id = %s AND facility_id = %s AND sku = %s"
)
OVERSELL_GUARD = "stock_reserved_within_on_hand"


def _reserve_in_one_trip(
    driver: Any, dialect: Dialect, merchant_id: str, wanted: list[tuple[Key, int]]
) -> None:
    params = [(q, merchant_id, f, s) for (f, s), q in wanted]
    control, updates = driver.cursor(), driver.cursor()
    failure: Exception | None = None
    try:
        with driver.pipeline() as pipeline:
            try:
                # Never prepared: a statement psycopg prepares in a pipeline that fails is
                # skipped by the server but remembered as prepared by the driver.
                control.execute(_SAVEPOINT, prepare=False)
                updates.executemany(_UNGUARDED_RESERVE, params)
                control.execute(_RELEASE, prepare=False)
                pipeline.sync()
            except dialect.loaded_dbapi.Error as error:
                failure = error  # raised below, once the pipeline is closed
                with contextlib.suppress(dialect.loaded_dbapi.Error):
                    pipeline.sync()  # what followed the error was skipped ("aborted")
        if failure is not None:
            refused = getattr(getattr(failure, "diag", None), "constraint_name", None)
            if refused != OVERSELL_GUARD:
                raise wrapped(_UNGUARDED_RESERVE, params, failure, dialect) from failure
            control.execute(_ROLLBACK, prepare=False)
            control.execute(_RELEASE, prepare=False)
            raise InsufficientStock("a balance had fewer available than asked")
        done = updates.rowcount
    finally:
        control.close()
        updates.close()
    if done != len(wanted):
        # Sourcing reserves only balances it has just read, and balances are never deleted.
        # The release has happened, so this transaction cannot be trusted any more: fail it.
        raise RuntimeError(f"{len(wanted) - done} stock balances are missing")


def reserve_all(session: Session, merchant_id: str, totals: Mapping[Key, int]) -> None:
    """Reserve ``totals`` (one order's units, or the summed units of a batch of orders).
    Raises InsufficientStock when any key had fewer available than asked; the caller rolls
    back its savepoint. The ledger rows are the caller's, one set per order
    (:func:`reservation_rows`).

    A few keys: one guarded update per key, sent as one batch in key order. Many keys on
    PostgreSQL (a bulk import's batch): the rows are locked in key order by one statement and
    updated by another, instead of hundreds of statements.
    """
    wanted = sorted((key, q) for key, q in totals.items() if q > 0)
    if not wanted:
        return
    connection = session.connection()
    if len(wanted) >= SET_BASED_FROM_KEYS and connection.dialect.name == "postgresql":
        arrays = {
            "m": merchant_id,
            "f": [f for (f, _), _ in wanted],
            "s": [s for (_, s), _ in wanted],
            "q": [q for _, q in wanted],
        }
        connection.execute(_LOCK_IN_ORDER, arrays)
        done = connection.execute(_RESERVE_LOCKED, arrays)
    else:
        params = [{"m": merchant_id, "f": f, "s": s, "q": q} for (f, s), q in wanted]
        done = connection.execute(_GUARDED_RESERVE, params)
    if done.rowcount != len(wanted):
        raise InsufficientStock(f"{len(wanted) - done.rowcount} of {len(wanted)} balances moved")


# From this many keys a PostgreSQL reservation locks and updates all rows in two statements.
SET_BASED_FROM_KEYS = 24

# Lock the rows in key order, then update them all; the guard is checked on rows nobody else
# can change any more. Key order is code point order, as Python sorts the keys for the
# one-by-one updates ("C" collation), so every reservation takes its locks in the same order
# and two never deadlock.
_LOCK_IN_ORDER = text(
    "SELECT 1 FROM stock_balances AS b"
    " JOIN unnest(CAST(:f AS text[]), CAST(:s AS text[])) AS w(f, s)"
    " ON b.facility_id = w.f AND b.sku = w.s"
    ' WHERE b.merchant_id = :m ORDER BY b.facility_id COLLATE "C", b.sku COLLATE "C"'
    " FOR UPDATE OF b"
)
_RESERVE_LOCKED = text(
    "UPDATE stock_balances AS b SET reserved = b.reserved + w.q"
    " FROM unnest(CAST(:f AS text[]), CAST(:s AS text[]), CAST(:q AS integer[])) AS w(f, s, q)"
    " WHERE b.merchant_id = :m AND b.facility_id = w.f AND b.sku = w.s"
    " AND b.on_hand - b.reserved >= w.q"
)


def reservation_rows(
    merchant_id: str, wanted: Mapping[Key, int], reference: str, actor: str
) -> list[dict[str, Any]]:
    """The ledger rows of one order's reservation (what :func:`reserve` posts)."""
    return _ledger_rows(
        merchant_id,
        [Movement(f, s, 0, q) for (f, s), q in sorted(wanted.items()) if q > 0],
        kind="reservation",
        reason="order_sourced",
        reference=reference,
        actor=actor,
    )


def release(
    session: Session,
    merchant_id: str,
    units: Mapping[Key, int],
    *,
    reason: str,
    reference: str,
    actor: str,
) -> None:
    """Give reserved units back to available stock."""
    _apply(
        session,
        merchant_id,
        {k: (0, -q) for k, q in units.items() if q > 0},
        kind="release",
        reason=reason,
        reference=reference,
        actor=actor,
    )


def ship(
    session: Session, merchant_id: str, units: Mapping[Key, int], *, reference: str, actor: str
) -> None:
    """Units leave the building: on hand and reserved both go down."""
    _apply(
        session,
        merchant_id,
        {k: (-q, -q) for k, q in units.items() if q > 0},
        kind="shipment",
        reason="shipped",
        reference=reference,
        actor=actor,
    )


def _apply(
    session: Session,
    merchant_id: str,
    deltas: Mapping[Key, tuple[int, int]],
    *,
    kind: str,
    reason: str,
    reference: str | None,
    actor: str,
) -> None:
    for facility_id, sku in sorted(deltas):
        on_hand, reserved = deltas[(facility_id, sku)]
        session.execute(
            update(StockBalance)
            .where(
                StockBalance.merchant_id == merchant_id,
                StockBalance.facility_id == facility_id,
                StockBalance.sku == sku,
            )
            .values(
                on_hand=StockBalance.on_hand + on_hand, reserved=StockBalance.reserved + reserved
            )
            .execution_options(synchronize_session=False)
        )
    _ledger(
        session,
        merchant_id,
        [Movement(f, s, *d) for (f, s), d in sorted(deltas.items())],
        kind=kind,
        reason=reason,
        reference=reference,
        actor=actor,
    )


def _ensure_row(session: Session, merchant_id: str, facility_id: str, sku: str) -> None:
    values = {
        "merchant_id": merchant_id,
        "facility_id": facility_id,
        "sku": sku,
        "on_hand": 0,
        "reserved": 0,
    }
    stmt = pg_insert(StockBalance) if is_postgres(session) else sqlite_insert(StockBalance)
    session.execute(stmt.values(**values).on_conflict_do_nothing())


def _stock_owner(
    session: Session, principal: Principal, facility: Facility, merchant_id: str | None
) -> str:
    if principal.is_merchant:
        if merchant_id not in (None, principal.party_id):
            raise InvalidInput("a merchant posts only its own stock", field="merchant_id")
        return principal.party_id
    if merchant_id is None:
        raise InvalidInput("a provider must say whose stock this is", field="merchant_id")
    if not agreements.serves(
        session, merchant_id=merchant_id, provider_id=principal.party_id, facility_id=facility.id
    ):
        raise NotFound(
            f"no active agreement with merchant {merchant_id} covers facility '{facility.code}'",
            field="merchant_id",
        )
    return merchant_id


def post(
    session: Session,
    principal: Principal,
    *,
    facility_code: str,
    sku: str,
    quantity: int,
    kind: str,
    reason: str,
    reference: str | None,
    merchant_id: str | None,
    source: str | None = None,
) -> StockBalance:
    """Post a receipt, adjustment, count correction or restocked return at a facility the
    caller runs; returns the new balance. ``source`` (say, the id of the EDI document that
    reported it) is carried in the event."""
    principal.require("operator")
    if kind not in MANUAL_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(MANUAL_KINDS)}", field="kind")
    if quantity == 0:
        raise InvalidInput("quantity must not be zero", field="quantity")
    if kind in ("receipt", "return") and quantity < 0:
        raise InvalidInput(f"a {kind} adds stock: quantity must be positive", field="quantity")
    if not reason.strip():
        raise InvalidInput("say why (reason)", field="reason")
    facility = facilities.own_facility(session, principal, facility_code)
    owner = _stock_owner(session, principal, facility, merchant_id)
    catalog.get_sku(session, owner, sku)
    _ensure_row(session, owner, facility.id, sku)
    before = session.scalar(
        select(StockBalance.on_hand).where(
            StockBalance.merchant_id == owner,
            StockBalance.facility_id == facility.id,
            StockBalance.sku == sku,
        )
    )
    guard = [] if quantity > 0 else [StockBalance.on_hand - StockBalance.reserved >= -quantity]
    done = session.execute(
        update(StockBalance)
        .where(
            StockBalance.merchant_id == owner,
            StockBalance.facility_id == facility.id,
            StockBalance.sku == sku,
            *guard,
        )
        .values(on_hand=StockBalance.on_hand + quantity)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidInput(
            f"cannot remove {-quantity} of {sku} at {facility_code}: more than is on hand and "
            "not reserved (release or ship reservations first)",
            field="quantity",
            code="insufficient_unreserved_stock",
        )
    _ledger(
        session,
        owner,
        [Movement(facility.id, sku, quantity, 0)],
        kind=kind,
        reason=reason.strip(),
        reference=reference,
        actor=principal.party_id,
    )
    emit(
        session,
        [
            NewEvent(
                type="inventory.adjusted" if kind != "receipt" else "inventory.received",
                merchant_id=owner,
                provider_id=principal.party_id if principal.is_provider else None,
                subject_type="sku",
                subject_id=sku,
                actor_party_id=principal.party_id,
                data={
                    "facility_code": facility.code,
                    "sku": sku,
                    "quantity": quantity,
                    "kind": kind,
                    "reason": reason,
                    "reference": reference,
                    **({"source": source} if source else {}),
                },
            )
        ],
    )
    if kind == "count":
        emit(
            session,
            [
                NewEvent(
                    type="inventory.counted",
                    merchant_id=owner,
                    provider_id=principal.party_id if principal.is_provider else None,
                    subject_type="sku",
                    subject_id=sku,
                    actor_party_id=principal.party_id,
                    data={
                        "facility_id": facility.id,
                        "facility_code": facility.code,
                        "sku": sku,
                        "expected": before or 0,
                        "counted": (before or 0) + quantity,
                    },
                )
            ],
        )
    balance = session.get(StockBalance, (owner, facility.id, sku), populate_existing=True)
    assert balance is not None
    return balance


def _scope(principal: Principal, merchant_id: str | None) -> list[object]:
    if principal.is_merchant:
        return [StockBalance.merchant_id == principal.party_id]
    own = select(Facility.id).where(Facility.party_id == principal.party_id)
    conditions: list[object] = [StockBalance.facility_id.in_(own)]
    if merchant_id:
        conditions.append(StockBalance.merchant_id == merchant_id)
    return conditions


def balances(
    session: Session,
    principal: Principal,
    *,
    sku: str | None,
    facility_code: str | None,
    merchant_id: str | None = None,
) -> list[tuple[StockBalance, Facility]]:
    """Balances the caller may see: a merchant its own stock everywhere; a provider the stock
    at its own facilities."""
    query = (
        select(StockBalance, Facility)
        .join(Facility, Facility.id == StockBalance.facility_id)
        .where(*_scope(principal, merchant_id))  # type: ignore[arg-type]
        .order_by(StockBalance.sku, Facility.code)
    )
    if sku:
        query = query.where(StockBalance.sku == sku)
    if facility_code:
        query = query.where(Facility.code == facility_code)
    return [(b, f) for b, f in session.execute(query).all()]


def ledger(
    session: Session,
    principal: Principal,
    *,
    sku: str | None,
    facility_code: str | None,
    after: int | None,
    limit: int,
) -> list[tuple[StockMovement, Facility]]:
    """Ledger rows the caller may see, oldest first, after a cursor."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", field="limit")
    if principal.is_merchant:
        scope = StockMovement.merchant_id == principal.party_id
    else:
        scope = StockMovement.facility_id.in_(
            select(Facility.id).where(Facility.party_id == principal.party_id)
        )
    query = (
        select(StockMovement, Facility)
        .join(Facility, Facility.id == StockMovement.facility_id)
        .where(scope)
        .order_by(StockMovement.id)
        .limit(limit)
    )
    if sku:
        query = query.where(StockMovement.sku == sku)
    if facility_code:
        query = query.where(Facility.code == facility_code)
    if after is not None:
        query = query.where(StockMovement.id > after)
    return [(m, f) for m, f in session.execute(query).all()]


def ledger_matches_balances(session: Session, merchant_id: str) -> list[str]:
    """Differences between the ledger sums and the balances (empty when the books agree)."""
    sums = {
        (f, s): (int(o), int(r))
        for f, s, o, r in session.execute(
            select(
                StockMovement.facility_id,
                StockMovement.sku,
                func.sum(StockMovement.on_hand_delta),
                func.sum(StockMovement.reserved_delta),
            )
            .where(StockMovement.merchant_id == merchant_id)
            .group_by(StockMovement.facility_id, StockMovement.sku)
        ).all()
    }
    problems = []
    for b in session.scalars(select(StockBalance).where(StockBalance.merchant_id == merchant_id)):
        ledger_sum = sums.pop((b.facility_id, b.sku), (0, 0))
        if ledger_sum != (b.on_hand, b.reserved):
            problems.append(
                f"{b.sku}@{b.facility_id}: balance {(b.on_hand, b.reserved)} ledger {ledger_sum}"
            )
    problems += [
        f"{s}@{f}: ledger {v} without balance" for (f, s), v in sums.items() if v != (0, 0)
    ]
    return problems


def restock_return(
    session: Session,
    merchant_id: str,
    facility_id: str,
    sku: str,
    quantity: int,
    *,
    reference: str,
    actor: str,
) -> None:
    """Returned units go back on hand (the returns service has checked who may decide)."""
    if quantity <= 0:
        return
    _ensure_row(session, merchant_id, facility_id, sku)
    _apply(
        session,
        merchant_id,
        {(facility_id, sku): (quantity, 0)},
        kind="return",
        reason="return_restocked",
        reference=reference,
        actor=actor,
    )
