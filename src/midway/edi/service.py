"""EDI partners, the record of documents exchanged, control numbers and the worker tick.

Each use case runs in the caller's transaction and never commits. Receiving documents lives in
:mod:`midway.edi.receiving` (with the set-by-set mappings of :mod:`midway.edi.inbound` and
:mod:`midway.edi.stock`), sending in :mod:`midway.edi.outbound`, folders in
:mod:`midway.edi.transport`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from midway.db import new_id, utcnow
from midway.edi.models import EdiDocument, EdiPartner, ProviderSnapshot, ProviderSnapshotLine
from midway.errors import Conflict, InvalidInput, NotFound
from midway.integrations.edi import PartnerProfile, ProfileError
from midway.parties import service as parties
from midway.principal import Principal

MAX_CONTROL = 999_999_999
DIRECTIONS = ("in", "out")
STATUSES = ("accepted", "rejected", "sent", "failed", "acknowledged", "ack_rejected")
# Profile keys that are partner columns: the engine profile is built from both.
_IDENTITY_KEYS = frozenset(
    ("name", "sender_id", "receiver_id", "sender_qualifier", "receiver_qualifier")
)


@dataclass(frozen=True)
class PartnerInput:
    """A trading partner to register for the caller's party."""

    name: str
    interchange_id: str
    interchange_qualifier: str = "ZZ"
    our_id: str = "MIDWAY"
    our_qualifier: str = "ZZ"
    profile: Mapping[str, Any] = field(default_factory=dict)
    channel: str = "edi"
    facility_code: str | None = None
    item_qualifier: str = "VN"
    depositors: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True


def engine_profile(partner: EdiPartner) -> PartnerProfile:
    """The engine's profile for talking to ``partner``: Midway is the sender of what it
    writes, the partner the receiver; delimiters, version, layout and overrides from the
    partner's stored profile."""
    data: dict[str, object] = dict(partner.profile)
    data.update(
        name=partner.name,
        sender_qualifier=partner.our_qualifier,
        sender_id=partner.our_id,
        receiver_qualifier=partner.interchange_qualifier,
        receiver_id=partner.interchange_id,
    )
    return PartnerProfile.from_dict(data)


def _check_input(data: PartnerInput) -> None:
    if not data.name.strip():
        raise InvalidInput("name must not be empty", field="name")
    for label, value, size in (
        ("interchange_id", data.interchange_id, 15),
        ("our_id", data.our_id, 15),
    ):
        if not value.strip() or len(value.strip()) > size:
            raise InvalidInput(f"{label} must be 1 to {size} characters", field=label)
    for label, value in (
        ("interchange_qualifier", data.interchange_qualifier),
        ("our_qualifier", data.our_qualifier),
        ("item_qualifier", data.item_qualifier),
    ):
        if len(value) != 2 or not value.isalnum():
            raise InvalidInput(f"{label} is two letters or digits", field=label)
    if not data.channel.strip() or len(data.channel) > 64:
        raise InvalidInput("channel must be 1 to 64 characters", field="channel")
    clash = _IDENTITY_KEYS & set(data.profile)
    if clash:
        raise InvalidInput(
            f"set {', '.join(sorted(clash))} as partner fields, not in the profile",
            field="profile",
        )
    for code, merchant in data.depositors.items():
        if not isinstance(code, str) or not isinstance(merchant, str) or not code or not merchant:
            raise InvalidInput("depositors maps codes to merchant ids", field="depositors")


