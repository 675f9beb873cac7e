"""Keeping Python's cyclic garbage collector off the objects a long job starts with.

The collector's full passes walk every container object alive, and a running hub holds many
that never die: modules, SQLAlchemy's mappers and compiled statements, the API's routes. Order
intake allocates fast enough to trigger those passes often; measured on batch planning, they
took a fifth of its time. :func:`frozen` moves everything alive when a job starts into the
collector's permanent generation for the job's duration (:func:`gc.freeze`), so its passes only
walk what the job itself allocates, and hands it back when the job ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Nested and concurrent uses share one freeze: the outermost starts it, the last to end undoes
# it (the API server runs frozen, and an EDI file received by one of its requests is a job).
_depth = 0
_depth_lock = threading.Lock()


@contextmanager
def frozen() -> Iterator[None]:
    """Run the block with every object alive now left out of garbage collection passes.

    Nothing is lost: when the last block still running ends, the objects go back to the
    collector's oldest generation, and any of them that became garbage meanwhile is collected
    by its next full pass."""
    global _depth
    with _depth_lock:
        if _depth == 0:
            gc.freeze()
        _depth += 1
    try:
        yield
    finally:
        with _depth_lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()
