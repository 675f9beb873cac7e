"""Orders posted at the same time are placed together (a group commit).

An API process receives orders from many clients at once. Placed alone, each costs its own
transaction: its reads of the catalog, the network and the stock, a dozen statements and a
commit (on SQLite, also a turn at the one write lock). Here the requests that arrive while a
group is being placed wait for it, and are then placed as the next group through
:mod:`midway.fulfillment.batch`: one set of reads, one statement per table and one commit for
all of them. Each order is still accepted or refused on its own, with the records placing it
alone writes. A request that arrives alone is a group of one: nobody waits for company.

On SQLite, where writers take turns at one lock, a group is read and planned in a read
transaction first and written in a second one, so that the other API processes write while
this one plans. If stock or a channel key changed in between, the guarded writes notice and the
group's orders are placed one by one with fresh reads (see :func:`batch.write_batch`).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from midway.core.errors import DomainError
from midway.db import Database
from midway.errors import MidwayError
from midway.fulfillment import batch, intake
from midway.orders.service import OrderInput
from midway.principal import Principal

# The largest group: bounds how long the last order of a group waits for the others.
MOST_PER_GROUP = 64


@dataclass(eq=False)
class _Request:
    principal: Principal
    data: OrderInput
    outcome: batch.Outcome | None = None
    failure: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.outcome is not None or self.failure is not None


class GroupPlacer:
    """Places the orders of concurrent callers in groups; thread-safe, one per process."""

    def __init__(self, db: Database, *, most: int = MOST_PER_GROUP) -> None:
        self._db = db
        self._most = most
        # Held by the thread placing a group. One group at a time: two would take the same
        # stock and fall back to placing one by one (measured: three times the CPU per order).
        self._turn = threading.Lock()
        self._guard = threading.Lock()  # guards the waiting list
        self._waiting: list[_Request] = []

    @property
    def waiting(self) -> int:
        """How many callers wait for their group."""
        with self._guard:
            return len(self._waiting)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold placing back: callers wait meanwhile, and are placed together (in the order
        they came, up to the group size) once the block ends."""
        with self._turn:
            yield

    def place(self, principal: Principal, data: OrderInput) -> intake.Placed:
        """Place one order (see :func:`intake.place`), together with those of the callers
        waiting meanwhile; raises why it was refused."""
        request = _Request(principal, data)
        with self._guard:
            self._waiting.append(request)
        while not request.done:
            with self._turn:
                if request.done:  # placed in the group of the thread before
                    break
                with self._guard:
                    group = self._waiting[: self._most]
                    del self._waiting[: self._most]
                self._place(group)
        if request.failure is not None:
            raise request.failure
        assert request.outcome is not None
        if isinstance(request.outcome, intake.Placed):
            return request.outcome
        raise request.outcome

    def _place(self, group: list[_Request]) -> None:
        by_principal: dict[Principal, list[_Request]] = {}
        for request in group:
            by_principal.setdefault(request.principal, []).append(request)
        outcomes: list[tuple[_Request, batch.Outcome]] = []
        try:
            if self._db.serial_writes:
                # SQLite: read and plan before queueing for the one write lock, so that other
                # processes write meanwhile; the guarded writes catch what changed since.
                with self._db.transaction(write=False, snapshot=True) as session:
                    plans = self._plan(session, by_principal, outcomes)
                with self._db.transaction() as session:
                    self._write(session, plans, outcomes)
            else:
                with self._db.transaction() as session:
                    self._write(session, self._plan(session, by_principal, outcomes), outcomes)
        except BaseException as exc:  # nothing of the group was kept
            # Each member raises it in its own thread. The placing thread does not raise it
            # here: its own order may be in a later group, which it must still place.
            for request in group:
                request.failure = copy.copy(exc)
            if not isinstance(exc, Exception):  # the interpreter is stopping: no more groups
                raise
            return
        for request, outcome in outcomes:  # known only once the group committed
            request.outcome = outcome

    def _plan(
        self,
        session: Session,
        by_principal: dict[Principal, list[_Request]],
        refused: list[tuple[_Request, batch.Outcome]],
    ) -> list[tuple[list[_Request], Principal, batch.BatchPlan]]:
        """Check and source each principal's orders against the stock as read; the callers of
        a principal that may not place orders go to ``refused``."""
        plans: list[tuple[list[_Request], Principal, batch.BatchPlan]] = []
        for principal, members in by_principal.items():
            try:
                plan = batch.plan_batch(session, principal, [m.data for m in members])
            except (MidwayError, DomainError) as exc:  # e.g. a key that may not place
                refused += [(m, copy.copy(exc)) for m in members]
                continue
            plans.append((members, principal, plan))
        return plans

    def _write(
        self,
        session: Session,
        plans: list[tuple[list[_Request], Principal, batch.BatchPlan]],
        outcomes: list[tuple[_Request, batch.Outcome]],
    ) -> None:
        """Reserve and write the planned orders; each caller's outcome goes to ``outcomes``."""
        for members, principal, plan in plans:
            placed = batch.write_batch(session, principal, plan)
            outcomes += zip(members, placed, strict=True)
