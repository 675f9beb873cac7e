"""Fixtures shared by every test: databases (SQLite always, PostgreSQL when configured), an API
client, and parties with keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from midway.api_deps import forget_cached_keys
from midway.app import create_app
from midway.db import Database
from midway.parties import service as parties
from midway.schema import upgrade
from midway.settings import Settings

PG_URL = os.environ.get("MIDWAY_TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("MIDWAY_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true"
BACKENDS = ["sqlite", "postgres"]
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

_pg_ready = False


def _postgres() -> Database:
    global _pg_ready
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("MIDWAY_TEST_DATABASE_URL is not set but PostgreSQL tests are required")
        pytest.skip("PostgreSQL not configured (set MIDWAY_TEST_DATABASE_URL)")
    db = Database(PG_URL, pool_size=40)
    if not _pg_ready:
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(PG_URL)
        _pg_ready = True
    return db


def _truncate(db: Database) -> None:
    from midway.models import metadata

    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A fresh, migrated database: SQLite, then PostgreSQL when configured."""
    forget_cached_keys()
    if request.param == "sqlite":
        template = tmp_path_factory.getbasetemp() / "template.db"
        if not template.exists():
            upgrade(f"sqlite:///{template}")
        path = tmp_path_factory.mktemp("db") / "midway.db"
        path.write_bytes(template.read_bytes())
        database = Database(f"sqlite:///{path}", pool_size=40)
        yield database
        database.dispose()
    else:
        database = _postgres()
        _truncate(database)
        yield database
        database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A fresh migrated SQLite database only."""
    url = f"sqlite:///{tmp_path / 'midway.db'}"
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


@dataclass
class Actor:
    """A party with an API key, and an HTTP client that sends it."""

    id: str
    kind: str
    key: str
    client: TestClient

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self.headers | kw.pop("headers", {}), **kw)

    def post(self, url: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(url, json=json, headers=self.headers | kw.pop("headers", {}), **kw)

    def put(self, url: str, json: Any = None, **kw: Any) -> Any:
        return self.client.put(url, json=json, headers=self.headers | kw.pop("headers", {}), **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.client.delete(url, headers=self.headers | kw.pop("headers", {}), **kw)


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    """An in-process HTTP client of the API on ``db``."""
    app = create_app(Settings(database_url=db.url), database=db)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_actor(db: Database, client: TestClient) -> Any:
    """Create a party with an admin key: ``make_actor("merchant", "Acme")``."""

    def make(kind: str, name: str, role: str = "admin") -> Actor:
        with db.transaction() as session:
            party, key = parties.create_party(session, kind=kind, name=name, role=role)
        return Actor(id=party.id, kind=kind, key=key.secret, client=client)

    return make


@dataclass
class LiveServer:
    """A real uvicorn server on a loopback port, serving the API on ``db``."""

    url: str


@pytest.fixture
def live_server(db: Database) -> Iterator[LiveServer]:
    """Start the API in a background thread on 127.0.0.1 and stop it afterwards."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(Settings(database_url=db.url), database=db)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        pytest.fail("the API server did not start")
    yield LiveServer(url)
    server.should_exit = True
    thread.join(timeout=10)
