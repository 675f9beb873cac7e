"""Running the API server (``midway serve``) in one process or several.

One worker: uvicorn in this process. Several: each worker process listens on a socket of its
own, bound to the same address with ``SO_REUSEPORT``, and the kernel spreads new connections
over them evenly. uvicorn's own multi-worker mode shares one listening socket instead:
whichever worker wakes first accepts every connection waiting, so a client's keep-alive
connections can all land on one worker while the other idles (seen in the intake benchmark:
14 of 16 connections on one of two workers, and a fifth fewer orders per second).

This process supervises the workers: it restarts one that dies, gives up when they keep dying
right after starting (the app cannot start: a bad database URL, a missing migration), and on
SIGINT or SIGTERM lets each finish its requests and stops them all.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.context
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType

APP = "midway.app:create_app"
log = logging.getLogger(__name__)
# A worker that dies sooner than this after starting is counted as failing to start.
STARTUP_SECONDS = 10.0
# Consecutive failed starts after which the supervisor gives up.
MOST_FAILED_STARTS = 3
# How long stopping workers may finish their requests before they are killed.
STOP_SECONDS = 30.0


class ServeError(Exception):
    """The server could not start or keep its workers running; the message says why."""


def serve(
    host: str,
    port: int,
    workers: int,
    *,
    log_level: str = "warning",
    announce: Callable[[], None] | None = None,
) -> None:
    """Serve the API on ``host:port`` with ``workers`` processes until SIGINT or SIGTERM;
    ``announce()`` is called once the address and worker count passed their checks."""
    import uvicorn

    if workers < 1:
        raise ServeError(f"workers must be at least 1, not {workers}")
    several = workers > 1 and hasattr(socket, "SO_REUSEPORT")
    if several:
        if port == 0:
            raise ServeError("several workers need a fixed port: each binds it on its own")
        _check_free(host, port)
    if announce is not None:
        announce()
    if several:
        Supervisor(host, port, workers, log_level=log_level).run()
    else:
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, log_level=log_level)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _listener(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` beside the other workers' (``SO_REUSEPORT``)."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _check_free(host: str, port: int) -> None:
    """Fail with a clear message when another program holds the address (or, listening with
    ``SO_REUSEPORT`` itself, would share it with us)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _worker(host: str, port: int, log_level: str) -> None:  # runs in a worker process
    import uvicorn

    # Signals are the supervisor's to pass on: Ctrl-C in a terminal reaches the supervisor
    # only, which then stops each worker once (a second signal makes uvicorn drop requests).
    os.setpgid(0, 0)
    _stop_when_orphaned()
    sock = _listener(host, port)
    config = uvicorn.Config(APP, factory=True, log_level=log_level)
    uvicorn.Server(config).run(sockets=[sock])


def _stop_when_orphaned() -> None:
    """Stop this worker, as SIGTERM does, when the supervisor dies without stopping it."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


class Supervisor:
    """Runs ``workers`` worker processes and keeps them running (see the module's text)."""

    def __init__(
        self,
        host: str,
        port: int,
        workers: int,
        *,
        log_level: str = "warning",
    ) -> None:
        self.host, self.port, self.count = host, port, workers
        self.log_level = log_level
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[tuple[multiprocessing.context.SpawnProcess, float]] = []
        self._stop = threading.Event()
        self._failed_starts = 0

    def run(self) -> None:
        """Start the workers and supervise them until SIGINT or SIGTERM; raises
        :class:`ServeError` when workers keep failing to start."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self._workers = [self._start() for _ in range(self.count)]
            while not self._stop.wait(0.2):
                self._replace_dead()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._stop.set()

    def _start(self) -> tuple[multiprocessing.context.SpawnProcess, float]:
        proc = self._context.Process(
            target=_worker, args=(self.host, self.port, self.log_level), daemon=False
        )
        proc.start()
        return proc, time.monotonic()

    def _replace_dead(self) -> None:
        for i, (proc, started) in enumerate(self._workers):
            if proc.is_alive() or self._stop.is_set():
                continue
            proc.join()
            if time.monotonic() - started < STARTUP_SECONDS:
                self._failed_starts += 1
                if self._failed_starts >= MOST_FAILED_STARTS:
                    raise ServeError(
                        f"workers exited {self._failed_starts} times within "
                        f"{STARTUP_SECONDS:.0f} s of starting (last exit code "
                        f"{proc.exitcode}); see the messages above"
                    )
            else:
                self._failed_starts = 0
            self._workers[i] = self._start()
            log.warning(
                "API worker %s exited with code %s; started %s in its place",
                proc.pid,
                proc.exitcode,
                self._workers[i][0].pid,
            )

    def _stop_all(self) -> None:
        for proc, _ in self._workers:
            if proc.is_alive() and proc.pid is not None:
                proc.terminate()  # SIGTERM: uvicorn finishes the requests under way
        deadline = time.monotonic() + STOP_SECONDS
        for proc, _ in self._workers:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
