"""SLA clocks: when a promise started, when it is due, and whether it was kept.

A clock is started by one event (release, arrival, receipt, ticket opened) and stopped by
another (hand-over to the carrier, stock available, disposition, first response). The
deadline comes from the facility's :class:`~midway.core.calendar.BusinessCalendar`.
A stop exactly at the deadline counts as met. All instants in a result are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from midway.core.calendar import (
    BusinessCalendar,
    add_business_days,
    add_business_hours,
    ship_by,
)

__all__ = [
    "ClockResult",
    "SlaError",
    "dock_to_stock_clock",
    "on_time_ship_clock",
    "response_clock",
    "return_processing_clock",
]


class SlaError(ValueError):
    """Invalid SLA clock input; ``field`` names the offending argument."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ClockResult:
    """The state of one SLA clock.

    ``met`` is True or False once the clock has stopped; while it runs it is None, unless the
    result was evaluated at a ``now`` past the deadline, which makes it False. ``late_by`` is
    set only when ``met`` is False: how late the stop was, or how late the clock is so far.
    """

    started_at: datetime
    deadline: datetime
    stopped_at: datetime | None
    met: bool | None
    late_by: timedelta | None

    @classmethod
    def evaluate(
        cls,
        started_at: datetime,
        deadline: datetime,
        stopped_at: datetime | None,
        now: datetime | None = None,
    ) -> ClockResult:
        """Build a result from the start, deadline and (optional) stop of a clock.

        ``now`` only matters for a running clock: past the deadline it is already missed.
        """
        started = _utc(started_at, "started_at")
        due = _utc(deadline, "deadline")
        stopped = None if stopped_at is None else _utc(stopped_at, "stopped_at")
        at = None if now is None else _utc(now, "now")
        if stopped is not None and stopped < started:
            raise SlaError(
                f"stopped_at ({stopped.isoformat()}) is before started_at ({started.isoformat()})",
                "stopped_at",
            )
        met: bool | None = None
        late_by: timedelta | None = None
        if stopped is not None:
            met = stopped <= due
            late_by = None if met else stopped - due
        elif at is not None and at > due:
            met = False
            late_by = at - due
        return cls(started_at=started, deadline=due, stopped_at=stopped, met=met, late_by=late_by)

    @property
    def running(self) -> bool:
        """True while the clock has not been stopped."""
        return self.stopped_at is None

    def breached(self, now: datetime) -> bool:
        """True if the promise is broken: stopped after the deadline, or still running past it."""
        if self.stopped_at is not None:
            return self.stopped_at > self.deadline
        return _utc(now, "now") > self.deadline

    def at_risk(self, now: datetime, lead: timedelta) -> bool:
        """True if the clock still runs, is not yet breached and is due within ``lead`` of now.

        A stopped or already breached clock is not "at risk": it is either done or late.
        """
        if not isinstance(lead, timedelta) or lead < timedelta(0):
            raise SlaError(f"lead must be a non-negative timedelta, got {lead!r}", "lead")
        at = _utc(now, "now")
        if self.stopped_at is not None or at > self.deadline:
            return False
        return at >= self.deadline - lead


def on_time_ship_clock(
    calendar: BusinessCalendar,
    released_at: datetime,
    handed_over_at: datetime | None,
    ship_by_override: datetime | None = None,
    *,
    now: datetime | None = None,
) -> ClockResult:
    """On-time shipment: released to the facility → handed over to the carrier.

    The deadline is the channel's ship-by time when one is given (it is the promise made to
    the buyer, so it wins); otherwise the facility's cut-off rule from
    :func:`~midway.core.calendar.ship_by`: released on a business day before the cut-off →
    that day's cut-off, else the next business day's cut-off.
    """
    released = _utc(released_at, "released_at")
    if ship_by_override is not None:
        deadline = _utc(ship_by_override, "ship_by_override")
    else:
        deadline = ship_by(calendar, released)
    return ClockResult.evaluate(
        released, deadline, _utc_or_none(handed_over_at, "handed_over_at"), now
    )


def dock_to_stock_clock(
    calendar: BusinessCalendar,
    arrived_at: datetime,
    available_at: datetime | None,
    business_days: int = 2,
    *,
    now: datetime | None = None,
) -> ClockResult:
    """Dock to stock: inbound arrived at the dock → stock available to sell.

    Due at close of business on the ``business_days``-th business day after the arrival's
    local date (day 0 is the arrival day, or the next business day if it arrived on a day
    off): with the default of 2, a Monday arrival is due Wednesday at closing time.
    """
    arrived = _utc(arrived_at, "arrived_at")
    available = _utc_or_none(available_at, "available_at")
    deadline = add_business_days(calendar, arrived, business_days)
    return ClockResult.evaluate(arrived, deadline, available, now)


def return_processing_clock(
    calendar: BusinessCalendar,
    received_at: datetime,
    disposed_at: datetime | None,
    business_days: int = 3,
    *,
    now: datetime | None = None,
) -> ClockResult:
    """Return processing: return received at the facility → disposition recorded.

    Due at close of business on the ``business_days``-th business day after the receipt's
    local date (day 0 is the receipt day, or the next business day if received on a day
    off): with the default of 3, a Monday receipt is due Thursday at closing time.
    """
    received = _utc(received_at, "received_at")
    disposed = _utc_or_none(disposed_at, "disposed_at")
    deadline = add_business_days(calendar, received, business_days)
    return ClockResult.evaluate(received, deadline, disposed, now)


def response_clock(
    calendar: BusinessCalendar,
    opened_at: datetime,
    responded_at: datetime | None,
    business_hours: Decimal | int = 4,
    *,
    now: datetime | None = None,
) -> ClockResult:
    """First response: ticket or exception opened → first response by the other party.

    Due after ``business_hours`` hours of business time (opens..closes on business days)
    counted from the opening; nights, weekends and holidays do not count.
    """
    opened = _utc(opened_at, "opened_at")
    responded = _utc_or_none(responded_at, "responded_at")
    deadline = add_business_hours(calendar, opened, business_hours)
    return ClockResult.evaluate(opened, deadline, responded, now)


def _utc_or_none(value: datetime | None, field: str) -> datetime | None:
    return None if value is None else _utc(value, field)


def _utc(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise SlaError(f"{field} must be a datetime, got {value!r}", field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise SlaError(
            f"{field} must be timezone-aware (UTC), got naive {value.isoformat()}", field
        )
    return value.astimezone(UTC)
