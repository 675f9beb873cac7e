"""Use cases for the merchant's catalog of SKUs. Never commits."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from midway import reads
from midway.catalog.models import Sku
from midway.cells import whole_number
from midway.db import new_id, one_of, per_dialect, utcnow
from midway.errors import InvalidInput, NotFound
from midway.principal import Principal

_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$")
_TAG = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")


@dataclass(frozen=True)
class SkuInput:
    """A SKU as the merchant describes it."""

    sku: str
    name: str
    weight_g: int = 0
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    tags: list[str] = field(default_factory=list)
    components: list[tuple[str, int]] = field(default_factory=list)
    packaging_instructions: str | None = None


@dataclass(frozen=True)
class RowError:
    """One bad row of a bulk upsert: where (index or line number) and what."""

    position: int
    field: str
    message: str


def _check(item: SkuInput, where: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not _SKU.match(item.sku):
        problems.append((f"{where}sku", "1-64 letters, digits or - _ . /, starting alphanumeric"))
    if not item.name.strip():
        problems.append((f"{where}name", "must not be empty"))
    for name in ("weight_g", "length_mm", "width_mm", "height_mm"):
        if getattr(item, name) < 0:
            problems.append((f"{where}{name}", "must not be negative"))
    for i, tag in enumerate(item.tags):
        if not _TAG.match(tag):
            problems.append((f"{where}tags[{i}]", f"'{tag}' is not a tag (lower-case a-z 0-9 _ -)"))
    seen: set[str] = set()
    for i, (component, quantity) in enumerate(item.components):
        if component == item.sku:
            problems.append((f"{where}components[{i}].sku", "a kit cannot contain itself"))
        if component in seen:
            problems.append((f"{where}components[{i}].sku", f"'{component}' listed twice"))
        seen.add(component)
        if quantity <= 0:
            problems.append((f"{where}components[{i}].quantity", "must be positive"))
    return problems


def upsert_many(
    session: Session, principal: Principal, items: Sequence[SkuInput]
) -> tuple[int, int]:
    """Create or update SKUs, all or nothing; returns (created, updated)."""
    principal.require("operator")
    principal.require_kind("merchant", "manage the catalog")
    errors: list[RowError] = []
    for index, item in enumerate(items):
        prefix = f"[{index}]." if len(items) > 1 else ""
        errors += [RowError(index, f, m) for f, m in _check(item, prefix)]
    codes = [i.sku for i in items]
    if len(set(codes)) != len(codes):
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        errors.append(RowError(-1, "sku", f"listed more than once: {', '.join(dupes)}"))
    existing = skus_by_code(
        session, principal.party_id, codes + [c for i in items for c, _ in i.components]
    )
    batch = {i.sku: i for i in items}
    for index, item in enumerate(items):
        for ci, (component, _) in enumerate(item.components):
            target = batch.get(component) or existing.get(component)
            prefix = f"[{index}]." if len(items) > 1 else ""
            where = f"{prefix}components[{ci}].sku"
            if target is None:
                errors.append(RowError(index, where, f"unknown SKU '{component}'"))
            elif target.components:
                errors.append(RowError(index, where, f"'{component}' is a kit; kits do not nest"))
    if errors:
        raise InvalidInput(
            f"{len(errors)} problem(s); nothing was saved. First: {errors[0].field}: "
            f"{errors[0].message}",
            field=errors[0].field,
            code="invalid_skus",
            errors=[
                {"position": e.position, "field": e.field, "message": e.message} for e in errors
            ],
        )
    now = utcnow()
    created = updated = 0
    for item in items:
        row = existing.get(item.sku)
        values = dict(
            name=item.name.strip(),
            weight_g=item.weight_g,
            length_mm=item.length_mm,
            width_mm=item.width_mm,
            height_mm=item.height_mm,
            tags=sorted(set(item.tags)),
            components=[{"sku": c, "quantity": q} for c, q in item.components],
            packaging_instructions=item.packaging_instructions,
            updated_at=now,
        )
        if row is None:
            session.add(
                Sku(
                    id=new_id("sku"),
                    merchant_id=principal.party_id,
                    sku=item.sku,
                    created_at=now,
                    **values,
                )
            )
            created += 1
        else:
            for key, value in values.items():
                setattr(row, key, value)
            updated += 1
    session.flush()
    return created, updated


def get_sku(session: Session, merchant_id: str, sku: str, *, field: str = "sku") -> Sku:
    """A merchant's SKU, or NotFound naming the field."""
    row = session.scalar(select(Sku).where(Sku.merchant_id == merchant_id, Sku.sku == sku))
    if row is None:
        raise NotFound(f"unknown SKU '{sku}'", field=field, code="unknown_sku")
    return row


