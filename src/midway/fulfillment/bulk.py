"""Bulk order intake from JSON Lines or CSV: each order accepted or rejected on its own.

Orders are applied in batches (see :mod:`midway.fulfillment.batch`), one transaction per
batch; a bad order is refused alone and nothing of it is left half-written. While one batch
is finished by a second thread (written and committed on PostgreSQL, committed on SQLite), the
next is read, checked and sourced.
"""

from __future__ import annotations

import csv
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from midway import heap
from midway.cells import whole_number
from midway.db import Database, Transaction
from midway.errors import field_path
from midway.fulfillment import batch, intake
from midway.orders.models import Order
from midway.orders.schemas import OrderIn
from midway.orders.service import OrderInput
from midway.principal import Principal

SHIP_TO_COLUMNS = (
    "name",
    "company",
    "address1",
    "address2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
    "email",
)


@dataclass(frozen=True)
class Record:
    """One order read from a file, or why it could not be read; ``line`` is where it starts.

    An ``error`` that comes with ``data`` is a value the reader refused (``field`` names it):
    the order is refused as invalid input."""

    line: int
    data: dict[str, Any] | None
    error: str | None = None
    field: str | None = None


@dataclass(frozen=True)
class Rejection:
    """An order that was not accepted, with where and why."""

    line: int
    external_id: str | None
    code: str
    field: str | None
    reason: str


@dataclass
class ImportReport:
    """What an import did."""

    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe summary."""
        return {
            "accepted": self.accepted,
            "rejected": len(self.rejected),
            "rejections": [r.__dict__ for r in self.rejected],
        }


def read_jsonl(path: Path) -> Iterator[Record]:
    """One order per line, shaped like the body of ``POST /v1/orders``."""
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield Record(number, None, f"malformed JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(data, dict):
                yield Record(number, None, "each line must be a JSON object")
                continue
            yield Record(number, data)


def read_csv(path: Path) -> Iterator[Record]:
    """One row per order line; consecutive rows with the same channel and external_id form
    one order. Columns: channel, external_id, ship_to_<field>, sku, quantity, unit_price,
    currency. A quantity that is not a whole number refuses its order, naming the line and
    the column."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        needed = {"channel", "external_id", "sku", "quantity"}
        missing = needed - set(reader.fieldnames or [])
        if missing:
            yield Record(1, None, f"CSV header lacks column(s): {', '.join(sorted(missing))}")
            return
        current: dict[str, Any] | None = None
        start = 0
        problem: str | None = None
        where: str | None = None
        for row in reader:
            key = (row.get("channel"), row.get("external_id"))
            if current is None or (current["channel"], current["external_id"]) != key:
                if current is not None:
                    yield Record(start, current, problem, where)
                start = reader.line_num
                problem = where = None
                current = {
                    "channel": row.get("channel") or "",
                    "external_id": row.get("external_id") or "",
                    "ship_to": {
                        c: row.get(f"ship_to_{c}") or None
                        for c in SHIP_TO_COLUMNS
                        if row.get(f"ship_to_{c}")
                    },
                    "lines": [],
                }
                if row.get("currency"):
                    current["currency"] = row["currency"]
            cell = (row.get("quantity") or "").strip()
            quantity = whole_number(cell)
            if quantity is None and problem is None:
                what = f"{cell!r} is not a whole number" if cell else "is empty"
                problem = f"line {reader.line_num}, column quantity: {what}"
                where = f"lines[{len(current['lines'])}].quantity"
            line: dict[str, Any] = {
                "sku": row.get("sku") or "",
                "quantity": cell if quantity is None else quantity,
            }
            if row.get("unit_price"):
                line["unit_price"] = row["unit_price"]
            current["lines"].append(line)
        if current is not None:
            yield Record(start, current, problem, where)


def read_orders(path: Path) -> Iterator[Record]:
    """Records from a .csv file or a JSON Lines file (any other extension)."""
    return read_csv(path) if path.suffix.lower() == ".csv" else read_jsonl(path)


