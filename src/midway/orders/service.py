"""Order records: validation, storage and status. Sourcing and fulfilment build on this
(see ``midway.fulfillment``); this module never reaches into them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from midway import paging, reads
from midway.catalog import service as catalog
from midway.db import new_id, one_of, per_dialect, utcnow
from midway.errors import Conflict, InvalidInput, NotFound
from midway.facilities.service import validate_country
from midway.orders.models import Order, OrderLine
from midway.principal import Principal

Row = dict[str, Any]
T = TypeVar("T", Order, OrderLine)
DUPLICATE_KEY = "uq_order_channel_external"  # the unique constraint of a channel order
SHIP_TO_FIELDS = (
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
class LineInput:
    """One ordered SKU."""

    sku: str
    quantity: int
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class OrderInput:
    """An order as a channel sends it."""

    channel: str
    external_id: str
    ship_to: dict[str, str | None]
    lines: Sequence[LineInput]
    currency: str | None = None
    placed_at: datetime | None = None
    ship_by: datetime | None = None
    promised_delivery: datetime | None = None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class LineProgress:
    """Where the units of one order line stand."""

    quantity: int
    cancelled: int
    reserved: int
    shipped: int

    @property
    def backordered(self) -> int:
        """Units neither reserved, shipped nor cancelled: waiting for stock or re-sourcing."""
        return self.quantity - self.cancelled - self.reserved - self.shipped


# Every status an order can have (see :func:`status_of`).
STATUSES = ("open", "backordered", "partially_shipped", "shipped", "closed", "cancelled")


def status_of(lines: Sequence[LineProgress]) -> str:
    """The order status from its lines' progress (one of :data:`STATUSES`)."""
    remaining = sum(p.quantity - p.cancelled - p.shipped for p in lines)
    shipped = sum(p.shipped for p in lines)
    cancelled = sum(p.cancelled for p in lines)
    if remaining == 0:
        if shipped == 0:
            return "cancelled"
        return "shipped" if cancelled == 0 else "closed"
    if any(p.backordered > 0 for p in lines):
        return "backordered"
    return "partially_shipped" if shipped else "open"


def validate(session: Session, merchant_id: str, data: OrderInput) -> dict[str, catalog.SkuFacts]:
    """Check an order before anything is written; returns its SKUs by code."""
    check(data)
    skus = catalog.sku_facts(session, merchant_id, (line.sku for line in data.lines))
    require_skus(data, skus)
    return skus


def check(data: OrderInput) -> None:
    """Everything about an order that needs no database: fields, address, quantities."""
    if not data.channel.strip():
        raise InvalidInput("channel must not be empty", field="channel")
    if not data.external_id.strip():
        raise InvalidInput("external_id must not be empty", field="external_id")
    if not data.lines:
        raise InvalidInput("an order needs at least one line", field="lines")
    for name in ("name", "address1", "city", "postal_code", "country"):
        if not (data.ship_to.get(name) or "").strip():
            raise InvalidInput(f"ship_to.{name} is required", field=f"ship_to.{name}")
    validate_country(data.ship_to["country"] or "", "ship_to.country")
    for i, line in enumerate(data.lines):
        if line.quantity <= 0:
            raise InvalidInput("quantity must be positive", field=f"lines[{i}].quantity")
        if line.unit_price is not None and line.unit_price < 0:
            raise InvalidInput("unit_price must not be negative", field=f"lines[{i}].unit_price")


def require_skus(data: OrderInput, skus: Mapping[str, catalog.SkuFacts]) -> None:
    """Every line's SKU must be in the merchant's catalog (``skus``, read by the caller)."""
    for i, line in enumerate(data.lines):
        if line.sku not in skus:
            raise InvalidInput(
                f"unknown SKU '{line.sku}'", field=f"lines[{i}].sku", code="unknown_sku"
            )


def duplicate(order: Order | OrderInput) -> Conflict:
    """The error for a channel order that exists already."""
    return Conflict(
        f"order {order.channel}/{order.external_id} already exists", code="duplicate_order"
    )


def existing_keys(
    session: Session, merchant_id: str, keys: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these (channel, external id) keys the merchant's orders already use (one
    indexed lookup per channel: a list of pairs would make SQLite scan every order)."""
    by_channel: dict[str, list[str]] = {}
    for channel, external_id in set(keys):
        by_channel.setdefault(channel, []).append(external_id)
    found: set[tuple[str, str]] = set()
    for channel, external_ids in sorted(by_channel.items()):
        rows = reads.rows(
            session, _EXISTING, {"m": merchant_id, "c": channel, "e": sorted(external_ids)}
        )
        found.update((channel, e) for (e,) in rows)
    return found


_EXISTING = per_dialect(
    lambda dialect: select(Order.external_id).where(
        Order.merchant_id == bindparam("m"),
        Order.channel == bindparam("c"),
        one_of(Order.external_id, "e", dialect),
    )
)


def order_value(lines: Sequence[LineInput]) -> Decimal | None:
    """Sum of quantity × unit price, when every line has a price."""
    if any(line.unit_price is None for line in lines):
        return None
    return sum(
        (Decimal(line.quantity) * (line.unit_price or Decimal(0)) for line in lines), Decimal(0)
    )


def find_existing(session: Session, merchant_id: str, channel: str, external_id: str) -> str | None:
    """The id of the merchant's order with this channel and external id, if any."""
    return session.scalar(
        select(Order.id).where(
            Order.merchant_id == merchant_id,
            Order.channel == channel,
            Order.external_id == external_id,
        )
    )


