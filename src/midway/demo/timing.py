"""When people at a site get to things: business hours, review delays, ship times."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from midway.demo.world import Site

OPENS = time(8, 0)
CLOSES = time(18, 0)
CARRIER_PICKUP_AFTER_CUTOFF = timedelta(hours=2, minutes=30)


def next_business(
    site: Site, moment: datetime, opens: time = OPENS, closes: time = CLOSES
) -> datetime:
    """``moment`` if the site is open then (weekdays, office hours), else when it next opens."""
    local = moment.astimezone(site.zone)
    if local.weekday() < 5 and opens <= local.time() < closes:
        return moment
    day = local.date()
    if local.time() >= closes or local.weekday() >= 5:
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, opens, tzinfo=site.zone).astimezone(UTC)


def business_days_later(
    site: Site,
    moment: datetime,
    days: int,
    rng: random.Random,
    earliest: time = time(8, 30),
    latest: time = time(15, 30),
) -> datetime:
    """A random time during the working day ``days`` business days after ``moment``."""
    day = moment.astimezone(site.zone).date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    span = (datetime.combine(day, latest) - datetime.combine(day, earliest)).total_seconds()
    local = datetime.combine(day, earliest, tzinfo=site.zone) + timedelta(
        seconds=rng.uniform(0, span)
    )
    return local.astimezone(UTC)


def review_time(site: Site, moment: datetime, rng: random.Random) -> datetime:
    """When the site's team looks at work that arrived at ``moment``: minutes to hours later
    in office hours, otherwise within the first hours after opening."""
    start = next_business(site, moment)
    if start == moment:
        return moment + timedelta(minutes=min(240.0, rng.lognormvariate(3.6, 0.7)))
    return start + timedelta(minutes=rng.uniform(5, 110))


def ship_time(site: Site, accepted: datetime, rng: random.Random) -> datetime:
    """When accepted work leaves: the same day when accepted before the cut-off (by the
    carrier pick-up), otherwise the next business day; now and then a day late."""
    local = accepted.astimezone(site.zone)
    if rng.random() < 0.05:
        return business_days_later(site, accepted, 2, rng)
    if local.weekday() < 5 and local.time() < site.cutoff:
        pickup = datetime.combine(local.date(), site.cutoff, tzinfo=site.zone)
        pickup += CARRIER_PICKUP_AFTER_CUTOFF
        earliest = accepted + timedelta(minutes=35)
        latest = max(pickup.astimezone(UTC), earliest + timedelta(minutes=30))
        return earliest + (latest - earliest) * rng.random()
    return business_days_later(site, accepted, 1, rng)
