"""Routes: who am I, parties, API keys."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from midway.api_deps import CurrentPrincipal, Db, forget_cached_keys
from midway.parties import service
from midway.schemas import PROBLEM_RESPONSES, StrictModel

router = APIRouter(tags=["parties"], responses=PROBLEM_RESPONSES)


class PartyOut(BaseModel):
    """A party."""

    id: str
    kind: str
    name: str
    created_at: datetime


class WhoAmI(BaseModel):
    """The caller."""

    party: PartyOut
    role: str


class KeyIn(StrictModel):
    """A new key for the caller's party."""

    role: str = "operator"
    label: str | None = None


class KeyOut(BaseModel):
    """A freshly issued key: the secret is shown this once."""

    id: str
    role: str
    api_key: str


@router.get("/v1/me", response_model=WhoAmI)
def me(principal: CurrentPrincipal, db: Db) -> WhoAmI:
    """The party and role of the calling key."""
    with db.transaction(write=False) as session:
        party = service.get_party(session, principal.party_id)
        return WhoAmI(
            party=PartyOut.model_validate(party, from_attributes=True), role=principal.role
        )


@router.get("/v1/parties", response_model=list[PartyOut])
def parties(principal: CurrentPrincipal, db: Db, kind: str | None = None) -> list[PartyOut]:
    """Parties (to find a provider's id when proposing an agreement)."""
    with db.transaction(write=False) as session:
        return [
            PartyOut.model_validate(p, from_attributes=True)
            for p in service.list_parties(session, kind=kind)
        ]


@router.post("/v1/api-keys", response_model=KeyOut, status_code=201)
def create_key(body: KeyIn, principal: CurrentPrincipal, db: Db) -> KeyOut:
    """Issue another key for the caller's party (admin only); rotate by issuing, then revoking."""
    principal.require("admin")
    with db.transaction() as session:
        issued = service.issue_key(
            session, party_id=principal.party_id, role=body.role, label=body.label
        )
    return KeyOut(id=issued.id, role=issued.role, api_key=issued.secret)


@router.delete("/v1/api-keys/{key_id}", status_code=204)
def revoke_key(key_id: str, principal: CurrentPrincipal, db: Db) -> None:
    """Revoke one of the caller's party's keys."""
    principal.require("admin")
    with db.transaction() as session:
        service.revoke_key(session, key_id=key_id, party_id=principal.party_id)
    forget_cached_keys()
