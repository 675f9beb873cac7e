"""Outbound webhooks end to end, against a real HTTP receiver on the loopback interface.

Retries are driven without waiting: either the backoff base is 0 (every retry is due at once)
or time is moved by passing ``now`` to the service.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from midway.db import Database, is_postgres, utcnow
from midway.events.models import Event
from midway.events.service import NewEvent, emit, visible_to
from midway.principal import Principal
from midway.settings import Settings
from midway.webhooks import service
from midway.webhooks.delivery import send
from midway.webhooks.models import WebhookDelivery
from midway.webhooks.service import RetryPolicy, type_matches
from midway.webhooks.signing import WebhookVerificationError, verify
from midway.worker import run_worker

# --- a real receiver ------------------------------------------------------------------------


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool | None

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers each path from a script of (status, headers), then 200."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    scripts: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    always: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delays: dict[str, float] = field(default_factory=dict)
    in_flight: int = 0
    peak: int = 0
    started: threading.Event = field(default_factory=threading.Event)

    def wait(self, path: str) -> None:
        """Hold a request to a slow path, counting how many are held at once."""
        delay = self.delays.get(path)
        if not delay:
            return
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        self.started.set()
        time.sleep(delay)
        with self.lock:
            self.in_flight -= 1

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)
        return f"http://{host}:{port}{path}"

    def script(self, path: str, *replies: int | tuple[int, dict[str, str]]) -> None:
        self.scripts[path] = [r if isinstance(r, tuple) else (r, {}) for r in replies]

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def reply(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        secret = self.secrets.get(path)
        verified: bool | None = None
        if secret is not None:
            try:
                verify(secret, headers, body)
                verified = True
            except WebhookVerificationError:
                verified = False
        with self.lock:
            self.requests.append(Received(path, headers, body, verified))
            script = self.scripts.get(path)
            if verified is False:
                answer: tuple[int, dict[str, str]] = (401, {})
            elif script:
                answer = script.pop(0)
            else:
                answer = (self.always.get(path, 200), {})
        self.arrived.set()
        return answer


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A ThreadingHTTPServer on 127.0.0.1 with an ephemeral port."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.wait(self.path)
            status, extra = state.reply(self.path, headers, body)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def api(client: Any) -> Any:
    """The API client (the app mounts the webhook routes)."""
    return client


def settings_for(db: Database, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url,
        "webhook_timeout_seconds": 5.0,
        "webhook_max_attempts": 3,
        "webhook_backoff_base_seconds": 0.0,
        "worker_poll_seconds": 0.05,
    }
    values.update(overrides)
    return Settings(**values)


def work(db: Database, **overrides: Any) -> Any:
    return run_worker(db, settings_for(db, **overrides), once=True)


def register(
    actor: Any, receiver: Receiver, path: str, types: list[str] | None = None
) -> dict[str, Any]:
    r = actor.post(
        "/v1/webhook-endpoints", json={"url": receiver.url(path), "event_types": types or ["*"]}
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    receiver.secrets[path] = created["secret"]
    return created


def emit_event(
    db: Database, type: str, merchant_id: str, provider_id: str | None = None, **data: Any
) -> str:
    with db.transaction() as session:
        (event_id,) = emit(
            session,
            [
                NewEvent(
                    type=type,
                    merchant_id=merchant_id,
                    provider_id=provider_id,
                    subject_type="task",
                    subject_id="tsk_test",
                    data=data,
                )
            ],
        )
    return event_id


def deliveries(actor: Any, endpoint_id: str, status: str | None = None) -> list[dict[str, Any]]:
    query = f"?status={status}" if status else ""
    r = actor.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries{query}")
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    return rows


def patch(actor: Any, url: str, body: dict[str, Any]) -> Any:
    return actor.client.patch(url, json=body, headers=actor.headers)


def events_of(db: Database, actor: Any, type: str) -> list[Event]:
    # Read the table, not the HTTP feed: on PostgreSQL the feed holds back events while any
    # transaction on the server is still open, which would make these checks racy.
    viewer = Principal(party_id=actor.id, kind=actor.kind, role="viewer")
    with db.transaction(write=False) as session:
        query = select(Event).where(Event.type == type, visible_to(viewer)).order_by(Event.seq)
        return list(session.scalars(query))


# --- fan-out and signatures ------------------------------------------------------------------


def test_event_reaches_merchant_and_provider_but_not_a_stranger(db, api, make_actor, receiver):
    merchant = make_actor("merchant", "Northwind Goods")
    provider = make_actor("provider", "Keystone Logistics")
    stranger = make_actor("merchant", "Elsewhere Ltd")
    m = register(merchant, receiver, "/merchant")
    p = register(provider, receiver, "/provider")
    register(stranger, receiver, "/stranger")
    event_id = emit_event(db, "task.created", merchant.id, provider.id, process="picking")

    stats = work(db)

    assert stats.delivered == 2
    assert receiver.at("/stranger") == []
    for path, endpoint in (("/merchant", m), ("/provider", p)):
        (got,) = receiver.at(path)
        assert got.verified is True
        verify(endpoint["secret"], got.headers, got.body)
        assert got.headers["webhook-id"] == event_id
        assert got.headers["content-type"] == "application/json"
        body = got.json
        assert (body["id"], body["type"], body["data"]) == (
            event_id,
            "task.created",
            {"process": "picking"},
        )
        assert datetime.fromisoformat(body["timestamp"]).utcoffset() == timedelta(0)
        (row,) = deliveries(merchant if path == "/merchant" else provider, endpoint["id"])
        assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 1, 200)
    with pytest.raises(WebhookVerificationError):
        verify(p["secret"], receiver.at("/merchant")[0].headers, receiver.at("/merchant")[0].body)


def test_event_types_filter_what_an_endpoint_receives(db, api, make_actor, receiver):
    merchant = make_actor("merchant", "Northwind Goods")
    register(merchant, receiver, "/tasks", ["task.*"])
    register(merchant, receiver, "/created", ["fulfillment_order.created", "task.completed"])
    register(merchant, receiver, "/all", ["*"])
    for type in (
        "task.created",
        "fulfillment_order.created",
        "fulfillment_order.submitted",
        "task.completed",
    ):
        emit_event(db, type, merchant.id)

    work(db)

    def types(path: str) -> list[str]:
        return sorted(r.json["type"] for r in receiver.at(path))

    assert types("/tasks") == ["task.completed", "task.created"]
    assert types("/created") == ["fulfillment_order.created", "task.completed"]
    assert len(types("/all")) == 4


def test_type_patterns():
    assert type_matches(["*"], "task.created")
    assert type_matches(["task.*"], "task.created")
    assert type_matches(["fulfillment_order.*"], "fulfillment_order.hold.placed")
    assert not type_matches(["task.*"], "tasks.created")
    assert not type_matches(["task.created"], "task.completed")


# --- retries, dead letter, redelivery --------------------------------------------------------


def test_two_failures_then_success_takes_three_attempts(db, api, make_actor, receiver):
    merchant = make_actor("merchant", "Northwind Goods")
    endpoint = register(merchant, receiver, "/flaky")
    receiver.script("/flaky", 500, 500)
    event_id = emit_event(db, "task.created", merchant.id)

    stats = work(db, webhook_max_attempts=8)

    attempts = receiver.at("/flaky")
    assert len(attempts) == 3
    assert {a.headers["webhook-id"] for a in attempts} == {event_id}
    assert all(a.verified for a in attempts)
    assert len({a.body for a in attempts}) == 1
    (row,) = deliveries(merchant, endpoint["id"])
    assert (row["status"], row["attempts"]) == ("delivered", 3)
    assert (row["last_status_code"], row["last_error"]) == (200, None)
    assert (stats.failed, stats.delivered) == (2, 1)


def test_always_failing_goes_dead_then_manual_redelivery(db, api, make_actor, receiver):
    merchant = make_actor("merchant", "Northwind Goods")
    provider = make_actor("provider", "Keystone Logistics")
    m = register(merchant, receiver, "/down")
    p = register(provider, receiver, "/provider-down", ["task.*"])
    receiver.always["/down"] = 500
    receiver.always["/provider-down"] = 503
    event_id = emit_event(db, "task.created", merchant.id, provider.id)

    work(db, webhook_max_attempts=3)

    (original,) = [d for d in deliveries(merchant, m["id"]) if d["event_id"] == event_id]
    assert (original["status"], original["attempts"]) == ("dead", 3)
    assert original["last_status_code"] == 500
    (dead_notice,) = events_of(db, merchant, "webhook.delivery_dead")
    assert dead_notice.data["delivery_id"] == original["id"]
    assert dead_notice.data["event_id"] == event_id
    # The notice went to the same broken endpoint and died too, without another notice.
    assert len(receiver.at("/down")) == 6
    assert [d["status"] for d in deliveries(merchant, m["id"], "dead")] == ["dead", "dead"]
    assert deliveries(merchant, m["id"], "pending") == []
    # Each party hears only about its own endpoints.
    (provider_notice,) = events_of(db, provider, "webhook.delivery_dead")
    assert provider_notice.data["endpoint_id"] == p["id"]

    receiver.always["/down"] = 200
    r = merchant.post(f"/v1/webhook-deliveries/{original['id']}/redeliver")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["attempts"]) == ("pending", 0)
    again = merchant.post(f"/v1/webhook-deliveries/{original['id']}/redeliver")
    assert again.status_code == 409
    assert again.json()["code"] == "delivery_pending"

    work(db)

    row = next(d for d in deliveries(merchant, m["id"]) if d["id"] == original["id"])
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 1, 200)
    last = receiver.at("/down")[-1]
    assert last.headers["webhook-id"] == event_id and last.verified
    assert merchant.post(f"/v1/webhook-deliveries/{original['id']}/redeliver").status_code == 200


@pytest.mark.parametrize(("concurrency", "peak"), [(6, 6), (1, 1)])
def test_a_slow_endpoint_is_sent_to_concurrently(db, api, make_actor, receiver, concurrency, peak):
    """One worker sends up to ``webhook_concurrency`` deliveries at once; each is recorded."""
    merchant = make_actor("merchant", "Acme")
    endpoint = register(merchant, receiver, "/slow")
    receiver.delays["/slow"] = 0.3
    for n in range(6):
        emit_event(db, "task.created", merchant.id, n=n)
    stats = work(db, webhook_concurrency=concurrency)
    assert stats.delivered == 6
    assert receiver.peak == peak
    assert sorted(r.json["data"]["n"] for r in receiver.at("/slow")) == list(range(6))
    assert len(deliveries(merchant, endpoint["id"], "delivered")) == 6


def test_retry_after_is_honoured_and_time_is_driven_by_now(db, api, make_actor, receiver):
    merchant = make_actor("merchant", "Northwind Goods")
    endpoint = register(merchant, receiver, "/busy")
    receiver.script("/busy", (503, {"Retry-After": "120"}))
    emit_event(db, "task.created", merchant.id)

    work(db, webhook_max_attempts=8)

    (row,) = deliveries(merchant, endpoint["id"])
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 1, 503)
    wait = datetime.fromisoformat(row["next_attempt_at"]) - datetime.fromisoformat(
        row["last_attempt_at"]
    )
    assert wait >= timedelta(seconds=120)
    assert len(receiver.at("/busy")) == 1
    with db.transaction() as session:
        assert service.claim_due(session, 10, utcnow()) == []

    later = utcnow() + timedelta(seconds=121)
    with db.transaction() as session:
        (claim,) = service.claim_due(session, 10, later)
    with httpx.Client() as http:
        result = send(http, claim)
    with db.transaction() as session:
        assert service.record_result(session, claim, result, RetryPolicy(), now=later) == (
            "delivered"
        )
    assert len(receiver.at("/busy")) == 2


def test_redirect_is_a_failure_and_is_not_followed(db, api, make_actor, receiver):
    merchant = make_actor("merchant", "Northwind Goods")
    endpoint = register(merchant, receiver, "/moved")
    receiver.script("/moved", (302, {"Location": receiver.url("/elsewhere")}))
    emit_event(db, "task.created", merchant.id)

    work(db, webhook_backoff_base_seconds=60.0)

    assert receiver.at("/elsewhere") == []
    (row,) = deliveries(merchant, endpoint["id"])
    assert (row["status"], row["last_status_code"], row["last_error"]) == (
        "pending",
        302,
        "HTTP 302: ok",
    )


def test_connection_error_is_recorded(db, api, make_actor):
    merchant = make_actor("merchant", "Northwind Goods")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    r = merchant.post(
        "/v1/webhook-endpoints",
        json={"url": f"http://127.0.0.1:{port}/nobody", "event_types": ["*"]},
    )
    assert r.status_code == 201, r.text
    emit_event(db, "task.created", merchant.id)

    work(db, webhook_backoff_base_seconds=60.0)

    (row,) = deliveries(merchant, r.json()["id"])
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 1, None)
    assert "ConnectError" in row["last_error"]


def test_gone_disables_the_endpoint_until_re_enabled(db, api, make_actor, receiver):
    merchant = make_actor("merchant", "Northwind Goods")
    endpoint = register(merchant, receiver, "/gone")
    receiver.script("/gone", 410)
    emit_event(db, "task.created", merchant.id)

    work(db, webhook_max_attempts=8)

    shown = merchant.get(f"/v1/webhook-endpoints/{endpoint['id']}").json()
    assert shown["enabled"] is False
    assert "410" in shown["disabled_reason"]
    (row,) = deliveries(merchant, endpoint["id"])
    assert (row["status"], row["attempts"]) == ("dead", 1)
    assert len(events_of(db, merchant, "webhook.endpoint_disabled")) == 1
    assert len(events_of(db, merchant, "webhook.delivery_dead")) == 1
    r = merchant.post(f"/v1/webhook-deliveries/{row['id']}/redeliver")
    assert (r.status_code, r.json()["code"]) == (409, "endpoint_disabled")

    emit_event(db, "task.completed", merchant.id)
    work(db)
    assert len(receiver.at("/gone")) == 1
    assert len(deliveries(merchant, endpoint["id"])) == 1

    r = patch(merchant, f"/v1/webhook-endpoints/{endpoint['id']}", {"enabled": True})
    assert r.status_code == 200, r.text
    assert (r.json()["enabled"], r.json()["disabled_reason"]) == (True, None)
    emit_event(db, "task.completed", merchant.id)
    work(db)
    assert receiver.at("/gone")[-1].json["type"] == "task.completed"
    assert len(deliveries(merchant, endpoint["id"], "delivered")) == 1


def test_backoff_is_exponential_with_full_jitter_and_a_cap():
    policy = RetryPolicy(max_attempts=8, base_seconds=5.0, max_seconds=60.0)
    rng = random.Random(7)
    for attempt, ceiling in ((1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0), (5, 60.0), (9, 60.0)):
        draws = [policy.backoff(attempt, rng) for _ in range(300)]
        assert all(0.0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling * 0.9
        assert min(draws) < ceiling * 0.1
    assert RetryPolicy(base_seconds=0.0).backoff(5) == 0.0


# --- the API ---------------------------------------------------------------------------------


def test_endpoint_lifecycle_and_secret_rotation(db, api, make_actor, receiver):
    merchant = make_actor("merchant", "Northwind Goods")
    created = register(merchant, receiver, "/hook", ["task.*", "task.*", "fulfillment_order.*"])
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["task.*", "fulfillment_order.*"]
    assert created["enabled"] is True
    listed = merchant.get("/v1/webhook-endpoints").json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in merchant.get(f"/v1/webhook-endpoints/{created['id']}").json()

    r = patch(
        merchant,
        f"/v1/webhook-endpoints/{created['id']}",
        {"url": receiver.url("/hook2"), "event_types": ["task.completed"]},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["url"], r.json()["event_types"]) == (
        receiver.url("/hook2"),
        ["task.completed"],
    )

    r = merchant.post(f"/v1/webhook-endpoints/{created['id']}/rotate-secret")
    assert r.status_code == 200, r.text
    new_secret = r.json()["secret"]
    assert new_secret != created["secret"]
    receiver.secrets["/hook2"] = new_secret
    emit_event(db, "task.completed", merchant.id)
    work(db)
    (got,) = receiver.at("/hook2")
    assert got.verified is True
    with pytest.raises(WebhookVerificationError):
        verify(created["secret"], got.headers, got.body)

    r = merchant.delete(f"/v1/webhook-endpoints/{created['id']}")
    assert r.status_code == 204
    assert merchant.get(f"/v1/webhook-endpoints/{created['id']}").status_code == 404
    assert merchant.get("/v1/webhook-endpoints").json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://127.0.0.1/x", "event_types": ["*"]}, "url"),
        ({"url": "http://", "event_types": ["*"]}, "url"),
        ({"url": "http://127.0.0.1:99999/x", "event_types": ["*"]}, "url"),
        ({"url": "http://127.0.0.1/x", "event_types": []}, "event_types"),
        ({"url": "http://127.0.0.1/x", "event_types": ["Task.Created"]}, "event_types.0"),
        ({"url": "http://127.0.0.1/x", "event_types": ["*", "task*"]}, "event_types.1"),
        ({"url": "http://127.0.0.1/x", "event_types": ["*"], "secret": "mine"}, "secret"),
    ],
)
def test_invalid_endpoints_are_rejected(api, make_actor, body, field):
    merchant = make_actor("merchant", "Northwind Goods")
    r = merchant.post("/v1/webhook-endpoints", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field


def test_only_admins_manage_endpoints(api, make_actor):
    viewer = make_actor("merchant", "Northwind Goods", role="viewer")
    r = viewer.post(
        "/v1/webhook-endpoints", json={"url": "http://127.0.0.1/x", "event_types": ["*"]}
    )
    assert r.status_code == 403
    assert viewer.get("/v1/webhook-endpoints").json() == []


def test_another_party_sees_nothing_and_gets_404(db, api, make_actor, receiver):
    owner = make_actor("merchant", "Northwind Goods")
    other = make_actor("provider", "Keystone Logistics")
    endpoint = register(owner, receiver, "/mine")
    receiver.always["/mine"] = 500
    emit_event(db, "task.created", owner.id)
    work(db, webhook_backoff_base_seconds=60.0)
    (delivery,) = deliveries(owner, endpoint["id"])
    base = f"/v1/webhook-endpoints/{endpoint['id']}"

    assert other.get("/v1/webhook-endpoints").json() == []
    assert other.get(base).status_code == 404
    assert other.get(f"{base}/deliveries").status_code == 404
    assert patch(other, base, {"enabled": False}).status_code == 404
    assert other.post(f"{base}/rotate-secret").status_code == 404
    assert other.post(f"/v1/webhook-deliveries/{delivery['id']}/redeliver").status_code == 404
    assert other.delete(base).status_code == 404
    assert owner.get(base).json()["enabled"] is True


# --- workers ---------------------------------------------------------------------------------


def _run_threads(*targets: Any) -> list[Any]:
    results: list[Any] = [None] * len(targets)
    errors: list[BaseException] = []

    def wrap(i: int, target: Any) -> None:
        try:
            results[i] = target()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(i, t)) for i, t in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    if errors:
        raise errors[0]
    return results


def test_two_workers_deliver_each_event_once(db, api, make_actor, receiver):
    merchant = make_actor("merchant", "Northwind Goods")
    provider = make_actor("provider", "Keystone Logistics")
    register(merchant, receiver, "/m")
    register(provider, receiver, "/p")
    ids = [emit_event(db, "task.created", merchant.id, provider.id, n=n) for n in range(25)]
    start = threading.Barrier(2, timeout=60)

    def worker() -> Any:
        start.wait()
        return work(db)

    first, second = _run_threads(worker, worker)

    assert first.delivered + second.delivered == 50
    for path in ("/m", "/p"):
        got = receiver.at(path)
        assert sorted(r.headers["webhook-id"] for r in got) == sorted(ids)
        assert all(r.verified for r in got)


def test_concurrent_dispatch_and_claims_never_overlap_on_postgres(db, api, make_actor):
    if not is_postgres(db.engine):
        pytest.skip("row locks with SKIP LOCKED need PostgreSQL; SQLite serializes writers")
    merchant = make_actor("merchant", "Northwind Goods")
    provider = make_actor("provider", "Keystone Logistics")
    for actor in (merchant, provider):
        r = actor.post(
            "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/unused", "event_types": ["*"]}
        )
        assert r.status_code == 201, r.text
    for n in range(30):
        emit_event(db, "task.created", merchant.id, provider.id, n=n)

    # Both transactions stay open until both have taken their rows, so the second one can
    # only succeed by skipping the first one's locked rows instead of waiting on them.
    both_dispatched = threading.Barrier(2, timeout=30)

    def dispatcher() -> int:
        with db.transaction() as session:
            taken = service.dispatch(session, 20)
            both_dispatched.wait()
            return taken

    taken = _run_threads(dispatcher, dispatcher)
    assert sum(taken) == 30
    assert max(taken) <= 20
    with db.transaction() as session:
        rows = session.query(WebhookDelivery).all()
    assert len(rows) == 60
    assert len({(r.endpoint_id, r.event_id) for r in rows}) == 60

    both_claimed = threading.Barrier(2, timeout=30)
    now = utcnow()

    def claimer() -> list[str]:
        with db.transaction() as session:
            claims = service.claim_due(session, 40, now)
            both_claimed.wait()
            return [c.delivery_id for c in claims]

    first, second = _run_threads(claimer, claimer)
    assert set(first).isdisjoint(second)
    assert sorted(first + second) == sorted(r.id for r in rows)
    with db.transaction() as session:
        assert service.claim_due(session, 100, now) == []


def test_worker_loop_runs_until_stopped(db, api, make_actor, receiver):
    merchant = make_actor("merchant", "Northwind Goods")
    register(merchant, receiver, "/loop")
    stop = threading.Event()
    outcome: list[Any] = []
    thread = threading.Thread(
        target=lambda: outcome.append(run_worker(db, settings_for(db), stop=stop))
    )
    thread.start()
    try:
        event_id = emit_event(db, "task.created", merchant.id)
        assert receiver.arrived.wait(timeout=60)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    (got,) = receiver.at("/loop")
    assert got.headers["webhook-id"] == event_id and got.verified
    assert outcome[0].delivered == 1


def test_stopping_mid_batch_hands_the_unsent_deliveries_back_at_once(db, api, make_actor, receiver):
    """With one sender, the delivery in hand finishes; the rest of the leased batch is due
    again at once instead of waiting for its lease to run out."""
    merchant = make_actor("merchant", "Northwind Goods")
    register(merchant, receiver, "/slow")
    receiver.delays["/slow"] = 0.5
    for n in range(4):
        emit_event(db, "task.created", merchant.id, n=n)
    stop = threading.Event()
    outcome: list[Any] = []
    thread = threading.Thread(
        target=lambda: outcome.append(
            run_worker(db, settings_for(db, webhook_concurrency=1), stop=stop)
        )
    )
    thread.start()
    try:
        assert receiver.started.wait(timeout=60)  # the first delivery is in hand
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert outcome[0].delivered == len(receiver.at("/slow")) == 1
    with db.transaction(write=False) as session:
        pending = list(
            session.scalars(select(WebhookDelivery).where(WebhookDelivery.status == "pending"))
        )
    assert len(pending) == 3
    assert all(d.next_attempt_at is not None and d.next_attempt_at <= utcnow() for d in pending)
    assert all(d.attempts == 0 for d in pending)


def test_an_expired_lease_passes_to_another_worker_and_the_old_result_is_dropped(
    db, api, make_actor, receiver
):
    merchant = make_actor("merchant", "Northwind Goods")
    endpoint = register(merchant, receiver, "/slow")
    emit_event(db, "task.created", merchant.id)
    with db.transaction() as session:
        service.dispatch(session, 10)
    now = utcnow()
    lease = timedelta(minutes=2)
    with db.transaction() as session:
        (first,) = service.claim_due(session, 10, now, lease=lease)
    with db.transaction() as session:
        assert service.claim_due(session, 10, now + lease - timedelta(seconds=1)) == []
    # The first worker is presumed dead once its lease has run out.
    with db.transaction() as session:
        (second,) = service.claim_due(session, 10, now + lease + timedelta(seconds=1))
    assert second.delivery_id == first.delivery_id
    ok = service.AttemptResult(status_code=200)
    with db.transaction() as session:
        assert service.record_result(session, first, ok, RetryPolicy()) is None
    with db.transaction() as session:
        assert service.record_result(session, second, ok, RetryPolicy()) == "delivered"
    (row,) = deliveries(merchant, endpoint["id"])
    assert (row["status"], row["attempts"]) == ("delivered", 1)


def test_released_claims_are_due_again_at_once(db, api, make_actor, receiver):
    merchant = make_actor("merchant", "Northwind Goods")
    register(merchant, receiver, "/later")
    for n in range(3):
        emit_event(db, "task.created", merchant.id, n=n)
    with db.transaction() as session:
        service.dispatch(session, 10)
    with db.transaction() as session:
        claims = service.claim_due(session, 10, utcnow())
    assert len(claims) == 3
    with db.transaction() as session:
        assert service.release(session, claims[1:]) == 2
    with db.transaction() as session:
        again = service.claim_due(session, 10, utcnow())
    assert {c.delivery_id for c in again} == {c.delivery_id for c in claims[1:]}
