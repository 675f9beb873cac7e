"""Business calendar: cut-off, business days and business hours, hand-worked in local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from midway.core.calendar import (
    BusinessCalendar,
    CalendarError,
    add_business_days,
    add_business_hours,
    business_hours_between,
    ship_by,
)

ALL_DAYS = frozenset(range(7))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def berlin() -> BusinessCalendar:
    return BusinessCalendar(timezone="Europe/Berlin", cutoff=time(14, 0))


@pytest.fixture
def new_york() -> BusinessCalendar:
    return BusinessCalendar(timezone="America/New_York", cutoff=time(15, 0))


# --- ship_by: cut-off boundaries (Berlin in winter is UTC+1, so 14:00 local = 13:00 UTC) ---


def test_one_minute_before_cutoff_ships_same_day(berlin: BusinessCalendar) -> None:
    # Tuesday 13:59 local.
    assert ship_by(berlin, utc(2026, 1, 13, 12, 59)) == utc(2026, 1, 13, 13, 0)


def test_exactly_at_cutoff_counts_as_after(berlin: BusinessCalendar) -> None:
    assert ship_by(berlin, utc(2026, 1, 13, 13, 0)) == utc(2026, 1, 14, 13, 0)


def test_after_cutoff_ships_next_business_day(berlin: BusinessCalendar) -> None:
    assert ship_by(berlin, utc(2026, 1, 13, 13, 1)) == utc(2026, 1, 14, 13, 0)


def test_early_morning_release_ships_same_day(berlin: BusinessCalendar) -> None:
    # Tuesday 00:30 local is still Tuesday 2026-01-13 although UTC says Monday.
    assert ship_by(berlin, utc(2026, 1, 12, 23, 30)) == utc(2026, 1, 13, 13, 0)


def test_friday_after_cutoff_ships_monday(berlin: BusinessCalendar) -> None:
    assert ship_by(berlin, utc(2026, 1, 16, 14, 0)) == utc(2026, 1, 19, 13, 0)


@pytest.mark.parametrize(
    "released",
    [utc(2026, 1, 17, 9, 0), utc(2026, 1, 18, 12, 0), utc(2026, 1, 17, 0, 0)],
    ids=["saturday-morning", "sunday-before-cutoff-time", "saturday-midnight"],
)
def test_weekend_release_ships_monday(berlin: BusinessCalendar, released: datetime) -> None:
    assert ship_by(berlin, released) == utc(2026, 1, 19, 13, 0)


def test_holiday_release_ships_next_business_day() -> None:
    christmas = BusinessCalendar(
        timezone="Europe/Berlin",
        cutoff=time(14, 0),
        holidays=frozenset({date(2026, 12, 25), date(2026, 12, 26)}),
    )
    # Friday 2026-12-25 09:00 local is a holiday; the weekend follows; Monday the 28th.
    assert ship_by(christmas, utc(2026, 12, 25, 8, 0)) == utc(2026, 12, 28, 13, 0)
    # Thursday the 24th after cut-off skips the holiday Friday as well.
    assert ship_by(christmas, utc(2026, 12, 24, 13, 30)) == utc(2026, 12, 28, 13, 0)


def test_without_the_holiday_christmas_is_a_working_friday(berlin: BusinessCalendar) -> None:
    assert ship_by(berlin, utc(2026, 12, 25, 8, 0)) == utc(2026, 12, 25, 13, 0)


def test_same_instant_gives_different_deadlines_per_zone(
    berlin: BusinessCalendar, new_york: BusinessCalendar
) -> None:
    released = utc(2026, 1, 13, 15, 30)  # Berlin 16:30 (after cut-off), New York 10:30 (before)
    assert ship_by(berlin, released) == utc(2026, 1, 14, 13, 0)
    assert ship_by(new_york, released) == utc(2026, 1, 13, 20, 0)


def test_same_instant_falls_on_different_local_days(
    berlin: BusinessCalendar, new_york: BusinessCalendar
) -> None:
    released = utc(2026, 1, 16, 23, 30)  # Berlin: Saturday 00:30; New York: Friday 18:30
    assert ship_by(berlin, released) == utc(2026, 1, 19, 13, 0)
    assert ship_by(new_york, released) == utc(2026, 1, 19, 20, 0)


def test_result_is_utc_even_for_non_utc_input(berlin: BusinessCalendar) -> None:
    released = datetime(2026, 1, 13, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 01:00 UTC
    deadline = ship_by(berlin, released)
    assert deadline.tzinfo is UTC
    assert deadline == utc(2026, 1, 13, 13, 0)


# --- ship_by across daylight-saving changes ---


def test_us_spring_forward_weekend(new_york: BusinessCalendar) -> None:
    # Friday 2026-03-06 15:30 EST (after cut-off) -> Monday 15:00 EDT = 19:00 UTC, not 20:00.
    assert ship_by(new_york, utc(2026, 3, 6, 20, 30)) == utc(2026, 3, 9, 19, 0)


def test_us_fall_back_weekend(new_york: BusinessCalendar) -> None:
    # Friday 2026-10-30 16:00 EDT -> Monday 2026-11-02 15:00 EST = 20:00 UTC.
    assert ship_by(new_york, utc(2026, 10, 30, 20, 0)) == utc(2026, 11, 2, 20, 0)


def test_eu_spring_forward_weekend(berlin: BusinessCalendar) -> None:
    # Friday 2026-03-27 15:00 CET -> Monday 14:00 CEST = 12:00 UTC.
    assert ship_by(berlin, utc(2026, 3, 27, 14, 0)) == utc(2026, 3, 30, 12, 0)


def test_eu_fall_back_weekend(berlin: BusinessCalendar) -> None:
    # Friday 2026-10-23 15:00 CEST -> Monday 2026-10-26 14:00 CET = 13:00 UTC.
    assert ship_by(berlin, utc(2026, 10, 23, 13, 0)) == utc(2026, 10, 26, 13, 0)


def test_release_on_the_eu_spring_forward_night() -> None:
    seven_days = BusinessCalendar("Europe/Berlin", cutoff=time(14, 0), workdays=ALL_DAYS)
    # 01:30 CET, half an hour before the clocks jump; cut-off that day is 14:00 CEST.
    assert ship_by(seven_days, utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 12, 0)


@pytest.mark.parametrize(
    "released",
    [utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)],
    ids=["first-0230-cest", "second-0230-cet"],
)
def test_release_in_the_repeated_eu_hour(released: datetime) -> None:
    seven_days = BusinessCalendar("Europe/Berlin", cutoff=time(14, 0), workdays=ALL_DAYS)
    assert ship_by(seven_days, released) == utc(2026, 10, 25, 13, 0)


def test_release_on_the_us_spring_forward_day_at_cutoff() -> None:
    seven_days = BusinessCalendar("America/New_York", cutoff=time(15, 0), workdays=ALL_DAYS)
    # 15:00 EDT on 2026-03-08 is 19:00 UTC: exactly at cut-off rolls to Monday 15:00 EDT.
    assert ship_by(seven_days, utc(2026, 3, 8, 18, 59)) == utc(2026, 3, 8, 19, 0)
    assert ship_by(seven_days, utc(2026, 3, 8, 19, 0)) == utc(2026, 3, 9, 19, 0)


def test_cutoff_inside_the_spring_forward_gap_reads_with_the_old_offset() -> None:
    night = BusinessCalendar(
        "Europe/Berlin", cutoff=time(2, 30), workdays=ALL_DAYS, opens=time(0), closes=time(6)
    )
    # 02:30 does not exist on 2026-03-29; read as 02:30 CET = 01:30 UTC (03:30 CEST).
    assert ship_by(night, utc(2026, 3, 29, 1, 0)) == utc(2026, 3, 29, 1, 30)
    assert ship_by(night, utc(2026, 3, 29, 1, 30)) == utc(2026, 3, 30, 0, 30)


# --- business days ---


def test_is_business_day_and_next_business_day() -> None:
    calendar = BusinessCalendar(
        "Europe/Berlin", cutoff=time(14), holidays=frozenset({date(2026, 1, 19)})
    )
    assert calendar.is_business_day(date(2026, 1, 16))  # Friday
    assert not calendar.is_business_day(date(2026, 1, 17))  # Saturday
    assert not calendar.is_business_day(date(2026, 1, 19))  # Monday, but a closure
    assert calendar.next_business_day(date(2026, 1, 16)) == date(2026, 1, 20)
    # Strictly after: a business day's successor is the following business day.
    assert calendar.next_business_day(date(2026, 1, 20)) == date(2026, 1, 21)


def test_custom_workdays_include_saturday() -> None:
    calendar = BusinessCalendar(
        "Europe/Berlin", cutoff=time(14), workdays=frozenset({0, 1, 2, 3, 4, 5})
    )
    assert calendar.workdays == frozenset(range(6))
    assert calendar.next_business_day(date(2026, 1, 16)) == date(2026, 1, 17)
    assert ship_by(calendar, utc(2026, 1, 16, 14, 0)) == utc(2026, 1, 17, 13, 0)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (utc(2026, 1, 12, 10), 0, utc(2026, 1, 12, 17)),  # Monday -> Monday 18:00 local
        (utc(2026, 1, 12, 10), 2, utc(2026, 1, 14, 17)),  # Monday -> Wednesday
        (utc(2026, 1, 12, 20), 0, utc(2026, 1, 12, 17)),  # time of day does not matter
        (utc(2026, 1, 12, 23, 30), 0, utc(2026, 1, 13, 17)),  # already Tuesday locally
        (utc(2026, 1, 15, 10), 3, utc(2026, 1, 20, 17)),  # Thursday + 3 skips the weekend
        (utc(2026, 1, 17, 10), 0, utc(2026, 1, 19, 17)),  # Saturday: day 0 is Monday
        (utc(2026, 1, 17, 10), 1, utc(2026, 1, 20, 17)),
        (utc(2026, 3, 27, 10), 1, utc(2026, 3, 30, 16)),  # Monday 18:00 CEST after the change
    ],
)
def test_add_business_days(
    berlin: BusinessCalendar, start: datetime, days: int, expected: datetime
) -> None:
    assert add_business_days(berlin, start, days) == expected


def test_add_business_days_skips_holidays() -> None:
    calendar = BusinessCalendar(
        "Europe/Berlin",
        cutoff=time(14),
        holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 31)}),
    )
    # Wednesday 23rd + 2 -> Thu 24 (closed), Fri 25 (closed) -> Mon 28, Tue 29.
    assert add_business_days(calendar, utc(2026, 12, 23, 9), 2) == utc(2026, 12, 29, 17)


def test_add_business_days_rejects_negative_days(berlin: BusinessCalendar) -> None:
    with pytest.raises(CalendarError, match="days must not be negative") as info:
        add_business_days(berlin, utc(2026, 1, 12), -1)
    assert info.value.field == "days"


# --- business hours between two instants (Berlin 08:00-18:00, UTC+1 in winter) ---


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (utc(2026, 1, 12, 9), utc(2026, 1, 12, 12), Decimal(3)),  # inside one day
        (utc(2026, 1, 12, 5), utc(2026, 1, 12, 20), Decimal(10)),  # before opens to after closes
        (utc(2026, 1, 12, 16), utc(2026, 1, 13, 8, 30), Decimal("2.5")),  # overnight: 1 + 1.5
        (utc(2026, 1, 16, 15), utc(2026, 1, 19, 9), Decimal(4)),  # over a weekend: 2 + 2
        (utc(2026, 1, 11, 23), utc(2026, 1, 18, 23), Decimal(50)),  # a whole local week
        (utc(2026, 1, 17, 9), utc(2026, 1, 18, 15), Decimal(0)),  # only weekend
        (utc(2026, 1, 12, 12), utc(2026, 1, 12, 12), Decimal(0)),  # empty interval
        (utc(2026, 1, 12, 12), utc(2026, 1, 12, 9), Decimal(0)),  # end before start
    ],
)
def test_business_hours_between(
    berlin: BusinessCalendar, start: datetime, end: datetime, hours: Decimal
) -> None:
    expected = timedelta(seconds=int(hours * 3600))
    assert business_hours_between(berlin, start, end) == expected


def test_business_hours_between_skips_holidays() -> None:
    calendar = BusinessCalendar(
        "Europe/Berlin", cutoff=time(14), holidays=frozenset({date(2026, 1, 13)})
    )
    # Monday 17:00 local to Wednesday 09:00 local: 1 h Monday, Tuesday closed, 1 h Wednesday.
    assert business_hours_between(calendar, utc(2026, 1, 12, 16), utc(2026, 1, 14, 8)) == (
        timedelta(hours=2)
    )


def test_business_hours_on_the_short_us_dst_day_count_real_time() -> None:
    long_days = BusinessCalendar(
        "America/New_York", cutoff=time(15), workdays=ALL_DAYS, opens=time(0), closes=time(23)
    )
    # 2026-03-08 00:00 EST (05:00 UTC) to 23:00 EDT (03:00 UTC next day) is 22 real hours;
    # then 00:00-01:00 EDT on the 9th (04:00-05:00 UTC) adds one more.
    assert business_hours_between(long_days, utc(2026, 3, 8, 5), utc(2026, 3, 9, 5)) == (
        timedelta(hours=23)
    )


def test_business_hours_on_the_long_eu_dst_day_count_real_time() -> None:
    long_days = BusinessCalendar(
        "Europe/Berlin", cutoff=time(15), workdays=ALL_DAYS, opens=time(0), closes=time(23)
    )
    # 2026-10-25 00:00 CEST (2026-10-24 22:00 UTC) to 23:00 CET (22:00 UTC) is 24 real hours.
    start, end = utc(2026, 10, 24, 22), utc(2026, 10, 25, 22)
    assert business_hours_between(long_days, start, end) == timedelta(hours=24)


# --- adding business hours ---


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (utc(2026, 1, 12, 9), 4, utc(2026, 1, 12, 13)),  # Monday 10:00 + 4 -> 14:00 local
        (utc(2026, 1, 12, 9), Decimal("1.5"), utc(2026, 1, 12, 10, 30)),
        (utc(2026, 1, 12, 16), 4, utc(2026, 1, 13, 10)),  # 1 h Monday, 3 h Tuesday
        (utc(2026, 1, 16, 15), 4, utc(2026, 1, 19, 9)),  # 2 h Friday, 2 h Monday
        (utc(2026, 1, 17, 10), 1, utc(2026, 1, 19, 8)),  # Saturday start -> Monday 09:00
        (utc(2026, 1, 12, 5), 1, utc(2026, 1, 12, 8)),  # before opens -> 09:00 local
        (utc(2026, 1, 12, 7), 10, utc(2026, 1, 12, 17)),  # fills the day: ends at closes
        (utc(2026, 1, 12, 7), 24, utc(2026, 1, 14, 11)),  # 10 + 10 + 4 -> Wednesday 12:00
        (utc(2026, 1, 12, 20), 0, utc(2026, 1, 12, 20)),  # zero hours: start itself
    ],
)
def test_add_business_hours(
    berlin: BusinessCalendar, start: datetime, hours: Decimal | int, expected: datetime
) -> None:
    assert add_business_hours(berlin, start, hours) == expected


@pytest.mark.parametrize(
    ("zone", "start", "hours", "expected"),
    [
        # Friday 16:00 EST + 4: 2 h Friday, then Monday 08:00-10:00 EDT = 14:00 UTC.
        ("America/New_York", utc(2026, 3, 6, 21), 4, utc(2026, 3, 9, 14)),
        # Friday 16:00 EDT + 4: 2 h Friday, then Monday 08:00-10:00 EST = 15:00 UTC.
        ("America/New_York", utc(2026, 10, 30, 20), 4, utc(2026, 11, 2, 15)),
        # Friday 17:00 CET + 2: 1 h Friday, then Monday 08:00-09:00 CEST = 07:00 UTC.
        ("Europe/Berlin", utc(2026, 3, 27, 16), 2, utc(2026, 3, 30, 7)),
        # Friday 17:00 CEST + 2: 1 h Friday, then Monday 08:00-09:00 CET = 08:00 UTC.
        ("Europe/Berlin", utc(2026, 10, 23, 15), 2, utc(2026, 10, 26, 8)),
    ],
)
def test_add_business_hours_across_dst_weekends(
    zone: str, start: datetime, hours: int, expected: datetime
) -> None:
    calendar = BusinessCalendar(zone, cutoff=time(15))
    assert add_business_hours(calendar, start, hours) == expected


def test_add_business_hours_through_the_eu_spring_forward_night() -> None:
    long_days = BusinessCalendar(
        "Europe/Berlin", cutoff=time(15), workdays=ALL_DAYS, opens=time(0), closes=time(23)
    )
    start = utc(2026, 3, 28, 23)  # 2026-03-29 00:00 CET
    # That day has only 22 real business hours (00:00 CET to 23:00 CEST = 21:00 UTC).
    assert add_business_hours(long_days, start, 22) == utc(2026, 3, 29, 21)
    # The 23rd hour is the first hour of the 30th: 00:00 CEST = 22:00 UTC, + 1 h.
    assert add_business_hours(long_days, start, 23) == utc(2026, 3, 29, 23)


@pytest.mark.parametrize("hours", [1, 3, 10, 11, 37, Decimal("0.25")])
@pytest.mark.parametrize(
    "start", [utc(2026, 1, 12, 9, 17), utc(2026, 1, 16, 16, 45), utc(2026, 1, 18, 3)]
)
def test_adding_then_measuring_business_hours_round_trips(
    berlin: BusinessCalendar, start: datetime, hours: Decimal | int
) -> None:
    deadline = add_business_hours(berlin, start, hours)
    assert business_hours_between(berlin, start, deadline) == timedelta(hours=float(hours))


@pytest.mark.parametrize("bad", [-1, Decimal("-0.5"), 1.5, Decimal("NaN"), True])
def test_add_business_hours_rejects_bad_hours(berlin: BusinessCalendar, bad: object) -> None:
    with pytest.raises(CalendarError, match="hours") as info:
        add_business_hours(berlin, utc(2026, 1, 12, 9), bad)  # type: ignore[arg-type]
    assert info.value.field == "hours"


# --- validation ---


def test_unknown_timezone_is_rejected() -> None:
    with pytest.raises(CalendarError, match="unknown time zone 'Europe/Atlantis'") as info:
        BusinessCalendar("Europe/Atlantis", cutoff=time(14))
    assert info.value.field == "timezone"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", ["", "../etc/passwd"])
def test_malformed_timezone_is_rejected(bad: str) -> None:
    with pytest.raises(CalendarError) as info:
        BusinessCalendar(bad, cutoff=time(14))
    assert info.value.field == "timezone"


def test_opens_must_be_before_closes() -> None:
    with pytest.raises(CalendarError, match="opens") as info:
        BusinessCalendar("Europe/Berlin", cutoff=time(14), opens=time(18), closes=time(8))
    assert info.value.field == "opens"


def test_cutoff_must_be_local_wall_time() -> None:
    with pytest.raises(CalendarError, match="cutoff must be a local wall-clock time") as info:
        BusinessCalendar("Europe/Berlin", cutoff=time(14, tzinfo=UTC))
    assert info.value.field == "cutoff"


@pytest.mark.parametrize("workdays", [frozenset({0, 7}), frozenset(), frozenset({True})])
def test_bad_workdays_are_rejected(workdays: frozenset[int]) -> None:
    with pytest.raises(CalendarError, match="workdays") as info:
        BusinessCalendar("Europe/Berlin", cutoff=time(14), workdays=workdays)
    assert info.value.field == "workdays"


def test_datetime_holidays_are_rejected() -> None:
    with pytest.raises(CalendarError, match=r"holidays must be datetime\.date") as info:
        BusinessCalendar(
            "Europe/Berlin",
            cutoff=time(14),
            holidays=frozenset({datetime(2026, 12, 25, tzinfo=UTC)}),
        )
    assert info.value.field == "holidays"


def test_naive_datetimes_are_rejected(berlin: BusinessCalendar) -> None:
    naive = datetime(2026, 1, 12, 9)
    with pytest.raises(CalendarError, match="released_at must be timezone-aware") as info:
        ship_by(berlin, naive)
    assert info.value.field == "released_at"
    with pytest.raises(CalendarError, match="end must be timezone-aware"):
        business_hours_between(berlin, utc(2026, 1, 12), naive)
    with pytest.raises(CalendarError, match="start must be timezone-aware"):
        add_business_hours(berlin, naive, 1)
    with pytest.raises(CalendarError, match="start must be timezone-aware"):
        add_business_days(berlin, naive, 1)


def test_calendar_is_hashable_and_comparable() -> None:
    one = BusinessCalendar(
        "Europe/Berlin", cutoff=time(14), holidays=frozenset({date(2026, 12, 25)})
    )
    # A list is accepted and stored as a frozenset, so both calendars are equal and hashable.
    listed: Any = [date(2026, 12, 25)]
    two = BusinessCalendar("Europe/Berlin", cutoff=time(14), holidays=listed)
    assert isinstance(two.holidays, frozenset)
    assert one == two
    assert hash(one) == hash(two)
