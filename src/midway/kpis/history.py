"""History import: completed orders from another system become order facts (source=import), so
a merchant gets KPI baselines from day one and KPIs can be checked against real data.

The whole file is validated first; any bad row stops the import (every bad row is reported
with its line number and field) and nothing is written. Importing the same order id again
replaces the earlier import of it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from midway.agreements import service as agreements
from midway.db import new_id, utcnow
from midway.errors import InvalidInput
from midway.facilities.models import Facility
from midway.kpis.models import OrderFact
from midway.kpis.periods import zone
from midway.principal import Principal

TIME_FIELDS = ("placed_at", "released_at", "ship_by", "handed_at", "delivered_at", "rated_at")
# A promise given as a bare date means "by the end of that day" (local time).
DAY_FIELDS = ("ship_by", "promised_delivery")
BOOL_FIELDS = ("shipped_complete", "accurate", "damaged")
KNOWN = frozenset(
    (
        "order_id",
        "channel",
        "facility_code",
        "units",
        "lines",
        "rating",
        "promised_delivery",
        *TIME_FIELDS,
        *BOOL_FIELDS,
    )
)
CHUNK = 1000


@dataclass
class RowError:
    """One bad row: its line number, the field at fault and why."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did."""

    batch: str
    imported: int = 0
    replaced: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "batch": self.batch,
            "imported": self.imported,
            "replaced": self.replaced,
            "errors": [e.__dict__ for e in self.errors],
        }


@dataclass(frozen=True)
class Site:
    """Where imported orders were fulfilled."""

    facility_id: str | None
    agreement_id: str | None
    provider_id: str | None


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, raw row) from JSON Lines (``.jsonl``/``.json``) or CSV (``.csv``)."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                yield reader.line_num, {k: v for k, v in row.items() if k is not None}
        return
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, {"__error__": f"not valid JSON: {exc.msg}"}
                continue
            yield number, data if isinstance(data, dict) else {"__error__": "not a JSON object"}


def _instant(raw: Any, tz: ZoneInfo, *, end_of_day: bool) -> datetime | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        raise ValueError("must be an ISO 8601 date-time string")
    text = raw.strip()
    if end_of_day and len(text) == 10:
        day = date.fromisoformat(text)
        # The last microsecond of the local day: "by 18 Oct" includes all of 18 Oct.
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        return local.astimezone(UTC) - timedelta(microseconds=1)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _bool(raw: Any) -> bool | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError("must be true or false")


def _lines(raw: Any) -> list[dict[str, Any]]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):  # CSV: "SKU-1:2;SKU-2:1"
        items = []
        for part in raw.split(";"):
            sku, _, qty = part.strip().rpartition(":")
            if not sku or not qty.isdigit() or int(qty) <= 0:
                raise ValueError(f"'{part}' is not SKU:QUANTITY")
            items.append({"sku": sku, "quantity": int(qty)})
        return items
    if not isinstance(raw, list):
        raise ValueError("must be a list of {sku, quantity}")
    items = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            raise ValueError("each line needs a sku")
        count = item.get("quantity")
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            raise ValueError("each line needs a positive whole quantity")
        items.append({"sku": item["sku"], "quantity": count})
    return items


def _int(raw: Any, low: int, high: int) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValueError("must be a whole number")
    value = int(raw) if isinstance(raw, int) else int(str(raw).strip())
    if not low <= value <= high:
        raise ValueError(f"must be from {low} to {high}")
    return value


def parse_row(
    line: int, raw: dict[str, Any], tz: ZoneInfo, sites: Callable[[str | None, int], Site]
) -> tuple[dict[str, Any] | None, list[RowError]]:
    """One raw row as the values of an order fact, or the errors that stop it."""
    if "__error__" in raw:
        return None, [RowError(line, "(row)", raw["__error__"])]
    errors: list[RowError] = []
    unknown = sorted(set(raw) - KNOWN)
    if unknown:
        errors.append(RowError(line, unknown[0], f"unknown column; known: {sorted(KNOWN)}"))
    ref = raw.get("order_id")
    if not isinstance(ref, str | int) or not str(ref).strip() or len(str(ref)) > 128:
        errors.append(RowError(line, "order_id", "required, at most 128 characters"))
    values: dict[str, Any] = {}
    for name in (*TIME_FIELDS, "promised_delivery"):
        try:
            values[name] = _instant(raw.get(name), tz, end_of_day=name in DAY_FIELDS)
        except ValueError as exc:
            errors.append(RowError(line, name, f"{raw.get(name)!r} {exc}"))
    for name in BOOL_FIELDS:
        try:
            values[name] = _bool(raw.get(name))
        except ValueError as exc:
            errors.append(RowError(line, name, str(exc)))
    for name, low, high in (("rating", 1, 5), ("units", 0, 1_000_000)):
        try:
            values[name] = _int(raw.get(name), low, high)
        except ValueError as exc:
            errors.append(RowError(line, name, str(exc) if "must" in str(exc) else "not a number"))
    try:
        values["lines"] = _lines(raw.get("lines"))
    except ValueError as exc:
        errors.append(RowError(line, "lines", str(exc)))
    channel = raw.get("channel")
    if channel is not None and (not isinstance(channel, str) or len(channel) > 64):
        errors.append(RowError(line, "channel", "at most 64 characters"))
    site = None
    try:
        site = sites(raw.get("facility_code") or None, line)
    except InvalidInput as exc:
        errors.append(RowError(line, "facility_code", exc.detail))
    if errors or site is None:
        return None, errors
    units = values["units"]
    if units is None:
        units = sum(item["quantity"] for item in values["lines"])
    handed = values["handed_at"]
    rated_at = values["rated_at"] or values["delivered_at"] or handed
    if values["rating"] is not None and rated_at is None:
        return None, [RowError(line, "rated_at", "a rating needs rated_at (or a delivery time)")]
    accurate = values["accurate"]
    return {
        "external_ref": str(ref).strip(),
        "channel": channel or None,
        "facility_id": site.facility_id,
        "agreement_id": site.agreement_id,
        "provider_id": site.provider_id,
        "status": "shipped" if handed is not None else "unshipped",
        "placed_at": values["placed_at"],
        "released_at": values["released_at"],
        "ship_by": values["ship_by"],
        "handed_at": handed,
        "promised_delivery": values["promised_delivery"],
        "delivered_at": values["delivered_at"],
        "units": units,
        "units_shipped": units if handed is not None else 0,
        "shipped_complete": values["shipped_complete"],
        "inaccurate": None if accurate is None else not accurate,
        "damaged": values["damaged"],
        "rating": values["rating"],
        "rated_at": rated_at if values["rating"] is not None else None,
        "lines": values["lines"],
    }, []