def create_partner(session: Session, principal: Principal, data: PartnerInput) -> EdiPartner:
    """Register a trading partner of the caller's party (an admin's act)."""
    principal.require("admin")
    _check_input(data)
    partner = EdiPartner(
        id=new_id("edp"),
        party_id=principal.party_id,
        name=data.name.strip(),
        interchange_qualifier=data.interchange_qualifier.upper(),
        interchange_id=data.interchange_id.strip(),
        our_qualifier=data.our_qualifier.upper(),
        our_id=data.our_id.strip(),
        profile=dict(data.profile),
        channel=data.channel.strip(),
        facility_code=(data.facility_code or "").strip() or None,
        item_qualifier=data.item_qualifier.upper(),
        depositors=dict(data.depositors),
        enabled=data.enabled,
        interchange_control=0,
        group_control=0,
        set_control=0,
        created_at=utcnow(),
    )
    try:
        engine_profile(partner)
    except ProfileError as exc:
        raise InvalidInput(f"profile: {exc}", field="profile") from None
    if session.scalar(
        select(EdiPartner.id).where(
            EdiPartner.party_id == partner.party_id,
            EdiPartner.interchange_qualifier == partner.interchange_qualifier,
            EdiPartner.interchange_id == partner.interchange_id,
        )
    ):
        raise Conflict(
            f"a partner with interchange ID {partner.interchange_qualifier}/"
            f"{partner.interchange_id} already exists",
            code="duplicate_partner",
            field="interchange_id",
        )
    session.add(partner)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a concurrent registration of the same interchange ID
        raise Conflict("that partner already exists", code="duplicate_partner") from None
    return partner


def list_partners(session: Session, principal: Principal) -> list[EdiPartner]:
    """The caller's partners, oldest first."""
    return list(
        session.scalars(
            select(EdiPartner)
            .where(EdiPartner.party_id == principal.party_id)
            .order_by(EdiPartner.created_at, EdiPartner.id)
        )
    )


def get_partner(session: Session, principal: Principal, partner_id: str) -> EdiPartner:
    """One of the caller's partners (another party's answers 404)."""
    partner = session.scalar(
        select(EdiPartner).where(
            EdiPartner.id == partner_id, EdiPartner.party_id == principal.party_id
        )
    )
    if partner is None:
        raise NotFound(f"no EDI partner {partner_id}")
    return partner


def partner_by_id(session: Session, partner_id: str) -> EdiPartner:
    """A partner by id, whoever owns it (the worker and the operator's CLI)."""
    partner = session.get(EdiPartner, partner_id)
    if partner is None:
        raise NotFound(f"no EDI partner {partner_id}", field="partner")
    return partner


def partner_for_sender(
    session: Session, principal: Principal, qualifier: str, sender_id: str
) -> EdiPartner:
    """The caller's enabled partner whose interchanges come from ISA05/ISA06."""
    found = list(
        session.scalars(
            select(EdiPartner).where(
                EdiPartner.party_id == principal.party_id,
                EdiPartner.interchange_id == sender_id.strip(),
                EdiPartner.enabled.is_(True),
            )
        )
    )
    exact = [p for p in found if p.interchange_qualifier == qualifier.strip().upper()]
    if len(exact) == 1:
        return exact[0]
    if not exact and len(found) == 1:
        return found[0]
    raise NotFound(
        f"no enabled EDI partner of yours sends as {qualifier.strip()}/{sender_id.strip()}",
        code="unknown_edi_partner",
    )


def principal_of(session: Session, partner: EdiPartner) -> Principal:
    """Who a partner's documents act as: its party, with the operator role."""
    party = parties.get_party(session, partner.party_id)
    return Principal(party_id=party.id, kind=party.kind, role="operator")


def partners_of_party(session: Session, party_id: str) -> list[EdiPartner]:
    """Enabled partners of a party (where outbound documents for it go)."""
    return list(
        session.scalars(
            select(EdiPartner)
            .where(EdiPartner.party_id == party_id, EdiPartner.enabled.is_(True))
            .order_by(EdiPartner.created_at, EdiPartner.id)
        )
    )


# --- Control numbers ---------------------------------------------------------------------------


