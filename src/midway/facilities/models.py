"""Table of facilities."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base, Money


class Facility(Base):
    """A place where work happens, run by one party (a provider's warehouse or a merchant site)."""

    __tablename__ = "facilities"
    __table_args__ = (UniqueConstraint("party_id", "code", name="uq_facility_party_code"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    cutoff_local_time: Mapped[str] = mapped_column(String(5))
    cost_per_package: Mapped[Decimal] = mapped_column(Money())
    cost_per_unit: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime]
