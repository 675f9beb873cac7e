"""Scorecard months and weeks in each facility's local time (worked by hand)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from midway.errors import InvalidInput
from midway.sla.months import LocalWindow, Zones, local_month, local_weeks

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
ZONES = Zones({"fac_chi": CHICAGO, "fac_ber": BERLIN}, fallback=CHICAGO)


def test_an_instant_belongs_to_the_month_of_its_facility() -> None:
    october = local_month("2026-10", ZONES)
    november = local_month("2026-11", ZONES)
    # 03:30 UTC on 1 November: 22:30 CDT on 31 October, 04:30 CET on 1 November.
    instant = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
    assert october.contains(instant, "fac_chi") and not november.contains(instant, "fac_chi")
    assert november.contains(instant, "fac_ber") and not october.contains(instant, "fac_ber")
    # Without a facility, or one the agreement does not name: the fallback zone (Chicago).
    assert october.contains(instant, None) and october.contains(instant, "fac_elsewhere")
    assert not october.contains(None, "fac_chi")


def test_the_month_spans_from_the_earliest_start_to_the_latest_end() -> None:
    october = local_month("2026-10", ZONES)
    # Berlin starts first (1 Oct 00:00 CEST = 30 Sep 22:00 UTC); Chicago ends last
    # (1 Nov 00:00 CDT = 05:00 UTC).
    assert october.start == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert october.end == datetime(2026, 11, 1, 5, tzinfo=UTC)
    assert october.bounds()["fac_ber"] == (
        datetime(2026, 9, 30, 22, tzinfo=UTC),
        datetime(2026, 10, 31, 23, tzinfo=UTC),  # CET again from 25 October
    )


def test_weeks_are_those_whose_monday_is_in_the_month() -> None:
    weeks = local_weeks(local_month("2026-10", ZONES))
    # October 2026 starts on a Thursday: Mondays 5, 12, 19 and 26; the last runs into November.
    assert [w.label for w in weeks] == [
        "2026-10-05..2026-10-11",
        "2026-10-12..2026-10-18",
        "2026-10-19..2026-10-25",
        "2026-10-26..2026-11-01",
    ]
    last = weeks[-1]
    assert isinstance(last, LocalWindow)
    assert (last.first, last.following) == (date(2026, 10, 26), date(2026, 11, 2))
    # Sunday 1 November 23:30 CST = 05:30 UTC on Monday 2 November: still the week.
    assert last.contains(datetime(2026, 11, 2, 5, 30, tzinfo=UTC), "fac_chi")


def test_a_malformed_month_names_the_period() -> None:
    with pytest.raises(InvalidInput) as caught:
        local_month("2026-13", ZONES)
    assert caught.value.extra == {"field": "period"}
