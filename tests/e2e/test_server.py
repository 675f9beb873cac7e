"""Drive the real `midway` commands: migrate, create parties, serve over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e
MIDWAY = [sys.executable, "-m", "midway.cli"]


def run(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([*MIDWAY, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def server(tmp_path: Path):
    env = os.environ | {"MIDWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}"}
    run("db", "upgrade", env=env)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [*MIDWAY, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("midway serve did not start")
        yield url, env
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_landing_page_openapi_and_a_keyed_call(server):
    url, env = server
    merchant = json.loads(
        run("party", "create", "--kind", "merchant", "--name", "Acme", "--json", env=env)
    )
    page = httpx.get(f"{url}/")
    assert page.status_code == 200
    assert "/docs" in page.text and "sqlite" in page.text
    spec = httpx.get(f"{url}/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert "/v1/orders" in spec["paths"]
    assert "/v1/fulfillment-orders/{fo_id}/accept" in spec["paths"]
    me = httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {merchant['api_key']}"})
    assert me.status_code == 200
    assert me.json()["party"]["id"] == merchant["id"]
    anonymous = httpx.get(f"{url}/v1/orders")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _workers(pid: int) -> list[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    return [
        child
        for child in _children(pid)
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def _connections_per_worker(workers: list[int], port: int) -> dict[int, int]:
    """Established connections on ``port`` held by each worker (from /proc)."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
            established.add(fields[9])
    counts = {}
    for pid in workers:
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        counts[pid] = sum(link[8:-1] in established for link in links if link.startswith("socket:"))
    return counts


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "midway serve exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("midway serve did not start")


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_several_workers_share_the_connections_and_a_dead_one_is_replaced(tmp_path: Path):
    env = os.environ | {"MIDWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}"}
    run("db", "upgrade", env=env)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [*MIDWAY, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    clients: list[socket.socket] = []
    try:
        _wait_healthy(url, proc)
        deadline = time.monotonic() + 30
        while len(workers := _workers(proc.pid)) < 2:
            assert time.monotonic() < deadline, "the second worker never started"
            time.sleep(0.1)
        time.sleep(2)  # the later worker may still be building the app
        # 24 clients connect at once and stay connected (keep-alive), as a load does.
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(24)]
        for client in clients:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        for client in clients:
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        counts = _connections_per_worker(workers, port)
        assert sum(counts.values()) == 24
        assert min(counts.values()) >= 1, counts  # each worker took its share

        dead = workers[0]
        os.kill(dead, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while dead in (now := _workers(proc.pid)) or len(now) < 2:
            assert time.monotonic() < deadline, f"no worker replaced {dead}: {now}"
            time.sleep(0.1)
        assert all(httpx.get(f"{url}/healthz").status_code == 200 for _ in range(20))
    finally:
        for client in clients:
            client.close()
        left = _workers(proc.pid) if proc.poll() is None else []
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=45) == 0
        log.close()
    assert not [pid for pid in left if Path(f"/proc/{pid}").exists()]
    said = (tmp_path / "serve.log").read_text()
    assert f"API worker {dead} exited with code -9; started" in said, said


def test_serve_names_an_address_in_use(tmp_path: Path):
    env = os.environ | {"MIDWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*MIDWAY, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Midway API on" not in done.stderr + done.stdout  # nothing announced


def test_serve_gives_up_when_its_workers_cannot_start(tmp_path: Path):
    env = os.environ | {"MIDWAY_DATABASE_URL": "nosuchdb://nowhere"}
    done = subprocess.run(
        [*MIDWAY, "serve", "--port", str(_free_port()), "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "workers exited 3 times" in " ".join(done.stderr.split())
    assert "nosuchdb" in done.stderr  # the workers' own account of why
