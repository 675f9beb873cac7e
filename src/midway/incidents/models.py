"""Tables of incidents and their threads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base


class Incident(Base):
    """An exception with an owner from the matrix, response and resolution times, who pays."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_owner_status", "owner_party_id", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(32), index=True)
    agreement_id: Mapped[str | None] = mapped_column(String(32))
    facility_id: Mapped[str | None] = mapped_column(String(32))
    fulfillment_order_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(16))
    owner_party_id: Mapped[str] = mapped_column(String(32))
    cost_bearer: Mapped[str | None] = mapped_column(String(16))
    decision: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    confirmed: Mapped[bool]
    opened_by: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)


class IncidentMessage(Base):
    """One message of the thread both parties write in."""

    __tablename__ = "incident_messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(String(32))
    author_party_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
