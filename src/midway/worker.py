"""The background worker: fan out the outbox into webhook deliveries and send them.

Each round runs three short steps, none of which holds a transaction open across the network:
dispatch new events (one transaction), lease due deliveries (one transaction), then for each
leased delivery send the HTTP request and record the outcome (one transaction per delivery).
Any number of workers may run against one PostgreSQL database; leases and ``SKIP LOCKED`` keep
them from sending the same delivery at the same time.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType

import httpx

from midway.db import Database, utcnow
from midway.jobs import jobs
from midway.settings import Settings
from midway.webhooks import delivery, service
from midway.webhooks.service import DEAD, DELIVERED, RetryPolicy

log = logging.getLogger("midway.worker")

DISPATCH_BATCH = 200
CLAIM_BATCH = 10
_MAX_ERROR_PAUSE_SECONDS = 30.0


@dataclass
class WorkerStats:
    """What a worker did since it started."""

    rounds: int = 0
    events_dispatched: int = 0
    attempts: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    lost_leases: int = 0
    errors: int = 0
    job_runs: int = 0


def claim_batch(settings: Settings) -> int:
    """How many due deliveries one round leases: enough to keep every sender busy."""
    return max(CLAIM_BATCH, 2 * settings.webhook_concurrency)


def lease_for(settings: Settings) -> timedelta:
    """How long a claimed batch stays invisible to other workers.

    ``webhook_concurrency`` sends run at once, so the lease has to cover the batch's waves of
    worst-case timeouts plus headroom; a worker that dies simply lets it run out and another
    worker retries.
    """
    waves = -(-claim_batch(settings) // settings.webhook_concurrency)
    return timedelta(seconds=waves * (settings.webhook_timeout_seconds + 1.0) + 30.0)


def run_round(
    db: Database,
    settings: Settings,
    client: httpx.Client,
    stats: WorkerStats,
    stop: threading.Event,
    senders: Executor,
) -> int:
    """One pass: dispatch, lease, send, record. Returns how much work it found (0 = idle).

    The leased deliveries are sent by ``senders`` (``webhook_concurrency`` threads), each
    result recorded in its own transaction as it comes back. When ``stop`` is set mid-batch,
    the deliveries not yet sent are handed back at once rather than left leased until the
    lease runs out.
    """
    policy = RetryPolicy(
        max_attempts=settings.webhook_max_attempts,
        base_seconds=settings.webhook_backoff_base_seconds,
        max_seconds=settings.webhook_backoff_max_seconds,
    )
    stats.rounds += 1
    done_by_jobs = run_jobs(db, settings, stats)
    with db.transaction() as session:
        dispatched = service.dispatch(session, DISPATCH_BATCH)
    stats.events_dispatched += dispatched
    with db.transaction() as session:
        claims = service.claim_due(
            session, claim_batch(settings), utcnow(), lease=lease_for(settings)
        )
    unsent: list[service.Claim] = []
    futures = {senders.submit(_send, client, claim, stop): claim for claim in claims}
    for future in as_completed(futures):
        result = future.result()
        if result is None:
            unsent.append(futures[future])
        else:
            _record(db, policy, stats, futures[future], result)
    if unsent:
        with db.transaction() as session:
            service.release(session, unsent)
    return done_by_jobs + dispatched + len(claims)


def _send(
    client: httpx.Client, claim: service.Claim, stop: threading.Event
) -> service.AttemptResult | None:
    """Send one delivery, unless the worker is stopping (None: hand it back unsent)."""
    return None if stop.is_set() else delivery.send(client, claim)


def _record(
    db: Database,
    policy: RetryPolicy,
    stats: WorkerStats,
    claim: service.Claim,
    result: service.AttemptResult,
) -> None:
    with db.transaction() as session:
        status = service.record_result(session, claim, result, policy)
    stats.attempts += 1
    outcome = f"HTTP {result.status_code}" if result.status_code else result.error
    if status is None:
        stats.lost_leases += 1
        log.warning(
            "webhook delivery %s event %s to %s: %s; lease lost, result not recorded",
            claim.delivery_id,
            claim.event_id,
            claim.endpoint_id,
            outcome,
        )
    elif status == DELIVERED:
        stats.delivered += 1
        log.info(
            "webhook delivery %s event %s to %s: %s, delivered (attempt %d)",
            claim.delivery_id,
            claim.event_id,
            claim.endpoint_id,
            outcome,
            claim.attempts + 1,
        )
    elif status == DEAD:
        stats.dead += 1
        log.warning(
            "webhook delivery %s event %s to %s: %s, dead after %d attempts",
            claim.delivery_id,
            claim.event_id,
            claim.endpoint_id,
            outcome,
            claim.attempts + 1,
        )
    else:
        stats.failed += 1
        log.info(
            "webhook delivery %s event %s to %s: %s, will retry (attempt %d)",
            claim.delivery_id,
            claim.event_id,
            claim.endpoint_id,
            outcome,
            claim.attempts + 1,
        )


_last_run: dict[str, datetime] = {}


def run_jobs(db: Database, settings: Settings, stats: WorkerStats) -> int:
    """Run the periodic jobs that are due; one failing job never stops the others."""
    found = 0
    for job in jobs(settings):
        now = utcnow()
        last = _last_run.get(job.name)
        if last is not None and now - last < job.every:
            continue
        try:
            with db.transaction() as session:
                done = job.run(session, now)
        except Exception:
            stats.errors += 1
            log.exception("job %s failed", job.name)
            continue
        _last_run[job.name] = now
        stats.job_runs += 1
        found += done
        if done:
            log.info("job %s: %d", job.name, done)
    return found


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    # SIGTERM (container stop) and Ctrl-C end the loop after the delivery in hand is recorded,
    # instead of abandoning it mid-send until its lease runs out.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        """Ask the loop to stop."""
        log.info("webhook worker got signal %d; stopping after the current delivery", signum)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_worker(
    db: Database,
    settings: Settings,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
) -> WorkerStats:
    """Run the delivery loop until ``stop`` is set; with ``once``, until nothing is due now.

    ``once`` keeps going while rounds find work, so retries that are already due (a zero
    backoff) are sent too; it returns as soon as a round finds nothing. In the endless mode a
    database or network failure of the worker itself is logged and retried after a pause,
    growing up to half a minute, instead of ending the process. Without ``stop``, in the main
    thread, SIGTERM and SIGINT stop the loop cleanly.
    """
    if stop is None and not once:
        stop = threading.Event()
        with _stop_on_signals(stop):
            return _loop(db, settings, once=False, stop=stop)
    return _loop(db, settings, once=once, stop=stop or threading.Event())


def _loop(db: Database, settings: Settings, *, once: bool, stop: threading.Event) -> WorkerStats:
    stats = WorkerStats()
    pause = settings.worker_poll_seconds
    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    log.info("webhook worker started (poll every %.1fs)", settings.worker_poll_seconds)
    limits = httpx.Limits(max_connections=max(10, settings.webhook_concurrency))
    with (
        httpx.Client(timeout=timeout, follow_redirects=False, limits=limits) as client,
        ThreadPoolExecutor(
            settings.webhook_concurrency, thread_name_prefix="midway-webhook"
        ) as senders,
    ):
        while not stop.is_set():
            try:
                found = run_round(db, settings, client, stats, stop, senders)
            except Exception:
                if once:
                    raise
                stats.errors += 1
                log.exception("webhook worker round failed; retrying in %.1fs", pause)
                stop.wait(pause)
                pause = min(max(pause, 0.1) * 2, _MAX_ERROR_PAUSE_SECONDS)
                continue
            pause = settings.worker_poll_seconds
            if found:
                continue
            if once:
                break
            stop.wait(settings.worker_poll_seconds)
    log.info(
        "webhook worker stopped: %d delivered, %d failed attempts, %d dead",
        stats.delivered,
        stats.failed,
        stats.dead,
    )
    return stats
