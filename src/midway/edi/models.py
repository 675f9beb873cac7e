"""Tables of EDI partners, the documents exchanged with them, the outbound event cursor and
the providers' inventory snapshots (846) kept for reconciliation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from midway.db import Base


class EdiPartner(Base):
    """A trading partner: the system (a merchant's ERP, a provider's WMS) a party talks X12
    through, with its interchange identifiers, its engine profile and its control numbers."""

    __tablename__ = "edi_partners"
    __table_args__ = (
        UniqueConstraint(
            "party_id",
            "interchange_qualifier",
            "interchange_id",
            name="uq_edi_partner_interchange",
        ),
        CheckConstraint(
            "interchange_control >= 0 AND group_control >= 0 AND set_control >= 0",
            name="edi_partner_controls_positive",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # ISA05/ISA06 of what the partner sends (and ISA07/ISA08 of what Midway sends it).
    interchange_qualifier: Mapped[str] = mapped_column(String(2))
    interchange_id: Mapped[str] = mapped_column(String(15))
    # ISA07/ISA08 the partner addresses Midway with (ISA05/ISA06 of what Midway sends).
    our_qualifier: Mapped[str] = mapped_column(String(2))
    our_id: Mapped[str] = mapped_column(String(15))
    profile: Mapped[dict[str, Any]]
    channel: Mapped[str] = mapped_column(String(64))
    facility_code: Mapped[str | None] = mapped_column(String(64))
    item_qualifier: Mapped[str] = mapped_column(String(2))
    # For a provider's WMS: depositor codes it writes in N1*DE, mapped to merchant ids.
    depositors: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(Boolean)
    # The last ISA13, GS06 and ST02 Midway used towards this partner.
    interchange_control: Mapped[int] = mapped_column(BigInteger)
    group_control: Mapped[int] = mapped_column(BigInteger)
    set_control: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class EdiDocument(Base):
    """One transaction set received from or sent to a partner, what it did, and its 997.

    The natural key (partner, direction, ISA13, GS06, ST02) makes a resent file a duplicate
    instead of a second order.
    """

    __tablename__ = "edi_documents"
    __table_args__ = (
        UniqueConstraint(
            "partner_id",
            "direction",
            "interchange_control",
            "group_control",
            "set_control",
            name="uq_edi_document_control_numbers",
        ),
        CheckConstraint("direction IN ('in', 'out')", name="edi_document_direction"),
        CheckConstraint(
            "status IN ('accepted', 'rejected', 'sent', 'failed', 'acknowledged', 'ack_rejected')",
            name="edi_document_status",
        ),
        Index("ix_edi_documents_partner_created", "partner_id", "created_at"),
        Index("ix_edi_documents_partner_group", "partner_id", "direction", "group_control"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("edi_partners.id"))
    direction: Mapped[str] = mapped_column(String(3))
    set_id: Mapped[str] = mapped_column(String(6))
    interchange_control: Mapped[str] = mapped_column(String(16))
    group_control: Mapped[str] = mapped_column(String(16))
    set_control: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    objects: Mapped[dict[str, Any]]
    diagnostics: Mapped[list[Any]]
    note: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # What the partner's 997 said about a document Midway sent.
    ack_status: Mapped[str | None] = mapped_column(String(2))
    ack_codes: Mapped[list[Any] | None]
    acknowledged_at: Mapped[datetime | None]
    ack_document_id: Mapped[str | None] = mapped_column(String(32))


class EdiCursor(Base):
    """How far the outbound side has read the event feed: (writing transaction, sequence)."""

    __tablename__ = "edi_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    tx_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class ProviderSnapshot(Base):
    """A provider's inventory report (846): its book of one merchant's stock at a moment."""

    __tablename__ = "provider_snapshots"
    __table_args__ = (Index("ix_provider_snapshots_merchant_as_of", "merchant_id", "as_of"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("edi_partners.id"))
    provider_id: Mapped[str] = mapped_column(String(32))
    merchant_id: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[datetime]
    document_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class ProviderSnapshotLine(Base):
    """Units of one SKU at one facility, as the provider's book says."""

    __tablename__ = "provider_snapshot_lines"
    __table_args__ = (Index("ix_snapshot_lines_lookup", "merchant_id", "facility_id", "as_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[str] = mapped_column(ForeignKey("provider_snapshots.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(String(32))
    facility_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    as_of: Mapped[datetime]
