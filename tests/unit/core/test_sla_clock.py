"""SLA clocks on a Berlin calendar: cut-off 14:00, open 08:00-18:00 (UTC+1 in January)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from midway.core.calendar import BusinessCalendar
from midway.core.sla import (
    ClockResult,
    SlaError,
    dock_to_stock_clock,
    on_time_ship_clock,
    response_clock,
    return_processing_clock,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def berlin() -> BusinessCalendar:
    return BusinessCalendar(timezone="Europe/Berlin", cutoff=time(14, 0))


RELEASED = utc(2026, 1, 13, 10)  # Tuesday 11:00 local, before the cut-off
DUE = utc(2026, 1, 13, 13)  # Tuesday 14:00 local


# --- on-time shipment ---


def test_handed_over_before_cutoff_is_met(berlin: BusinessCalendar) -> None:
    result = on_time_ship_clock(berlin, RELEASED, utc(2026, 1, 13, 12, 30))
    assert result == ClockResult(
        started_at=RELEASED,
        deadline=DUE,
        stopped_at=utc(2026, 1, 13, 12, 30),
        met=True,
        late_by=None,
    )


def test_handed_over_exactly_at_deadline_is_met(berlin: BusinessCalendar) -> None:
    result = on_time_ship_clock(berlin, RELEASED, DUE)
    assert result.met is True
    assert result.late_by is None


def test_handed_over_late_reports_how_late(berlin: BusinessCalendar) -> None:
    result = on_time_ship_clock(berlin, RELEASED, utc(2026, 1, 13, 14, 15))
    assert result.met is False
    assert result.late_by == timedelta(hours=1, minutes=15)
    assert result.breached(utc(2026, 1, 13, 9))  # a late stop stays breached
    assert not result.running


def test_running_clock_has_no_verdict_before_the_deadline(berlin: BusinessCalendar) -> None:
    result = on_time_ship_clock(berlin, RELEASED, None, now=utc(2026, 1, 13, 12))
    assert result.running
    assert result.met is None
    assert result.late_by is None
    assert not result.breached(utc(2026, 1, 13, 13))  # at the deadline is not yet late
    assert result.breached(utc(2026, 1, 13, 13, 1))


def test_running_clock_without_now_has_no_verdict(berlin: BusinessCalendar) -> None:
    result = on_time_ship_clock(berlin, RELEASED, None)
    assert (result.met, result.late_by) == (None, None)


def test_running_clock_past_the_deadline_is_missed(berlin: BusinessCalendar) -> None:
    result = on_time_ship_clock(berlin, RELEASED, None, now=utc(2026, 1, 13, 13, 30))
    assert result.met is False
    assert result.late_by == timedelta(minutes=30)


def test_release_after_cutoff_is_due_next_business_day(berlin: BusinessCalendar) -> None:
    friday_late = utc(2026, 1, 16, 14)  # Friday 15:00 local
    result = on_time_ship_clock(berlin, friday_late, utc(2026, 1, 19, 12))
    assert result.deadline == utc(2026, 1, 19, 13)  # Monday 14:00 local
    assert result.met is True


def test_channel_ship_by_takes_precedence_when_later(berlin: BusinessCalendar) -> None:
    channel_due = utc(2026, 1, 14, 16)
    result = on_time_ship_clock(berlin, RELEASED, utc(2026, 1, 14, 15), channel_due)
    assert result.deadline == channel_due
    assert result.met is True  # the facility's own cut-off (13th 13:00 UTC) would say late


def test_channel_ship_by_takes_precedence_when_earlier(berlin: BusinessCalendar) -> None:
    channel_due = utc(2026, 1, 13, 11)
    result = on_time_ship_clock(berlin, RELEASED, utc(2026, 1, 13, 12), channel_due)
    assert result.met is False
    assert result.late_by == timedelta(hours=1)


def test_results_are_utc(berlin: BusinessCalendar) -> None:
    local = ZoneInfo("Europe/Berlin")
    released = datetime(2026, 1, 13, 11, tzinfo=local)
    handed = datetime(2026, 1, 13, 13, 30, tzinfo=local)
    result = on_time_ship_clock(berlin, released, handed)
    assert result.started_at.tzinfo is UTC
    assert result.stopped_at is not None
    assert result.stopped_at.tzinfo is UTC
    assert (result.started_at, result.stopped_at) == (RELEASED, utc(2026, 1, 13, 12, 30))


# --- at risk ---


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 1, 13, 10, 59), False),  # more than two hours left
        (utc(2026, 1, 13, 11, 0), True),  # exactly two hours left
        (utc(2026, 1, 13, 12, 59), True),
        (utc(2026, 1, 13, 13, 0), True),  # due now, not yet late
        (utc(2026, 1, 13, 13, 1), False),  # already breached, no longer "at risk"
    ],
)
def test_at_risk_with_two_hour_lead(
    berlin: BusinessCalendar, now: datetime, expected: bool
) -> None:
    result = on_time_ship_clock(berlin, RELEASED, None)
    assert result.at_risk(now, timedelta(hours=2)) is expected


def test_stopped_clock_is_never_at_risk(berlin: BusinessCalendar) -> None:
    result = on_time_ship_clock(berlin, RELEASED, utc(2026, 1, 13, 12, 30))
    assert not result.at_risk(utc(2026, 1, 13, 12, 0), timedelta(hours=2))
    assert not result.breached(utc(2026, 1, 14))


def test_negative_lead_is_rejected(berlin: BusinessCalendar) -> None:
    result = on_time_ship_clock(berlin, RELEASED, None)
    with pytest.raises(SlaError, match="lead must be a non-negative timedelta") as info:
        result.at_risk(utc(2026, 1, 13, 12), timedelta(minutes=-5))
    assert info.value.field == "lead"


# --- dock to stock and returns (close of business on the Nth business day) ---


def test_dock_to_stock_two_business_days(berlin: BusinessCalendar) -> None:
    arrived = utc(2026, 1, 12, 15)  # Monday 16:00 local
    on_time = dock_to_stock_clock(berlin, arrived, utc(2026, 1, 14, 16, 59))
    assert on_time.deadline == utc(2026, 1, 14, 17)  # Wednesday 18:00 local
    assert on_time.met is True
    late = dock_to_stock_clock(berlin, arrived, utc(2026, 1, 15, 9))
    assert late.met is False
    assert late.late_by == timedelta(hours=16)


def test_dock_to_stock_weekend_arrival_starts_monday(berlin: BusinessCalendar) -> None:
    result = dock_to_stock_clock(berlin, utc(2026, 1, 17, 10), None)
    assert result.deadline == utc(2026, 1, 21, 17)  # Saturday -> day 0 Monday -> Wednesday


def test_dock_to_stock_custom_business_days(berlin: BusinessCalendar) -> None:
    result = dock_to_stock_clock(berlin, utc(2026, 1, 12, 9), None, business_days=0)
    assert result.deadline == utc(2026, 1, 12, 17)


def test_return_processing_three_business_days() -> None:
    calendar = BusinessCalendar(
        "Europe/Berlin", cutoff=time(14), holidays=frozenset({date(2026, 1, 19)})
    )
    received = utc(2026, 1, 16, 10)  # Friday
    # Day 0 Friday; Monday the 19th is closed -> Tue (1), Wed (2), Thu (3) 18:00 local.
    result = return_processing_clock(calendar, received, utc(2026, 1, 22, 17, 30))
    assert result.deadline == utc(2026, 1, 22, 17)
    assert result.met is False
    assert result.late_by == timedelta(minutes=30)


def test_return_processing_without_holiday(berlin: BusinessCalendar) -> None:
    result = return_processing_clock(berlin, utc(2026, 1, 16, 10), utc(2026, 1, 21, 16))
    assert result.deadline == utc(2026, 1, 21, 17)
    assert result.met is True


# --- response in business hours ---


def test_response_clock_counts_only_business_hours(berlin: BusinessCalendar) -> None:
    opened = utc(2026, 1, 16, 15)  # Friday 16:00 local: 2 h Friday, 2 h Monday
    result = response_clock(berlin, opened, utc(2026, 1, 19, 8, 30))
    assert result.deadline == utc(2026, 1, 19, 9)
    assert result.met is True


def test_response_clock_with_half_an_hour(berlin: BusinessCalendar) -> None:
    result = response_clock(
        berlin, utc(2026, 1, 12, 9), utc(2026, 1, 12, 9, 45), business_hours=Decimal("0.5")
    )
    assert result.deadline == utc(2026, 1, 12, 9, 30)
    assert result.late_by == timedelta(minutes=15)


def test_response_clock_across_us_spring_forward() -> None:
    new_york = BusinessCalendar("America/New_York", cutoff=time(15))
    # Friday 2026-03-06 16:00 EST + 4 business hours -> Monday 10:00 EDT = 14:00 UTC.
    result = response_clock(new_york, utc(2026, 3, 6, 21), None, now=utc(2026, 3, 9, 14, 30))
    assert result.deadline == utc(2026, 3, 9, 14)
    assert result.met is False
    assert result.late_by == timedelta(minutes=30)


# --- bad input ---


def test_stop_before_start_is_rejected(berlin: BusinessCalendar) -> None:
    with pytest.raises(SlaError, match="is before started_at") as info:
        on_time_ship_clock(berlin, RELEASED, utc(2026, 1, 13, 9))
    assert info.value.field == "stopped_at"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda cal: on_time_ship_clock(cal, datetime(2026, 1, 13, 10), None), "released_at"),
        (
            lambda cal: on_time_ship_clock(cal, RELEASED, datetime(2026, 1, 13, 12)),
            "handed_over_at",
        ),
        (
            lambda cal: on_time_ship_clock(cal, RELEASED, None, datetime(2026, 1, 14)),
            "ship_by_override",
        ),
        (lambda cal: dock_to_stock_clock(cal, datetime(2026, 1, 12), None), "arrived_at"),
        (lambda cal: return_processing_clock(cal, RELEASED, datetime(2026, 1, 14)), "disposed_at"),
        (lambda cal: response_clock(cal, RELEASED, None, now=datetime(2026, 1, 14)), "now"),
    ],
)
def test_naive_datetimes_are_rejected(
    berlin: BusinessCalendar, call: Callable[[BusinessCalendar], ClockResult], field: str
) -> None:
    with pytest.raises(SlaError, match=f"{field} must be timezone-aware") as info:
        call(berlin)
    assert info.value.field == field
