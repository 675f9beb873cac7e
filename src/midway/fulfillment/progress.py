"""Where an order stands, computed from its lines and their fulfillment-order lines."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from midway.events.service import NewEvent, emit
from midway.fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from midway.orders import service as orders
from midway.orders.models import Order, OrderLine


def line_progress(session: Session, order_id: str) -> dict[str, orders.LineProgress]:
    """Quantity, cancelled, reserved and shipped units per order line (read fresh)."""
    lines = session.execute(
        select(OrderLine.id, OrderLine.quantity, OrderLine.cancelled_quantity)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.line_no)
    ).all()
    reserved = {line_id: 0 for line_id, _, _ in lines}
    shipped = dict(reserved)
    rows = session.execute(
        select(
            FulfillmentOrderLine.order_line_id,
            FulfillmentOrderLine.quantity,
            FulfillmentOrderLine.shipped_quantity,
            FulfillmentOrderLine.released_quantity,
        )
        .join(FulfillmentOrder, FulfillmentOrder.id == FulfillmentOrderLine.fulfillment_order_id)
        .where(FulfillmentOrder.order_id == order_id)
    ).all()
    for line_id, quantity, done, released in rows:
        reserved[line_id] += quantity - done - released
        shipped[line_id] += done
    return {
        line_id: orders.LineProgress(
            quantity=quantity,
            cancelled=cancelled,
            reserved=reserved[line_id],
            shipped=shipped[line_id],
        )
        for line_id, quantity, cancelled in lines
    }


def refresh_order(
    session: Session,
    order: Order,
    *,
    sourcing: dict[str, Any] | None = None,
    emit_change: bool = True,
) -> dict[str, orders.LineProgress]:
    """Recompute and store the order's status; emit ``order.status_changed`` when it moved."""
    progress = line_progress(session, order.id)
    before = order.status
    status = orders.status_of(list(progress.values()))
    changed = orders.set_status(session, order, status, sourcing)
    if changed and emit_change:
        emit(
            session,
            [
                NewEvent(
                    type="order.status_changed",
                    merchant_id=order.merchant_id,
                    subject_type="order",
                    subject_id=order.id,
                    data={"order_id": order.id, "from": before, "to": status},
                )
            ],
        )
    return progress
