"""Tables of SLA clocks, the clock engine's cursor over the event feed, and facility closures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base


class SlaClock(Base):
    """One measured promise: started by an event, stopped by another, due at ``deadline``.

    ``status`` is running, met, breached (stopped late, or still running past the deadline) or
    void (the work was cancelled before it could be done, so it counts nowhere).
    """

    __tablename__ = "sla_clocks"
    __table_args__ = (
        UniqueConstraint("kind", "subject_type", "subject_id", name="uq_sla_clock_subject"),
        Index("ix_sla_clocks_running_deadline", "status", "deadline"),
        Index("ix_sla_clocks_agreement_kind", "agreement_id", "kind", "stopped_at"),
        Index("ix_sla_clocks_merchant", "merchant_id", "kind"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    merchant_id: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(32))
    agreement_id: Mapped[str | None] = mapped_column(String(32))
    facility_id: Mapped[str | None] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(32))
    accountable: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime]
    deadline: Mapped[datetime]
    at_risk_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    at_risk_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    breached_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    start_event_id: Mapped[str] = mapped_column(String(32))
    stop_event_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]]


class SlaCursor(Base):
    """How far the clock engine has read the event feed (transaction id, then sequence)."""

    __tablename__ = "sla_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    tx_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)


class FacilityClosure(Base):
    """A day a facility is closed on top of its country's public holidays (local date)."""

    __tablename__ = "facility_closures"
    __table_args__ = (UniqueConstraint("facility_id", "day", name="uq_facility_closure_day"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(32), index=True)
    day: Mapped[date]
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