def _first_error(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    return field_path(err["loc"]), err["msg"]


def import_orders(
    db: Database,
    principal: Principal,
    records: Iterable[Record],
    *,
    batch_size: int = 200,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Place every readable, valid order; report the others with their line and reason.

    Each batch is one transaction (:func:`batch.write_batch`); a refused order writes nothing
    and does not affect the others. While one batch is being finished by a second thread, the
    next is read (in a short read transaction, against the stock less what the unfinished
    batch takes) and sourced, so the database and Python work at the same time. If stock
    moved in between, the guarded reservation notices and that batch is placed one order at a
    time. The objects alive when the import starts are kept out of garbage collection passes
    meanwhile (:func:`heap.frozen`)."""
    report = ImportReport()
    with heap.frozen():
        if db.serial_writes:
            _import_commit_behind(db, principal, records, batch_size, report, on_progress)
        else:
            _import_write_behind(db, principal, records, batch_size, report, on_progress)
    return report


def _import_write_behind(
    db: Database,
    principal: Principal,
    records: Iterable[Record],
    batch_size: int,
    report: ImportReport,
    on_progress: Callable[[int], None] | None,
) -> None:
    """PostgreSQL: each batch read and planned while the one before it is written and
    committed by a second thread (whose waits on the server let planning run)."""
    in_flight: deque[tuple[_Chunk, batch.BatchPlan, Future[list[batch.Outcome]]]] = deque()
    # Held while a batch commits and while the next one takes its snapshot, so that planning
    # knows exactly which batches its snapshot contains.
    gate = threading.Lock()

    def write(plan: batch.BatchPlan) -> list[batch.Outcome]:
        unit, outcomes = _write(db, principal, plan)
        with gate:
            unit.finish()
            plan.committed = True
        return outcomes

    def collect() -> None:
        chunk, _, future = in_flight.popleft()
        _done(report, on_progress, chunk, future.result())

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="midway-import") as writer:
        try:
            for chunk in _chunks(records, batch_size):
                with db.transaction(write=False, snapshot=True) as session:
                    with gate:
                        session.execute(_SNAPSHOT)  # the snapshot starts with the first read
                        unseen = [plan for _, plan, _ in in_flight if not plan.committed]
                    facts = batch.read_batch(session, principal, chunk.inputs, unseen)
                plan = batch.plan(principal, facts)
                in_flight.append((chunk, plan, writer.submit(write, plan)))
                while len(in_flight) > 1:
                    collect()
            while in_flight:
                collect()
        finally:
            for _, _, future in in_flight:
                future.cancel()


def _import_commit_behind(
    db: Database,
    principal: Principal,
    records: Iterable[Record],
    batch_size: int,
    report: ImportReport,
    on_progress: Callable[[int], None] | None,
) -> None:
    """SQLite: each batch is read and planned while a second thread commits the one before it
    and checkpoints the log.

    The rows themselves are written here: SQLite's driver lets go of the interpreter lock for
    every row it steps, so a second thread writing rows would take turns with planning row by
    row, while a commit is one call. The read's snapshot is taken before the commit it
    overlaps starts, so it never holds that batch (which counts as unseen), and the
    checkpoint waits for the read to end: a log checkpointed while someone reads cannot
    start over, and every page lookup then searches a longer log."""
    written: _Written | None = None  # written, its commit not started
    committing: tuple[Future[None], _Written] | None = None

    def commit(unit: Transaction, reads_over: threading.Event) -> None:
        unit.finish()
        reads_over.wait()
        db.checkpoint()

    def settle() -> None:
        nonlocal committing
        if committing is None:
            return
        (future, done), committing = committing, None
        future.result()
        _done(report, on_progress, done.chunk, done.outcomes)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="midway-import") as committer:
        try:
            for chunk in _chunks(records, batch_size):
                reads_over = threading.Event()
                try:
                    with db.transaction(write=False) as session:
                        session.execute(_SNAPSHOT)  # the snapshot starts with the first read
                        unseen = []
                        if written is not None:
                            future = committer.submit(commit, written.unit, reads_over)
                            committing, unseen, written = (future, written), [written.plan], None
                        facts = batch.read_batch(session, principal, chunk.inputs, unseen)
                finally:
                    reads_over.set()
                plan = batch.plan(principal, facts)
                settle()  # one writer at a time: the previous batch is committed first
                unit, outcomes = _write(db, principal, plan)
                written = _Written(chunk, plan, unit, outcomes)
            if written is not None:
                reads_over = threading.Event()
                reads_over.set()  # nothing left to read
                future = committer.submit(commit, written.unit, reads_over)
                committing, written = (future, written), None
            settle()
        finally:
            if written is not None:
                written.unit.abort()


def _write(
    db: Database, principal: Principal, plan: batch.BatchPlan
) -> tuple[Transaction, list[batch.Outcome]]:
    """A planned batch written in a transaction of its own, left open for the caller to end."""
    unit = db.begin()
    try:
        return unit, batch.write_batch(unit.session, principal, plan)
    except BaseException:
        unit.abort()
        raise


# A read of a table: it starts the transaction's snapshot (on SQLite, a statement that reads
# no table does not).
_SNAPSHOT = select(Order.id).limit(1)


@dataclass
class _Chunk:
    """A slice of the input: the records that parsed, and the refusals of those that did not."""

    readable: list[tuple[Record, OrderIn]]
    refused: list[Rejection]
    size: int

    @property
    def inputs(self) -> list[OrderInput]:
        return [body.to_input() for _, body in self.readable]


@dataclass
class _Written:
    chunk: _Chunk
    plan: batch.BatchPlan
    unit: Transaction
    outcomes: list[batch.Outcome]


def _chunks(records: Iterable[Record], size: int) -> Iterator[_Chunk]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield _parse(chunk)
            chunk = []
    if chunk:
        yield _parse(chunk)


def _done(
    report: ImportReport,
    on_progress: Callable[[int], None] | None,
    chunk: _Chunk,
    outcomes: list[batch.Outcome],
) -> None:
    _report(report, chunk.readable, chunk.refused, outcomes)
    if on_progress:
        on_progress(chunk.size)


def _parse(records: list[Record]) -> _Chunk:
    readable: list[tuple[Record, OrderIn]] = []
    refused: list[Rejection] = []
    for record in records:
        if record.data is None:
            refused.append(
                Rejection(record.line, None, "unreadable", None, record.error or "unreadable")
            )
            continue
        if record.error is not None:
            refused.append(
                Rejection(
                    record.line,
                    _external_id(record),
                    "invalid_input",
                    record.field,
                    record.error,
                )
            )
            continue
        try:
            readable.append((record, OrderIn.model_validate(record.data)))
        except ValidationError as exc:
            where, message = _first_error(exc)
            refused.append(
                Rejection(record.line, _external_id(record), "invalid_input", where, message)
            )
    return _Chunk(readable, refused, len(records))


def _report(
    report: ImportReport,
    readable: list[tuple[Record, OrderIn]],
    refused: list[Rejection],
    outcomes: list[batch.Outcome],
) -> None:
    for (record, _), outcome in zip(readable, outcomes, strict=True):
        if isinstance(outcome, intake.Placed):
            report.accepted += 1
            report.order_ids.append(outcome.order.id)
            continue
        refused.append(
            Rejection(
                record.line,
                _external_id(record),
                outcome.code,
                getattr(outcome, "field", None) or getattr(outcome, "extra", {}).get("field"),
                str(outcome),
            )
        )
    report.rejected += sorted(refused, key=lambda r: r.line)  # batches come in file order


def _external_id(record: Record) -> str | None:
    value = (record.data or {}).get("external_id")
    return value if isinstance(value, str) else None
