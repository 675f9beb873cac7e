"""The worker's periodic jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from midway import worker
from midway.db import clock_at, utcnow
from midway.idempotency.models import IdempotencyKey
from midway.settings import Settings


def test_old_idempotency_keys_are_pruned_once_per_interval(db, network):
    old = utcnow() - timedelta(hours=72)
    with clock_at(old):
        r = network.merchant.post(
            "/v1/orders", json=network.order("old"), headers={"Idempotency-Key": "old-key"}
        )
    assert r.status_code == 201
    r = network.merchant.post(
        "/v1/orders", json=network.order("new"), headers={"Idempotency-Key": "new-key"}
    )
    assert r.status_code == 201
    worker._last_run.clear()
    stats = worker.WorkerStats()
    settings = Settings(database_url=db.url, idempotency_ttl_hours=48)
    worker.run_jobs(db, settings, stats)
    with db.transaction(write=False) as session:
        keys = set(session.scalars(select(IdempotencyKey.key)))
    assert keys == {"new-key"}
    with clock_at(old):
        r = network.merchant.post(
            "/v1/orders", json=network.order("old-2"), headers={"Idempotency-Key": "old-key-2"}
        )
    assert r.status_code == 201
    worker.run_jobs(db, settings, stats)  # pruning is not due again for ten minutes
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 2
