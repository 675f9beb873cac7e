"""Use cases for parties and API keys. Never commits: the caller owns the transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from midway.db import new_id, utcnow
from midway.errors import InvalidInput, NotFound, Unauthenticated
from midway.parties.models import ApiKey, Party
from midway.principal import ROLES, Principal

KINDS = ("merchant", "provider")


@dataclass(frozen=True)
class IssuedKey:
    """A freshly issued key: ``secret`` is shown once and never stored."""

    id: str
    party_id: str
    role: str
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_party(
    session: Session, *, kind: str, name: str, role: str = "admin"
) -> tuple[Party, IssuedKey]:
    """Create a merchant or provider and its first API key."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not '{kind}'", field="kind")
    if not name.strip():
        raise InvalidInput("name must not be empty", field="name")
    party = Party(id=new_id("pty"), kind=kind, name=name.strip(), created_at=utcnow())
    session.add(party)
    session.flush()
    return party, issue_key(session, party_id=party.id, role=role)


def issue_key(session: Session, *, party_id: str, role: str, label: str | None = None) -> IssuedKey:
    """Issue a new API key for a party; the secret is returned once, only its hash is kept."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not '{role}'", field="role")
    if session.get(Party, party_id) is None:
        raise NotFound(f"no party {party_id}")
    prefix = secrets.token_hex(6)
    secret = f"mw_{prefix}_{secrets.token_urlsafe(24)}"
    key = ApiKey(
        id=new_id("key"),
        party_id=party_id,
        role=role,
        prefix=prefix,
        key_hash=_hash(secret),
        label=label,
        created_at=utcnow(),
        revoked_at=None,
    )
    session.add(key)
    session.flush()
    return IssuedKey(id=key.id, party_id=party_id, role=role, secret=secret)


def revoke_key(session: Session, *, key_id: str, party_id: str | None = None) -> None:
    """Revoke a key at once (rotation: issue a new one, switch, revoke the old)."""
    query = update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
    if party_id is not None:
        query = query.where(ApiKey.party_id == party_id)
    done = session.execute(query.values(revoked_at=utcnow()))
    if done.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no active key {key_id}")


def authenticate(session: Session, secret: str) -> Principal:
    """The principal for an API key secret, or Unauthenticated."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != "mw":
        raise Unauthenticated("malformed API key", code="invalid_api_key")
    row = session.execute(
        select(ApiKey.key_hash, ApiKey.role, ApiKey.revoked_at, Party.id, Party.kind)
        .join(Party, Party.id == ApiKey.party_id)
        .where(ApiKey.prefix == parts[1])
    ).first()
    if (
        row is None
        or row.revoked_at is not None
        or not secrets.compare_digest(row.key_hash, _hash(secret))
    ):
        raise Unauthenticated("unknown or revoked API key", code="invalid_api_key")
    return Principal(party_id=row.id, kind=row.kind, role=row.role)


def get_party(session: Session, party_id: str) -> Party:
    """A party by id (parties are public names: any principal may look one up)."""
    party = session.get(Party, party_id)
    if party is None:
        raise NotFound(f"no party {party_id}")
    return party


def list_parties(session: Session, *, kind: str | None = None) -> list[Party]:
    """Every party, optionally of one kind."""
    query = select(Party).order_by(Party.created_at)
    if kind is not None:
        query = query.where(Party.kind == kind)
    return list(session.scalars(query))
