"""The events table: every state change, written in the transaction that made it (the outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base


class Event(Base):
    """One state change; visible to its merchant and, when set, to the provider involved."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_merchant_seq", "merchant_id", "seq"),
        Index("ix_events_provider_seq", "provider_id", "seq"),
        Index("ix_events_undispatched", "dispatched", "seq"),
        # The billing meter's read of returns received (no other event type pays for it).
        Index(
            "ix_events_return_received",
            "merchant_id",
            sqlite_where=text("type = 'return.received'"),
            postgresql_where=text("type = 'return.received'"),
        ),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(32), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    merchant_id: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(32))
    actor_party_id: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]]
    dispatched: Mapped[bool] = mapped_column(Boolean, default=False)
    # PostgreSQL fills this with the writing transaction's id (a column default set by the
    # migration); the feed uses it so that no event is skipped when transactions commit out of
    # order. SQLite serialises writers and leaves it empty.
    tx_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
