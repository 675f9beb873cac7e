"""FastAPI dependencies shared by every router: the database, the principal, transactions."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from midway.db import Database
from midway.errors import Unauthenticated
from midway.fulfillment.group import GroupPlacer
from midway.parties import service as parties
from midway.principal import Principal

_CACHE_SECONDS = 5.0
_principal_cache: dict[str, tuple[float, Principal]] = {}


async def get_db(request: Request) -> Database:
    """The application's database (async: nothing blocks, so no worker thread is taken)."""
    db: Database = request.app.state.db
    return db


async def get_placer(request: Request) -> GroupPlacer:
    """The application's order placer (see :mod:`midway.fulfillment.group`)."""
    placer: GroupPlacer = request.app.state.placer
    return placer


async def get_principal(request: Request, db: Annotated[Database, Depends(get_db)]) -> Principal:
    """Authenticate ``Authorization: Bearer <key>``; cached for a few seconds per key.

    A cached key is answered on the event loop; only a lookup goes to a worker thread."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("send 'Authorization: Bearer <API key>'", code="missing_api_key")
    secret = secret.strip()
    now = time.monotonic()
    cached = _principal_cache.get(secret)
    if cached and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    principal = await run_in_threadpool(_authenticate, db, secret)
    if len(_principal_cache) > 10_000:
        _principal_cache.clear()
    _principal_cache[secret] = (now, principal)
    return principal


def _authenticate(db: Database, secret: str) -> Principal:
    with db.transaction(write=False) as session:
        return parties.authenticate(session, secret)


def write_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    """One write transaction for the request, committed when the route returns."""
    with db.transaction(write=True) as session:
        yield session


def read_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    """One read transaction for the request."""
    with db.transaction(write=False) as session:
        yield session


def forget_cached_keys() -> None:
    """Drop cached principals (after a key is revoked in-process, and in tests)."""
    _principal_cache.clear()


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
Db = Annotated[Database, Depends(get_db)]
Placer = Annotated[GroupPlacer, Depends(get_placer)]
WriteSession = Annotated[Session, Depends(write_session)]
ReadSession = Annotated[Session, Depends(read_session)]


def page_after() -> Any:
    """The ``after`` parameter of a paged list: the id of the previous page's last item."""
    return Query(None, description="the id of the previous page's last item: the next page")


def choice(values: Sequence[str], description: str) -> Any:
    """An optional query filter whose allowed values the OpenAPI document lists (``enum``).
    The service still checks the value, so a wrong one is a 422 naming the parameter."""
    return Query(None, description=description, json_schema_extra={"enum": list(values)})