def skus_by_code(session: Session, merchant_id: str, codes: Iterable[str]) -> dict[str, Sku]:
    """The merchant's SKUs among ``codes``, by code."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.scalars(select(Sku).where(Sku.merchant_id == merchant_id, Sku.sku.in_(wanted)))
    return {r.sku: r for r in rows}


@dataclass(frozen=True, slots=True)
class SkuFacts:
    """What order intake needs of a SKU."""

    sku: str
    tags: list[str]
    components: list[dict[str, Any]]


def sku_facts(session: Session, merchant_id: str, codes: Iterable[str]) -> dict[str, SkuFacts]:
    """Tags and kit components of the merchant's SKUs among ``codes`` (a light read)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = reads.rows(session, _SKU_FACTS, {"m": merchant_id, "skus": wanted})
    return {code: SkuFacts(code, tags, components) for code, tags, components in rows}


# Built once: intake reads SKU facts for every order (building the statement costs more than
# running it).
_SKU_FACTS = per_dialect(
    lambda dialect: select(Sku.sku, Sku.tags, Sku.components).where(
        Sku.merchant_id == bindparam("m"), one_of(Sku.sku, "skus", dialect)
    )
)


def list_skus(
    session: Session,
    merchant_id: str,
    *,
    tag: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> list[Sku]:
    """A page of the merchant's SKUs ordered by code."""
    query = select(Sku).where(Sku.merchant_id == merchant_id).order_by(Sku.sku).limit(limit)
    if after:
        query = query.where(Sku.sku > after)
    rows = list(session.scalars(query))
    return [r for r in rows if tag is None or tag in r.tags]


CSV_COLUMNS = (
    "sku",
    "name",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "tags",
    "components",
    "packaging_instructions",
)


def parse_csv(text: str) -> list[SkuInput]:
    """SKUs from CSV (columns in CSV_COLUMNS; tags ``a;b``, components ``SKU:2;SKU2:1``).

    Every bad row is reported with its line number; nothing is returned unless all are good.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("sku", "name") if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(f"CSV header lacks column(s): {', '.join(missing)}", field="header")
    items: list[SkuInput] = []
    errors: list[dict[str, object]] = []
    for row in reader:
        line = reader.line_num
        try:
            items.append(_csv_row(row))
        except ValueError as exc:
            errors.append({"line": line, "message": str(exc)})
    if errors:
        raise InvalidInput(
            f"{len(errors)} bad row(s); nothing was imported. First: line "
            f"{errors[0]['line']}: {errors[0]['message']}",
            field=f"line {errors[0]['line']}",
            code="invalid_csv",
            errors=errors,
        )
    return items


def _int(row: dict[str, str | None], name: str) -> int:
    raw = (row.get(name) or "0").strip() or "0"
    number = whole_number(raw)
    if number is None:
        raise ValueError(f"{name}: '{raw}' is not a whole number")
    return number


def _csv_row(row: dict[str, str | None]) -> SkuInput:
    components = []
    for part in filter(None, (p.strip() for p in (row.get("components") or "").split(";"))):
        code, _, qty = part.partition(":")
        count = whole_number(qty.strip() or "1")
        if count is None:
            raise ValueError(f"components: '{part}' is not SKU:quantity")
        components.append((code.strip(), count))
    return SkuInput(
        sku=(row.get("sku") or "").strip(),
        name=(row.get("name") or "").strip(),
        weight_g=_int(row, "weight_g"),
        length_mm=_int(row, "length_mm"),
        width_mm=_int(row, "width_mm"),
        height_mm=_int(row, "height_mm"),
        tags=[t.strip() for t in (row.get("tags") or "").split(";") if t.strip()],
        components=components,
        packaging_instructions=(row.get("packaging_instructions") or None),
    )
