"""Drive the real `midway` commands: migrate, create parties, serve over HTTP."""

from __future__ import annotations

import json
import os
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
