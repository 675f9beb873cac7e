"""API shapes of EDI partners, documents and inbound results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, StrictBool

from midway.schemas import StrictModel


class PartnerIn(StrictModel):
    """A trading partner of the caller's party (its ERP or WMS)."""

    name: str = Field(min_length=1, max_length=200)
    interchange_qualifier: str = Field("ZZ", min_length=2, max_length=2, description="ISA05")
    interchange_id: str = Field(min_length=1, max_length=15, description="ISA06 they send")
    our_qualifier: str = Field("ZZ", min_length=2, max_length=2, description="ISA07")
    our_id: str = Field("MIDWAY", min_length=1, max_length=15, description="ISA08 they send")
    profile: dict[str, Any] = Field(
        default_factory=dict,
        description="engine profile: version, delimiters, newline_after_terminator, usage, "
        "acknowledgment_requested, overrides",
    )
    channel: str = Field("edi", min_length=1, max_length=64, description="channel of its 940s")
    facility_code: str | None = Field(None, max_length=64, description="default facility")
    item_qualifier: str = Field("VN", min_length=2, max_length=2, description="SKU qualifier")
    depositors: dict[str, str] = Field(
        default_factory=dict, description="N1*DE codes of a provider's WMS → merchant ids"
    )
    enabled: StrictBool = True


class InventoryAdviceIn(StrictModel):
    """An 846 of the caller's stock at one facility, for one partner or all of them."""

    facility_code: str = Field(min_length=1, max_length=64)
    partner_id: str | None = Field(None, description="only this partner (default: every one)")


class PartnerOut(BaseModel):
    """A trading partner."""

    id: str
    party_id: str
    name: str
    interchange_qualifier: str
    interchange_id: str
    our_qualifier: str
    our_id: str
    profile: dict[str, Any]
    channel: str
    facility_code: str | None
    item_qualifier: str
    depositors: dict[str, Any]
    enabled: bool
    interchange_control: int
    group_control: int
    set_control: int
    created_at: datetime


class DocumentOut(BaseModel):
    """A transaction set received from or sent to a partner."""

    id: str
    partner_id: str
    direction: str
    set_id: str
    interchange_control: str
    group_control: str
    set_control: str
    status: str
    objects: dict[str, Any]
    diagnostics: list[Any]
    note: str | None
    file_name: str | None
    created_at: datetime
    updated_at: datetime
    ack_status: str | None
    ack_codes: list[Any] | None
    acknowledged_at: datetime | None
    ack_document_id: str | None


class SetResultOut(BaseModel):
    """What one transaction set of a posted document did."""

    set_id: str
    interchange_control: str
    group_control: str
    set_control: str
    status: str = Field(description="accepted, rejected or duplicate")
    document_id: str | None
    objects: dict[str, Any]
    note: str
    diagnostics: list[dict[str, Any]]


class InboundResultOut(BaseModel):
    """The result of a posted X12 document: per set, and the acknowledgment to send back."""

    partner_id: str
    ok: bool
    counts: dict[str, int]
    sets: list[SetResultOut]
    acknowledgment: str = Field(description="the 997 (and TA1) answering the document")
    acknowledgment_document_ids: list[str]
    diagnostics: list[dict[str, Any]]
