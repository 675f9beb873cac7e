"""The billing meter: the billable usage of one agreement in one period, read from the record.

A period is a calendar month in the local time of each facility of the agreement (a parcel
shipped at 23:30 on 31 October in Chicago belongs to October even though it is 1 November in
UTC). Sources, and what each charge counts:

* ``receiving`` — ledger rows of kind ``receipt`` at the agreement's facilities: units, or
  cartons/pallets rounded up per row from the card's pack sizes;
* ``storage`` (and its aged and peak codes) — the ledger's on-hand changes, first in, first
  out (:mod:`midway.core.billing_storage`), with SKU volumes from the catalog;
* ``fulfillment_order``, ``fulfillment_extra_unit``, ``special_handling:<tag>``, carrier
  pass-through — shipments (:mod:`midway.billing.meter_orders`);
* ``branded_inserts``/``kitting``/``labeling`` — tasks of that process owned by the provider
  and done in the period (per order: one per task; per unit: units shipped of its SKUs);
* ``returns_return``/``returns_unit`` — ``return.received`` events of the agreement.

Processes the agreement's matrix gives to the merchant are not metered (receiving, storage
and returns receiving per SKU or return; fulfillment when packing is not the provider's;
value-added tasks by the owner recorded on each task).
"""

from __future__ import annotations

import gc
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Text, cast, func, select, text
from sqlalchemy.orm import Session

from midway.billing.window import RawTime, Window, fetch
from midway.catalog.models import Sku
from midway.core.billing_invoice import Usage
from midway.core.billing_storage import (
    StockChange,
    daily_usage,
    in_volume_unit,
    lookback_days,
    unit_volume_m3,
)
from midway.core.matrix import Context, Matrix, resolve
from midway.core.rating import (
    RECEIVING,
    RETURNS_RETURN,
    RETURNS_UNIT,
    SPECIAL_HANDLING_PREFIX,
    STORAGE,
    RateCard,
)
from midway.events.models import Event
from midway.inventory.models import StockBalance, StockMovement

# The ledger rows that change on hand, written as the partial index on them is (a database
# uses a partial index only when the query repeats its condition literally).
ON_HAND_CHANGES = text("stock_movements.on_hand_delta <> 0")


@dataclass(frozen=True)
class Scope:
    """Whose work is metered: the agreement, its merchant, facilities, matrix and card."""

    agreement_id: str
    merchant_id: str
    facility_ids: tuple[str, ...]
    matrix: Matrix
    card: RateCard


@dataclass
class Metered:
    """What the meter found: usage per code, carrier pass-through, and notes for the reader."""

    usage: dict[str, Usage] = field(default_factory=dict)
    carrier_cost: Decimal = Decimal(0)
    carrier_shipments: int = 0
    carrier_refs: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Tally:
    """Quantities, source ids and details per charge code while metering."""

    def __init__(self) -> None:
        self.quantity: dict[str, Decimal | int] = defaultdict(int)
        self.refs: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        self.detail: dict[str, list[dict[str, object]]] = defaultdict(list)
        self._distinct: set[tuple[str, str]] = set()  # (code, kind) known to hold no repeats

    def add(
        self,
        code: str,
        quantity: Decimal | int,
        refs: Mapping[str, list[Any]],
        *,
        distinct: bool = False,
    ) -> None:
        """Count ``quantity`` towards ``code``, with the ids behind it by kind. ``distinct``
        says the caller's lists hold each id once (one row each), which spares the check for
        repeats when they are the only ids of their code and kind."""
        self.quantity[code] += quantity
        for kind, values in refs.items():
            held = self.refs[code][kind]
            key = (code, kind)
            if distinct and not held:
                self._distinct.add(key)
            else:
                self._distinct.discard(key)
            held.extend(values)

    def usage(self) -> dict[str, Usage]:
        """The tally as usage per code (ids kept once each, in first-seen order)."""
        return {
            code: Usage(
                code,
                Decimal(quantity),
                {
                    k: v if (code, k) in self._distinct else list(dict.fromkeys(v))
                    for k, v in self.refs[code].items()
                },
                tuple(self.detail.get(code, ())),
            )
            for code, quantity in self.quantity.items()
            if quantity
        }