def new_order(principal: Principal, data: OrderInput) -> tuple[Order, list[OrderLine]]:
    """The order and its lines as objects, not yet written (sourcing sets their status)."""
    now = utcnow()
    ship_to = {k: (data.ship_to.get(k) or None) for k in SHIP_TO_FIELDS}
    ship_to["country"] = (ship_to["country"] or "").upper()
    order = _transient(
        Order,
        id=new_id("ord"),
        merchant_id=principal.party_id,
        channel=data.channel,
        external_id=data.external_id,
        status="open",
        ship_to=ship_to,
        currency=data.currency,
        order_value=order_value(data.lines),
        sourcing=[],
        placed_at=data.placed_at or now,
        ship_by=data.ship_by,
        promised_delivery=data.promised_delivery,
        created_at=now,
        updated_at=now,
    )
    lines = [
        _transient(
            OrderLine,
            id=new_id("oln"),
            order_id=order.id,
            merchant_id=principal.party_id,
            line_no=i + 1,
            sku=line.sku,
            quantity=line.quantity,
            cancelled_quantity=0,
            unit_price=line.unit_price,
        )
        for i, line in enumerate(data.lines)
    ]
    return order, lines


def order_rows(order: Order, lines: Sequence[OrderLine]) -> tuple[Row, list[Row]]:
    """A new order and its lines as the rows to insert (the caller writes them together with
    the rest of what placing the order produced; see :func:`is_duplicate`)."""
    return _row(order), [_row(line) for line in lines]


def is_duplicate(error: IntegrityError) -> bool:
    """Whether a failed insert broke the (merchant, channel, external id) key of orders."""
    diag = getattr(error.orig, "diag", None)
    if diag is not None:  # PostgreSQL names the constraint
        return getattr(diag, "constraint_name", None) == DUPLICATE_KEY
    return "orders.merchant_id, orders.channel, orders.external_id" in str(error.orig)


def _transient(model: type[T], **values: Any) -> T:
    """A new, transient ORM object with these column values, built without the per-attribute
    events of the constructor (intake makes thousands a second and never adds them to a
    session; their rows go through :mod:`midway.inserts`)."""
    obj: T = model.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


def _row(obj: Order | OrderLine) -> Row:
    values = obj.__dict__  # a new order's values live here (see _transient)
    return {key: values[key] if key in values else getattr(obj, key) for key in _columns(type(obj))}


def _columns(model: type[Order | OrderLine]) -> tuple[str, ...]:
    keys = _column_keys.get(model)
    if keys is None:
        keys = _column_keys[model] = tuple(c.key for c in model.__table__.columns)
    return keys


_column_keys: dict[type[Order | OrderLine], tuple[str, ...]] = {}


def get(session: Session, principal: Principal, order_id: str, *, lock: bool = False) -> Order:
    """The caller's order (a provider never sees orders, only its fulfillment orders)."""
    query = select(Order).where(Order.id == order_id, Order.merchant_id == principal.party_id)
    if lock:
        query = query.with_for_update()
    order = session.scalar(query)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


def lines_of(session: Session, order_id: str) -> list[OrderLine]:
    """An order's lines in line order."""
    return list(
        session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
        )
    )


def list_orders(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    channel: str | None,
    limit: int,
    after: str | None,
) -> list[Order]:
    """A page of the merchant's orders, newest first."""
    principal.require_kind("merchant", "list orders")
    if status and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    mine = Order.merchant_id == principal.party_id
    query = paging.page(
        session,
        select(Order).where(mine),
        (Order.created_at, Order.id),
        mine,
        after=after or None,
        limit=limit,
        newest_first=True,
        what="an order",
    )
    if status:
        query = query.where(Order.status == status)
    if channel:
        query = query.where(Order.channel == channel)
    return list(session.scalars(query))


def cancel_units(session: Session, line_id: str, quantity: int) -> None:
    """Mark units of a line as cancelled."""
    if quantity > 0:
        session.execute(
            update(OrderLine)
            .where(OrderLine.id == line_id)
            .values(cancelled_quantity=OrderLine.cancelled_quantity + quantity)
        )


def set_status(
    session: Session, order: Order, status: str, sourcing: dict[str, object] | None = None
) -> bool:
    """Store a new status (and append a sourcing decision); True when the status changed."""
    changed = order.status != status
    values: dict[str, object] = {"status": status, "updated_at": utcnow()}
    if sourcing is not None:
        values["sourcing"] = [*order.sourcing, sourcing]
        set_committed_value(order, "sourcing", values["sourcing"])
    # Keep the loaded object in step without making it dirty: the UPDATE below is the write.
    set_committed_value(order, "status", status)
    set_committed_value(order, "updated_at", values["updated_at"])
    session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return changed


def parse_decimal(raw: object, field: str) -> Decimal | None:
    """A decimal from JSON/CSV input, or InvalidInput naming the field."""
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise InvalidInput(f"'{raw}' is not a decimal number", field=field) from None
    if not value.is_finite():
        raise InvalidInput(f"'{raw}' is not a finite number", field=field)
    return value
