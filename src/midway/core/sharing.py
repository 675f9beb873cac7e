"""The data-sharing policy of an agreement: how much of the end customer's personal data the
provider sees on the fulfillment orders assigned to it, and for how long.

The merchant owns the customer relationship; the provider needs an address to ship. So a
provider always sees the ship-to address of an open fulfillment order of its own, and the
policy decides the rest:

* ``customer_pii``: ``assigned_fulfillment_orders`` (the default) shows the whole ship-to,
  contact phone and e-mail included (carriers ask for them); ``address_only`` shows the name
  and postal address for the label, never the phone or e-mail.
* ``pii_retention_days`` (default 90, 0–3,650): once a fulfillment order is finished (closed,
  cancelled, incomplete) for that many days, the provider sees only the country and postal
  code, which is what reporting by region needs.

The merchant always sees its own orders whole; this policy is about the provider's view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from midway.core.errors import DomainError

FULL = "assigned_fulfillment_orders"
ADDRESS_ONLY = "address_only"
LEVELS = (FULL, ADDRESS_ONLY)
CONTACT_FIELDS = ("phone", "email")
KEPT_AFTER_RETENTION = ("country", "postal_code")
MAX_RETENTION_DAYS = 3650


class SharingError(DomainError):
    """A data-sharing policy is invalid."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, code="invalid_data_sharing", field=field)


@dataclass(frozen=True)
class SharingPolicy:
    """What the provider sees of the customer on its fulfillment orders."""

    customer_pii: str = FULL
    pii_retention_days: int = 90

    def as_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {"customer_pii": self.customer_pii, "pii_retention_days": self.pii_retention_days}


DEFAULT = SharingPolicy()


def parse_sharing(raw: Mapping[str, Any] | None, where: str = "data_sharing") -> SharingPolicy:
    """A policy from its stored or proposed form (missing keys take the defaults); raises
    :class:`SharingError` naming the field at fault."""
    if raw is None:
        return DEFAULT
    if not isinstance(raw, Mapping):
        raise SharingError("data_sharing must be an object", field=where)
    unknown = sorted(set(raw) - {"customer_pii", "pii_retention_days"})
    if unknown:
        raise SharingError(
            f"unknown key '{unknown[0]}' (known: customer_pii, pii_retention_days)",
            field=f"{where}.{unknown[0]}",
        )
    level = raw.get("customer_pii", DEFAULT.customer_pii)
    if level not in LEVELS:
        raise SharingError(
            f"customer_pii must be one of {', '.join(LEVELS)}", field=f"{where}.customer_pii"
        )
    days = raw.get("pii_retention_days", DEFAULT.pii_retention_days)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_RETENTION_DAYS:
        raise SharingError(
            f"pii_retention_days must be a whole number of days from 0 to {MAX_RETENTION_DAYS}",
            field=f"{where}.pii_retention_days",
        )
    return SharingPolicy(customer_pii=level, pii_retention_days=days)


def provider_ship_to(
    policy: SharingPolicy,
    ship_to: Mapping[str, Any],
    *,
    finished_at: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """The ship-to a provider may see; ``finished_at`` is when its fulfillment order reached a
    final status (None while it is open). A reduced view says so with ``redacted``."""
    if finished_at is not None and now - finished_at >= timedelta(days=policy.pii_retention_days):
        return {k: ship_to.get(k) for k in KEPT_AFTER_RETENTION} | {"redacted": True}
    if policy.customer_pii == ADDRESS_ONLY:
        kept = {k: v for k, v in ship_to.items() if k not in CONTACT_FIELDS}
        return kept | {"redacted": True}
    return dict(ship_to)