@dataclass(frozen=True)
class SkuFacts:
    """What billing needs of a SKU: its tags and its volume."""

    tags: frozenset[str]
    volume_m3: Decimal


class Owners:
    """Whether the provider owns a process (for a SKU) under the matrix, cached."""

    def __init__(self, matrix: Matrix, skus: Mapping[str, SkuFacts]) -> None:
        self.matrix = matrix
        self.skus = skus
        self._cache: dict[tuple[str, str | None], bool] = {}

    def provider(self, process: str, sku: str | None = None) -> bool:
        """True when the provider owns ``process`` (for ``sku``)."""
        key = (process, sku)
        if key not in self._cache:
            facts = self.skus.get(sku) if sku else None
            ctx = Context(sku=sku, sku_tags=facts.tags if facts else frozenset())
            self._cache[key] = resolve(self.matrix, process, ctx).owner == "provider"
        return self._cache[key]


def meter(
    session: Session,
    scope: Scope,
    window: Window,
    *,
    codes: frozenset[str] | None = None,
    carrier: bool = True,
) -> Metered:
    """The billable usage of ``scope`` in ``window``: every charge of the card, or only
    ``codes`` when given; carrier pass-through unless ``carrier`` is False."""
    with quiet_collector():
        return _meter(session, scope, window, codes, carrier)


@contextmanager
def quiet_collector() -> Iterator[None]:
    """Pause the cyclic garbage collector for bulk work.

    A month holds millions of small lists and tuples; the collector would rescan them again
    and again as they pile up (several times the work itself), and nothing here makes
    reference cycles, which is all it is for. Memory is still freed by reference counting.
    """
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def _meter(
    session: Session,
    scope: Scope,
    window: Window,
    codes: frozenset[str] | None,
    carrier: bool,
) -> Metered:
    from midway.billing import meter_orders

    card = scope.card
    wanted = set(card.charges) if codes is None else set(card.charges) & codes
    lookback = lookback_days(card.storage) if card.storage else 0
    clock = RawTime(session, window, lookback_days=lookback)
    tally = Tally()
    result = Metered()
    skus = _skus(session, scope.merchant_id)
    owners = Owners(scope.matrix, skus)
    if RECEIVING in wanted:
        _receiving(session, scope, clock, tally, owners)
    if card.storage is not None and any(c.startswith(STORAGE) for c in wanted):
        _storage(session, scope, clock, tally, owners, skus, result.notes)
    shipment_codes = {
        c
        for c in wanted
        if c in meter_orders.SHIPMENT_CODES or c.startswith(SPECIAL_HANDLING_PREFIX)
    }
    with_carrier = carrier and card.carrier_markup_percent is not None
    if shipment_codes or with_carrier:
        meter_orders.shipments(
            session, scope, clock, tally, result, owners, skus, shipment_codes, with_carrier
        )
    if wanted & set(meter_orders.TASK_CHARGES):
        meter_orders.tasks(session, scope, clock, tally, wanted)
    if wanted & {RETURNS_RETURN, RETURNS_UNIT}:
        _returns(session, scope, clock, tally, owners)
    result.usage = {c: u for c, u in tally.usage().items() if c in wanted}
    return result


def _skus(session: Session, merchant_id: str) -> dict[str, SkuFacts]:
    rows = fetch(
        session,
        select(Sku.sku, Sku.tags, Sku.length_mm, Sku.width_mm, Sku.height_mm).where(
            Sku.merchant_id == merchant_id
        ),
    )
    return {
        sku: SkuFacts(frozenset(tags or ()), unit_volume_m3(length, width, height))
        for sku, tags, length, width, height in rows
    }