class SiteResolver:
    """Facility codes of the import, checked against what serves the merchant."""

    def __init__(
        self,
        session: Session,
        principal: Principal,
        agreement_id: str | None,
        facility_code: str | None,
    ) -> None:
        self.session = session
        self.principal = principal
        self.agreement_id = agreement_id
        self.provider_id: str | None = None
        self.allowed: dict[str, Site] = {}
        if agreement_id is not None:
            agreement, versions = agreements.get(session, principal, agreement_id)
            self.provider_id = agreement.provider_id
            ids = {fid for v in versions for fid in v.facility_ids}
            for fac in session.scalars(select(Facility).where(Facility.id.in_(ids))):
                self.allowed[fac.code] = Site(fac.id, agreement_id, agreement.provider_id)
        else:
            for terms in agreements.active_terms(session, principal.party_id):
                for fac in session.scalars(
                    select(Facility).where(Facility.id.in_(terms.facility_ids))
                ):
                    self.allowed.setdefault(
                        fac.code, Site(fac.id, terms.agreement_id, terms.provider_id)
                    )
        for fac in session.scalars(select(Facility).where(Facility.party_id == principal.party_id)):
            self.allowed.setdefault(fac.code, Site(fac.id, agreement_id, self.provider_id))
        self.default = self._find(facility_code) if facility_code else None

    def _find(self, code: str) -> Site:
        site = self.allowed.get(code)
        if site is None:
            where = f"agreement {self.agreement_id}" if self.agreement_id else "this merchant"
            raise InvalidInput(f"no facility '{code}' serves {where}", field="facility_code")
        return site

    def __call__(self, code: str | None, _line: int) -> Site:
        """The site of one row (its own facility code, else the import's)."""
        if code:
            return self._find(code)
        if self.default is not None:
            return self.default
        return Site(None, self.agreement_id, self.provider_id)


def import_history(
    session: Session,
    principal: Principal,
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    agreement_id: str | None = None,
    facility_code: str | None = None,
    timezone: str = "UTC",
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate every row, then write them all (or nothing, when any row is bad)."""
    principal.require("operator")
    principal.require_kind("merchant", "import order history")
    tz = zone(timezone)
    sites = SiteResolver(session, principal, agreement_id, facility_code)
    report = ImportReport(batch=new_id("imp"))
    parsed: dict[str, dict[str, Any]] = {}
    for line, raw in rows:
        values, errors = parse_row(line, raw, tz, sites)
        report.errors += errors
        if values is not None:
            parsed[values["external_ref"]] = values  # a later row of the same order wins
        if on_progress is not None:
            on_progress(1)
    if report.errors:
        return report
    now = utcnow()
    refs = list(parsed)
    for start in range(0, len(refs), CHUNK):
        chunk = refs[start : start + CHUNK]
        gone = session.execute(
            delete(OrderFact).where(
                OrderFact.merchant_id == principal.party_id,
                OrderFact.source == "import",
                OrderFact.external_ref.in_(chunk),
            )
        )
        report.replaced += int(getattr(gone, "rowcount", 0) or 0)
        session.execute(
            insert(OrderFact),
            [
                {
                    **parsed[ref],
                    "id": new_id("ofc"),
                    "source": "import",
                    "merchant_id": principal.party_id,
                    "order_id": None,
                    "fulfillment_order_id": None,
                    "shipments": {},
                    "incident_ids": [],
                    "event_ids": [],
                    "import_batch": report.batch,
                    "updated_at": now,
                }
                for ref in chunk
            ],
        )
    report.imported = len(refs)
    return report
