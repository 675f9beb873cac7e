"""Table of tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base


class Task(Base):
    """One unit of owned work, its owner decided by the responsibility matrix."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_owner_status", "owner_party_id", "status"),
        Index("ix_tasks_fo", "fulfillment_order_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(32))
    fulfillment_order_id: Mapped[str | None] = mapped_column(String(32))
    process: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str] = mapped_column(String(16))
    owner_party_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None]
    decision: Mapped[dict[str, Any]]
    skus: Mapped[list[Any]]
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(32))