def _receiving(
    session: Session, scope: Scope, clock: RawTime, tally: Tally, owners: Owners
) -> None:
    window = clock.window
    rows = fetch(
        session,
        select(
            StockMovement.id,
            StockMovement.facility_id,
            StockMovement.sku,
            StockMovement.on_hand_delta,
            clock.column(StockMovement.created_at),
        ).where(
            StockMovement.merchant_id == scope.merchant_id,
            StockMovement.facility_id.in_(scope.facility_ids),
            StockMovement.kind == "receipt",
            StockMovement.created_at >= window.earliest,
            StockMovement.created_at < window.latest,
        ),
    )
    pack = scope.card.receiving_pack
    quantity = 0
    ids: list[int] = []
    for row_id, facility_id, sku, delta, created_at in rows:
        if delta <= 0 or not clock.holds(facility_id, created_at):
            continue
        if not owners.provider("receiving", sku):
            continue
        quantity += delta if pack is None else math.ceil(delta / pack.units_per_pack(sku))
        ids.append(row_id)
    if ids:
        tally.add(RECEIVING, quantity, {"ledger_rows": ids})


def _storage(
    session: Session,
    scope: Scope,
    clock: RawTime,
    tally: Tally,
    owners: Owners,
    skus: Mapping[str, SkuFacts],
    notes: list[str],
) -> None:
    terms = scope.card.storage
    assert terms is not None
    lookback = lookback_days(terms)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    refs: dict[str, set[int]] = defaultdict(set)
    no_volume: set[str] = set()
    for facility_id in scope.facility_ids:
        first, last = clock.window.day_range[facility_id]
        ledger = _ledger(session, scope, clock, facility_id, lookback)
        for sku in sorted(set(ledger.opening) | set(ledger.net) | set(ledger.arrivals)):
            facts = skus.get(sku)
            if facts is None or not owners.provider("storage", sku):
                continue
            if facts.volume_m3 == 0:
                no_volume.add(sku)
                continue
            usage = daily_usage(
                ledger.opening.get(sku, 0),
                ledger.arrivals.get(sku, []),
                ledger.net.get(sku, {}),
                ledger.removals.get(sku, []),
                terms,
                first,
                last,
            )
            if not usage.unit_days:
                continue
            detail: dict[str, object] = {
                "facility_id": facility_id,
                "sku": sku,
                "unit_volume_m3": str(facts.volume_m3),
                "on_hand_at_start": ledger.opening.get(sku, 0),
            }
            for code, volume in usage.cubic_metre_days(facts.volume_m3).items():
                totals[code] += volume
                refs[code].update(usage.refs[code])
                tally.detail[code].append(
                    {
                        **detail,
                        "unit_days": usage.unit_days[code],
                        f"{terms.volume_unit}_days": str(in_volume_unit(volume, terms.volume_unit)),
                    }
                )
    for code, volume in totals.items():
        quantity = in_volume_unit(volume, terms.volume_unit)
        tally.add(code, quantity, {"ledger_rows": sorted(refs[code])}, distinct=True)
    if no_volume:
        notes.append(
            "storage not billed for SKUs without dimensions: " + ", ".join(sorted(no_volume))
        )


@dataclass
class _Ledger:
    """One facility's ledger as storage needs it, per SKU."""

    opening: dict[str, int] = field(default_factory=dict)
    arrivals: dict[str, list[StockChange]] = field(default_factory=lambda: defaultdict(list))
    net: dict[str, dict[date, int]] = field(default_factory=lambda: defaultdict(dict))
    removals: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


