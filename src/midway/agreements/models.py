"""Tables of agreements and their versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base


class Agreement(Base):
    """The contract between one merchant and one provider; its terms live in versions."""

    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    active_version: Mapped[int | None]
    latest_version: Mapped[int]
    created_at: Mapped[datetime]


class AgreementVersion(Base):
    """One version of an agreement's terms: proposed, then accepted (and later superseded)."""

    __tablename__ = "agreement_versions"

    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16))
    facility_ids: Mapped[list[Any]]
    template: Mapped[str | None] = mapped_column(String(40))
    matrix: Mapped[dict[str, Any]]
    scope: Mapped[dict[str, Any]]
    data_sharing: Mapped[dict[str, Any]]
    auto_submit: Mapped[bool]
    sla_terms: Mapped[list[Any] | None]
    rate_card: Mapped[dict[str, Any] | None]
    proposed_by: Mapped[str] = mapped_column(String(32))
    proposed_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
