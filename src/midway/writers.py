"""The queue of SQLite writers (SQLite has one writer at a time).

Without it, writers meet in SQLite's busy handler, which sleeps in growing steps of up to
100 ms and serves no one first: the writer lock sits idle between transactions while everyone
sleeps, and a few writers wait very long. Here threads of one process queue on a lock, and
processes (several API workers, the worker, a CLI import) on an advisory lock on a file beside
the database (``<database>-writer.lock``): the kernel wakes the next process as soon as the
lock is released. Programs that do not use the file still meet Midway in the busy handler.

A writer waits for its turn at most :data:`QUEUE_SECONDS`, in its process and for the file
together; then it goes on without the queue, and SQLite's busy handler has the last word. A
process that hangs while holding the file lock (stopped, or stuck in a long transaction)
therefore delays the others by that long, and never blocks them for good.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

# The longest a writer waits in the queue before it goes on without it.
QUEUE_SECONDS = 30.0


class WriterLine:
    """The writers of one SQLite database: :meth:`enter` before a write transaction,
    :meth:`leave` after it. ``database`` is the file's path (None or ``:memory:``: threads of
    this process only)."""

    def __init__(self, database: str | None) -> None:
        self._threads = threading.Lock()
        self._pid = os.getpid()
        self._file = (
            _FileTurn(f"{database}-writer.lock") if database and database != ":memory:" else None
        )

    def enter(self, timeout: float | None = None) -> bool:
        """Wait for this writer's turn; False when the wait timed out (the writer then goes
        on without the queue). ``timeout`` defaults to :data:`QUEUE_SECONDS`."""
        wait = QUEUE_SECONDS if timeout is None else timeout
        deadline = time.monotonic() + wait
        if self._pid != os.getpid():  # a forked child: its parent's writers are not here
            self._threads, self._pid = threading.Lock(), os.getpid()
        if not self._threads.acquire(timeout=wait):
            return False
        if self._file is None:
            return True
        try:
            if self._file.take(max(deadline - time.monotonic(), 0.0)):
                return True
        except BaseException:
            self._threads.release()
            raise
        self._threads.release()
        return False

    def leave(self) -> None:
        """Let the next writer in."""
        if self._file is not None:
            self._file.give_back()
        self._threads.release()

    def close(self) -> None:
        """Close the lock file."""
        if self._file is not None:
            self._file.close()
            self._file = None


class _FileTurn:
    """An exclusive advisory lock on a file, taken with a time limit.

    ``flock`` has no time limit, so a helper thread makes the blocking call and hands the lock
    over to the writer that asked for it, or gives it back if that writer stopped waiting. The
    lock belongs to the open file, not to a thread: whoever holds the turn may give it back
    from any thread. Only one writer of the process asks at a time (the caller holds
    :class:`WriterLine`'s thread lock), which this class relies on."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._state = threading.Condition()
        self._wanted = False  # a writer is waiting for the helper
        self._ready = False  # the helper holds the lock for that writer
        self._blocked = False  # the helper is inside flock()
        self._helper: threading.Thread | None = None
        self._pid = os.getpid()

    def take(self, timeout: float) -> bool:
        """Take the lock within ``timeout`` seconds; False if it could not."""
        with self._state:
            self._after_fork()
            if not self._blocked:
                # The helper is not asking on this file: try without waiting. (While it asks,
                # a lock taken here would be the helper's too: flock locks belong to the
                # open file, and it would give it back as unwanted.)
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    pass
            self._wanted = True
            self._start_helper()
            self._state.notify_all()
            got = self._state.wait_for(lambda: self._ready, timeout)
            self._wanted = False
            self._ready = False
            return got

    def give_back(self) -> None:
        """Release the lock (held after :meth:`take` returned True)."""
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the file; the helper thread ends at its next turn."""
        with self._state:
            fd, self._fd = self._fd, -1
            self._state.notify_all()
            if fd >= 0 and not self._blocked:  # else the helper closes it when it returns
                os.close(fd)

    def _after_fork(self) -> None:
        if self._pid == os.getpid() or self._fd < 0:
            return
        # A forked child shares the parent's open file, and with it the parent's lock; it
        # opens its own, and its parent's helper thread is not here.
        os.close(self._fd)
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        self._helper, self._pid = None, os.getpid()
        self._wanted = self._ready = self._blocked = False

    def _start_helper(self) -> None:
        if self._helper is None:
            self._helper = threading.Thread(
                target=self._serve, name=f"midway-writer-lock:{self._path}", daemon=True
            )
            self._helper.start()

    def _serve(self) -> None:
        while True:
            with self._state:
                # Asleep until a writer asks again (not while its lock waits to be taken).
                self._state.wait_for(lambda: (self._wanted and not self._ready) or self._fd < 0)
                if self._fd < 0:
                    return
                fd = self._fd
                self._blocked = True
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:
                with self._state:
                    self._blocked = False
                    self._state.notify_all()
                return
            with self._state:
                self._blocked = False
                if self._wanted and self._fd >= 0:
                    self._ready = True
                    self._state.notify_all()
                else:  # the writer stopped waiting (or the file is closing)
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    if self._fd < 0:
                        os.close(fd)
                        return