def _ledger(
    session: Session, scope: Scope, clock: RawTime, facility_id: str, lookback: int
) -> _Ledger:
    """On hand per SKU when the period starts, the arrivals from the lookback on (they date
    the stock), and each day's net change and the removals of the period.

    Set-based: the opening quantity is the balance now less the change since the start (one
    grouped sum: balance and ledger are written together, so only the recent ledger is
    read); each local day's net change is one grouped sum; only the arrivals come back as
    rows, and of the removals only their ids (the refs of the storage lines)."""
    window = clock.window
    start, end = window.bounds[facility_id]
    first, last = window.day_range[facility_id]
    zone = window.zones[facility_id]
    changes = (
        StockMovement.merchant_id == scope.merchant_id,
        StockMovement.facility_id == facility_id,
        ON_HAND_CHANGES,
    )
    balances = dict(
        fetch(
            session,
            select(StockBalance.sku, StockBalance.on_hand).where(
                StockBalance.merchant_id == scope.merchant_id,
                StockBalance.facility_id == facility_id,
            ),
        )
    )

    def sums(low: datetime, high: datetime) -> Sequence[Any]:
        # A closed range on created_at, always: SQLite has no statistics on value ranges and
        # would otherwise walk another index to save the grouping sort.
        return fetch(
            session,
            select(StockMovement.sku, func.sum(StockMovement.on_hand_delta))
            .where(*changes, StockMovement.created_at >= low, StockMovement.created_at < high)
            .group_by(StockMovement.sku),
        )

    ledger = _Ledger()
    since_start: dict[str, int] = defaultdict(int)
    for sku, delta in sums(end, _FAR_FUTURE):
        since_start[sku] += int(delta)
    day = first
    while True:
        low = max(start, _local_midnight(day, zone))
        day_after = day + timedelta(days=1)
        high = min(end, _local_midnight(day_after, zone))
        if low >= high:
            break
        for sku, delta in sums(low, high):
            since_start[sku] += int(delta)
            if delta and day <= last:
                ledger.net[sku][day] = int(delta)
        day = day_after
    ledger.opening = {
        sku: balances.get(sku, 0) - since_start.get(sku, 0)
        for sku in set(balances) | set(since_start)
    }
    # Arrivals date the stock: those of the lookback (before the period they only date the
    # opening stock) and of the period.
    find = clock.day_finder(facility_id)
    for row_id, sku, delta, created_at in fetch(
        session,
        select(
            StockMovement.id,
            StockMovement.sku,
            StockMovement.on_hand_delta,
            clock.column(StockMovement.created_at),
        ).where(
            *changes,
            StockMovement.on_hand_delta > 0,
            StockMovement.created_at >= start - timedelta(days=lookback + 1),
            StockMovement.created_at < end,
        ),
    ):
        ledger.arrivals[sku].append(StockChange(find(created_at), delta, row_id))
    for row_id, sku in fetch(
        session,
        select(StockMovement.id, StockMovement.sku).where(
            *changes,
            StockMovement.on_hand_delta < 0,
            StockMovement.created_at >= start,
            StockMovement.created_at < end,
        ),
    ):
        ledger.removals[sku].append(row_id)
    return ledger


_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _returns(session: Session, scope: Scope, clock: RawTime, tally: Tally, owners: Owners) -> None:
    if not owners.provider("returns_receiving"):
        return
    rows = fetch(
        session,
        select(Event.id, cast(Event.data, Text)).where(
            Event.merchant_id == scope.merchant_id, text("events.type = 'return.received'")
        ),
    )
    events: list[str] = []
    returns: list[str] = []
    unit_events: list[str] = []
    unit_returns: list[str] = []
    units = 0
    for event_id, body in rows:
        data = orjson.loads(body)
        if data.get("agreement_id") != scope.agreement_id:
            continue
        facility_id = data.get("facility_id")
        received = _instant(data.get("received_at"))
        if facility_id not in clock.bounds or received is None:
            continue
        start, end = clock.window.bounds[facility_id]
        if not start <= received < end:
            continue
        events.append(event_id)
        returns.append(str(data.get("return_id")))
        count = int(data.get("units") or 0)
        if count:
            units += count
            unit_events.append(event_id)
            unit_returns.append(str(data.get("return_id")))
    if events:
        tally.add(RETURNS_RETURN, len(events), {"events": events, "returns": returns})
    if units:
        tally.add(RETURNS_UNIT, units, {"events": unit_events, "returns": unit_returns})


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
