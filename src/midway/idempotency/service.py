"""Idempotency keys for POSTs (Stripe semantics, IETF draft status codes).

The key row is claimed in its own short transaction, so a concurrent duplicate sees it at once
and answers 409 while the first request is in flight. The reply is stored in the same
transaction as the work it describes; if the work fails, the claim is dropped so the client can
retry with the same key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from midway.db import Database, utcnow
from midway.errors import Conflict, IdempotencyMismatch, InvalidInput
from midway.idempotency.models import IdempotencyKey

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Replay:
    """A stored reply to send again."""

    status: int
    body: dict[str, Any]


def fingerprint(body: Any) -> str:
    """A stable hash of a JSON body."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def claim(
    db: Database,
    *,
    party_id: str,
    endpoint: str,
    key: str,
    body_hash: str,
    inflight_timeout: timedelta,
) -> Replay | None:
    """Claim a key: None to go ahead, a Replay to answer again, or raise 409/422."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters", field="header.Idempotency-Key"
        )
    now = utcnow()
    try:
        with db.transaction() as session:
            session.add(
                IdempotencyKey(
                    party_id=party_id,
                    endpoint=endpoint,
                    key=key,
                    fingerprint=body_hash,
                    state="in_flight",
                    response_status=None,
                    response_body=None,
                    created_at=now,
                )
            )
        return None
    except IntegrityError:
        pass
    with db.transaction() as session:
        row = session.get(IdempotencyKey, (party_id, endpoint, key))
        if row is None:  # the other request failed and dropped its claim meanwhile
            session.add(
                IdempotencyKey(
                    party_id=party_id,
                    endpoint=endpoint,
                    key=key,
                    fingerprint=body_hash,
                    state="in_flight",
                    response_status=None,
                    response_body=None,
                    created_at=now,
                )
            )
            return None
        if row.fingerprint != body_hash:
            raise IdempotencyMismatch(
                "this Idempotency-Key was used with a different request body",
                field="header.Idempotency-Key",
            )
        if row.state == "done" and row.response_status is not None:
            return Replay(status=row.response_status, body=row.response_body or {})
        if now - row.created_at < inflight_timeout:
            raise Conflict(
                "a request with this Idempotency-Key is still in progress",
                code="idempotency_key_in_flight",
            )
        row.created_at = now  # a stale claim from a crashed request: take it over
        return None


def complete(
    session: Session, *, party_id: str, endpoint: str, key: str, status: int, body: dict[str, Any]
) -> None:
    """Store the reply, in the same transaction as the work."""
    session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.party_id == party_id,
            IdempotencyKey.endpoint == endpoint,
            IdempotencyKey.key == key,
        )
        .values(state="done", response_status=status, response_body=body)
    )


def release(db: Database, *, party_id: str, endpoint: str, key: str) -> None:
    """Drop a claim whose request failed, so the client may retry with the same key."""
    with db.transaction() as session:
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.party_id == party_id,
                IdempotencyKey.endpoint == endpoint,
                IdempotencyKey.key == key,
                IdempotencyKey.state == "in_flight",
            )
        )


def prune(session: Session, *, older_than: timedelta) -> int:
    """Forget keys older than the retention window (published in docs/api.md)."""
    done = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - older_than)
    )
    return int(done.rowcount)  # type: ignore[attr-defined]
