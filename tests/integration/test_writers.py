"""The queue of SQLite writers: processes take turns on the lock file, a writer waits at most
its time limit however long another process holds the file, and a writer that stopped waiting
never takes a turn from the next."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

import midway.db
from midway import cli, writers
from midway.app import create_app
from midway.db import Database
from midway.facilities.models import Facility
from midway.parties import service as parties
from midway.parties.models import Party
from midway.settings import Settings, get_settings
from midway.writers import WriterLine

FORK = multiprocessing.get_context("fork")


def _hold_the_line(path: str, holding: Any, release: Any, left: Any) -> None:
    line = WriterLine(path)
    assert line.enter()
    holding.set()
    release.wait(30)
    left.set()
    line.leave()


class _Holder:
    """Another process in the line, holding its turn until :meth:`release`."""

    def __init__(self, path: str) -> None:
        self.holding, self._release, self.left = FORK.Event(), FORK.Event(), FORK.Event()
        self._process = FORK.Process(
            target=_hold_the_line, args=(path, self.holding, self._release, self.left)
        )

    def __enter__(self) -> _Holder:
        self._process.start()
        assert self.holding.wait(10)
        return self

    def release(self) -> None:
        self._release.set()

    def __exit__(self, *_: object) -> None:
        self._release.set()
        self._process.join(10)
        assert self._process.exitcode == 0


def _can_lock(path: str) -> bool:
    """Whether a process of its own could take the lock file right now."""
    result = FORK.Queue()

    def probe() -> None:
        fd = os.open(f"{path}-writer.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            result.put(True)
        except BlockingIOError:
            result.put(False)
        finally:
            os.close(fd)

    process = FORK.Process(target=probe)
    process.start()
    process.join(10)
    return bool(result.get(timeout=1))


def test_sqlite_writers_of_two_processes_take_turns(tmp_path: Path) -> None:
    """A writer of another process holds the line: ours gets in only after it left."""
    path = str(tmp_path / "midway.db")
    with _Holder(path) as other:
        line = WriterLine(path)
        other.release()
        assert line.enter()
        assert other.left.is_set()
        line.leave()
        line.close()


def test_a_writer_stops_waiting_at_its_time_limit(tmp_path: Path) -> None:
    """A process that never leaves (stopped, or stuck) holds the file: the writer gives up
    after its limit instead of waiting for good, and the next writer of its process is not
    kept out of the queue by it."""
    path = str(tmp_path / "midway.db")
    line = WriterLine(path)
    with _Holder(path) as other:
        started = time.monotonic()
        assert not line.enter(timeout=0.3)
        assert time.monotonic() - started < 5
        assert not line.enter(timeout=0.1)  # the thread lock was given back
        other.release()
        assert line.enter(timeout=10)
        assert other.left.is_set()
        line.leave()
    line.close()


def test_a_writer_that_stopped_waiting_takes_no_turn_from_the_next(tmp_path: Path) -> None:
    """The helper that asked for the file for a writer that gave up gets it later: it hands
    it to the writer now waiting, which holds it until it leaves (no other process gets in)."""
    path = str(tmp_path / "midway.db")
    line = WriterLine(path)
    with _Holder(path) as other:
        assert not line.enter(timeout=0.2)
        other.release()
        assert line.enter(timeout=10)
    assert not _can_lock(path)
    line.leave()
    assert _can_lock(path)
    # Uncontended again: the next turns are taken directly, and still exclusive.
    assert line.enter(timeout=1)
    assert not _can_lock(path)
    line.leave()
    line.close()


def test_a_forked_child_has_its_own_place_in_the_line(tmp_path: Path) -> None:
    """A child forked while its parent holds the line shares the parent's open lock file; it
    must not take that as its own turn."""
    path = str(tmp_path / "midway.db")
    line = WriterLine(path)
    assert line.enter()
    result = FORK.Queue()

    def child() -> None:
        result.put(line.enter(timeout=0.3))

    process = FORK.Process(target=child)
    process.start()
    process.join(10)
    assert result.get(timeout=1) is False
    line.leave()
    line.close()


def test_a_write_goes_on_when_the_line_is_held_too_long(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process holding the lock file but not SQLite's lock: after the queue's limit the
    write goes on through SQLite's busy handler and commits."""
    monkeypatch.setattr(writers, "QUEUE_SECONDS", 0.3)
    path = sqlite_db.engine.url.database
    assert path is not None
    with _Holder(path), sqlite_db.transaction() as session:
        parties.create_party(session, kind="merchant", name="Patient Goods")
    with sqlite_db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Party)) == 1


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers wait 0.2 s in the queue and 0.2 s in SQLite's busy handler."""
    monkeypatch.setattr(writers, "QUEUE_SECONDS", 0.2)
    monkeypatch.setattr(midway.db, "SQLITE_BUSY_SECONDS", 0.2)


def _locked_by_another_program(path: str) -> sqlite3.Connection:
    """A program that does not use Midway's queue holds SQLite's write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_a_database_locked_too_long_is_a_503_to_retry(sqlite_db: Database, impatient: None) -> None:
    db = Database(sqlite_db.url)
    with db.transaction() as session:
        _party, key = parties.create_party(session, kind="merchant", name="Locked Out Goods")
    app = create_app(Settings(database_url=db.url), database=db)
    path = db.engine.url.database
    assert path is not None
    body = {
        "code": "STUDIO",
        "name": "Studio",
        "country": "US",
        "timezone": "America/New_York",
        "cutoff_local_time": "15:00",
    }
    other = _locked_by_another_program(path)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.post(
                "/v1/facilities", json=body, headers={"Authorization": f"Bearer {key.secret}"}
            )
    finally:
        other.rollback()
        other.close()
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "database_busy"
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Facility)) == 0
    db.dispose()


def test_the_cli_says_the_database_is_busy(
    sqlite_db: Database, impatient: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIDWAY_DATABASE_URL", sqlite_db.url)
    get_settings.cache_clear()
    path = sqlite_db.engine.url.database
    assert path is not None
    other = _locked_by_another_program(path)
    try:
        result = CliRunner().invoke(
            cli.app, ["party", "create", "--kind", "merchant", "--name", "Busy Goods"]
        )
    finally:
        other.rollback()
        other.close()
        get_settings.cache_clear()
    assert result.exit_code == 75
    assert "[database_busy]" in result.output
    with sqlite_db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Party)) == 0