class StoredCounter:
    """A partner's control numbers, advanced in the database one statement at a time.

    Each call is a single guarded ``UPDATE … RETURNING``: PostgreSQL's row lock (or SQLite's
    write lock) serialises concurrent senders, so no two documents share a number, and a
    rolled-back transaction gives its numbers back. Numbers wrap from 999999999 to 1.
    """

    def __init__(self, session: Session, partner_id: str) -> None:
        self.session = session
        self.partner_id = partner_id

    def _next(self, name: str) -> int:
        column = getattr(EdiPartner, name)
        value = self.session.execute(
            update(EdiPartner)
            .where(EdiPartner.id == self.partner_id)
            .values({name: case((column >= MAX_CONTROL, 1), else_=column + 1)})
            .returning(column)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        return int(value)

    def next_interchange(self) -> int:
        """The next ISA13."""
        return self._next("interchange_control")

    def next_group(self) -> int:
        """The next GS06."""
        return self._next("group_control")

    def next_set(self) -> int:
        """The next ST02."""
        return self._next("set_control")


def control(value: str) -> str:
    """A control number as stored: padding and leading zeros do not make another number."""
    text = value.strip()
    return str(int(text)) if text.isdigit() else text


# --- Documents ---------------------------------------------------------------------------------


def list_documents(
    session: Session,
    principal: Principal,
    *,
    direction: str | None = None,
    status: str | None = None,
    partner_id: str | None = None,
    set_id: str | None = None,
    limit: int = 100,
) -> list[EdiDocument]:
    """Documents exchanged with the caller's partners, newest first."""
    if direction is not None and direction not in DIRECTIONS:
        raise InvalidInput("direction is in or out", field="direction")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status is one of {', '.join(STATUSES)}", field="status")
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", field="limit")
    query = (
        select(EdiDocument)
        .join(EdiPartner, EdiPartner.id == EdiDocument.partner_id)
        .where(EdiPartner.party_id == principal.party_id)
        .order_by(EdiDocument.created_at.desc(), EdiDocument.id.desc())
        .limit(limit)
    )
    if direction:
        query = query.where(EdiDocument.direction == direction)
    if status:
        query = query.where(EdiDocument.status == status)
    if partner_id:
        query = query.where(EdiDocument.partner_id == partner_id)
    if set_id:
        query = query.where(EdiDocument.set_id == set_id)
    return list(session.scalars(query))


def get_document(session: Session, principal: Principal, document_id: str) -> EdiDocument:
    """One document exchanged with one of the caller's partners."""
    document = session.scalar(
        select(EdiDocument)
        .join(EdiPartner, EdiPartner.id == EdiDocument.partner_id)
        .where(EdiDocument.id == document_id, EdiPartner.party_id == principal.party_id)
    )
    if document is None:
        raise NotFound(f"no EDI document {document_id}")
    return document


# --- Provider snapshots (846) ------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """A provider's book of one merchant's stock at one facility: units by SKU."""

    snapshot_id: str
    provider_id: str
    reference: str
    as_of: datetime
    quantities: dict[str, int]


def latest_snapshot(session: Session, merchant_id: str, facility_id: str) -> Snapshot | None:
    """The most recent provider snapshot (846) of the merchant's stock at a facility."""
    row = session.execute(
        select(ProviderSnapshotLine.snapshot_id, ProviderSnapshotLine.as_of)
        .where(
            ProviderSnapshotLine.merchant_id == merchant_id,
            ProviderSnapshotLine.facility_id == facility_id,
        )
        .order_by(ProviderSnapshotLine.as_of.desc(), ProviderSnapshotLine.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    snapshot = session.get(ProviderSnapshot, row[0])
    assert snapshot is not None
    quantities: dict[str, int] = {}
    for sku, quantity in session.execute(
        select(ProviderSnapshotLine.sku, ProviderSnapshotLine.quantity).where(
            ProviderSnapshotLine.snapshot_id == snapshot.id,
            ProviderSnapshotLine.facility_id == facility_id,
        )
    ):
        quantities[sku] = quantities.get(sku, 0) + quantity
    return Snapshot(snapshot.id, snapshot.provider_id, snapshot.reference, row[1], quantities)


# --- The worker ----------------------------------------------------------------------------------


def tick(session: Session, now: datetime) -> int:
    """One round of EDI work for ``midway worker``: turn new events into outbound documents,
    then take in the files waiting in the partners' inboxes. Returns how much it did (0 =
    idle). File moves and writes happen only once the caller's transaction commits."""
    # Imported here: both modules build on this one.
    from midway.edi.outbound import run
    from midway.edi.transport import pick_up

    return run(session, now) + pick_up(session, now)
