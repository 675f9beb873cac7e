"""Carriers and tracking numbers that look like the real formats (all invented)."""

from __future__ import annotations

import random
import string

from midway.demo.world import EU_SITE, US_SITE

_ALNUM = string.ascii_uppercase + string.digits


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def tracking_number(carrier: str, rng: random.Random) -> str:
    """A tracking number in the usual shape of ``carrier``'s numbers."""
    if carrier == "UPS":
        return "1Z" + "".join(rng.choice(_ALNUM) for _ in range(6)) + "03" + _digits(rng, 8)
    if carrier == "USPS":
        return "9400" + _digits(rng, 18)
    if carrier.startswith("FedEx"):
        return _digits(rng, 12)
    if carrier == "DHL Express":
        return _digits(rng, 10)
    if carrier == "DHL":
        return "00340434" + _digits(rng, 12)
    if carrier == "DPD":
        return "0" + _digits(rng, 13)
    return _digits(rng, 11)  # GLS


def label(site_code: str, country: str, rng: random.Random) -> tuple[str, str]:
    """The carrier a site uses for a parcel to ``country``, and a tracking number."""
    if site_code == EU_SITE:
        choices: tuple[tuple[str, int], ...] = (("DHL", 55), ("DPD", 30), ("GLS", 15))
    elif country != "US":
        choices = (("DHL Express", 60), ("FedEx International", 40))
    elif site_code == US_SITE:
        choices = (("UPS", 45), ("USPS", 35), ("FedEx Ground", 20))
    else:
        choices = (("USPS", 60), ("UPS", 40))
    carrier = rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]
    return carrier, tracking_number(carrier, rng)
