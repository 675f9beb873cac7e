"""The fulfillment-order state machine against its transition table, written out in full."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest

from midway.core.errors import TransitionError
from midway.core.fulfillment import (
    HOLD_REASONS,
    REJECTION_REASONS,
    REQUEST_STATUSES,
    STATUSES,
    Action,
    FoState,
    Outcome,
    allowed_actions,
    apply,
    initial_state,
)

A = Action
M, P = "merchant", "provider"
BOTH = (M, P)


def S(status: str, request: str, managed: bool = True, before: str | None = None) -> FoState:
    return FoState(status, request, managed, before)


# Provider-managed states.
O_U = S("open", "unsubmitted")
O_S = S("open", "submitted")
H_U = S("on_hold", "unsubmitted", before="open")
H_S = S("on_hold", "submitted", before="open")
P_A = S("in_progress", "accepted")
H_A = S("on_hold", "accepted", before="in_progress")
P_CR = S("in_progress", "cancellation_requested")
H_CR = S("on_hold", "cancellation_requested", before="in_progress")
P_CJ = S("in_progress", "cancellation_rejected")
H_CJ = S("on_hold", "cancellation_rejected", before="in_progress")
CLOSED_REJECTED = S("closed", "rejected")
CANCELLED_U = S("cancelled", "unsubmitted")
CANCELLED_C = S("cancelled", "closed")
CANCELLED_CA = S("cancelled", "cancellation_accepted")
INCOMPLETE = S("incomplete", "closed")
SHIPPED_A = S("closed", "accepted")
SHIPPED_CR = S("closed", "cancellation_requested")
SHIPPED_CJ = S("closed", "cancellation_rejected")

# Merchant-run states.
MO = S("open", "unsubmitted", False)
MH_O = S("on_hold", "unsubmitted", False, "open")
MP = S("in_progress", "unsubmitted", False)
MH_P = S("on_hold", "unsubmitted", False, "in_progress")
M_CLOSED = S("closed", "unsubmitted", False)
M_CANCELLED = S("cancelled", "unsubmitted", False)
M_INCOMPLETE = S("incomplete", "unsubmitted", False)

Key = tuple[FoState, Action, str]
# (state, action, actor) -> (next state, releases reservation), with the default flags
# (no holds left after a release, shipment not complete).
TABLE: dict[Key, tuple[FoState, bool]] = {}


def allow(state: FoState, action: Action, actors: tuple[str, ...] | str, to: FoState) -> None:
    releases = to.status in ("cancelled", "incomplete") or to.request_status == "rejected"
    for actor in (actors,) if isinstance(actors, str) else actors:
        TABLE[(state, action, actor)] = (to, releases)


allow(O_U, A.SUBMIT, M, O_S)
allow(O_U, A.HOLD, BOTH, H_U)
allow(O_U, A.CANCEL, M, CANCELLED_U)
allow(O_S, A.ACCEPT, P, P_A)
allow(O_S, A.REJECT, P, CLOSED_REJECTED)
allow(O_S, A.HOLD, BOTH, H_S)
allow(O_S, A.CANCEL, M, CANCELLED_C)
allow(H_U, A.HOLD, BOTH, H_U)
allow(H_U, A.RELEASE_HOLD, BOTH, O_U)
allow(H_U, A.CANCEL, M, CANCELLED_U)
allow(H_S, A.HOLD, BOTH, H_S)
allow(H_S, A.RELEASE_HOLD, BOTH, O_S)
allow(H_S, A.CANCEL, M, CANCELLED_C)
allow(P_A, A.HOLD, BOTH, H_A)
allow(P_A, A.REQUEST_CANCELLATION, M, P_CR)
allow(P_A, A.CLOSE, P, INCOMPLETE)
allow(P_A, A.SHIP, P, P_A)
allow(H_A, A.HOLD, BOTH, H_A)
allow(H_A, A.RELEASE_HOLD, BOTH, P_A)
allow(H_A, A.REQUEST_CANCELLATION, M, H_CR)
allow(P_CR, A.HOLD, BOTH, H_CR)
allow(P_CR, A.ACCEPT_CANCELLATION, P, CANCELLED_CA)
allow(P_CR, A.REJECT_CANCELLATION, P, P_CJ)
allow(P_CR, A.CLOSE, P, INCOMPLETE)
allow(P_CR, A.SHIP, P, P_CR)
allow(H_CR, A.HOLD, BOTH, H_CR)
allow(H_CR, A.RELEASE_HOLD, BOTH, P_CR)
allow(H_CR, A.ACCEPT_CANCELLATION, P, CANCELLED_CA)
allow(H_CR, A.REJECT_CANCELLATION, P, H_CJ)
allow(P_CJ, A.HOLD, BOTH, H_CJ)
allow(P_CJ, A.REQUEST_CANCELLATION, M, P_CR)
allow(P_CJ, A.CLOSE, P, INCOMPLETE)
allow(P_CJ, A.SHIP, P, P_CJ)
allow(H_CJ, A.HOLD, BOTH, H_CJ)
allow(H_CJ, A.RELEASE_HOLD, BOTH, P_CJ)
allow(H_CJ, A.REQUEST_CANCELLATION, M, H_CR)

allow(MO, A.HOLD, M, MH_O)
allow(MO, A.CANCEL, M, M_CANCELLED)
allow(MO, A.SHIP, M, MP)
allow(MH_O, A.HOLD, M, MH_O)
allow(MH_O, A.RELEASE_HOLD, M, MO)
allow(MH_O, A.CANCEL, M, M_CANCELLED)
allow(MP, A.HOLD, M, MH_P)
allow(MP, A.SHIP, M, MP)
allow(MP, A.CLOSE, M, M_INCOMPLETE)
allow(MH_P, A.HOLD, M, MH_P)
allow(MH_P, A.RELEASE_HOLD, M, MP)
allow(MH_P, A.CANCEL, M, M_CANCELLED)

TERMINAL = {
    CLOSED_REJECTED,
    CANCELLED_U,
    CANCELLED_C,
    CANCELLED_CA,
    INCOMPLETE,
    SHIPPED_A,
    SHIPPED_CR,
    SHIPPED_CJ,
    M_CLOSED,
    M_CANCELLED,
    M_INCOMPLETE,
}
FLAG_VARIANTS: tuple[dict[str, Any], ...] = (
    {},
    {"open_holds_after": 1},
    {"fully_shipped": True},
)


def test_vocabularies() -> None:
    assert STATUSES == (
        "open",
        "scheduled",
        "on_hold",
        "in_progress",
        "incomplete",
        "closed",
        "cancelled",
    )
    assert len(REQUEST_STATUSES) == 8
    assert "cancellation_requested" in REQUEST_STATUSES
    assert "inventory_out_of_stock" in REJECTION_REASONS
    assert "awaiting_inserts" in HOLD_REASONS
    assert [a.value for a in Action][:3] == ["submit", "accept", "reject"]


def test_initial_state() -> None:
    assert initial_state(True) == O_U
    assert initial_state(False) == MO


@pytest.mark.parametrize(
    ("key", "expected"),
    list(TABLE.items()),
    ids=[f"{s.status}/{s.request_status}/{a}/{w}" for s, a, w in TABLE],
)
def test_table_transition(key: Key, expected: tuple[FoState, bool]) -> None:
    state, action, actor = key
    assert apply(state, action, actor) == Outcome(*expected)


@pytest.mark.parametrize(
    ("state", "actor", "after"),
    [(P_A, P, SHIPPED_A), (P_CR, P, SHIPPED_CR), (P_CJ, P, SHIPPED_CJ), (MO, M, M_CLOSED),
     (MP, M, M_CLOSED)],
)  # fmt: skip
def test_complete_shipment_closes(state: FoState, actor: str, after: FoState) -> None:
    assert apply(state, A.SHIP, actor, fully_shipped=True) == Outcome(after, False)


@pytest.mark.parametrize("state", [H_U, H_S, H_A, H_CR, H_CJ, MH_O, MH_P])
def test_release_with_holds_left_stays_on_hold(state: FoState) -> None:
    actor = P if state.provider_managed else M
    assert apply(state, A.RELEASE_HOLD, actor, open_holds_after=2) == Outcome(state, False)


def reachable() -> set[FoState]:
    seen = {initial_state(True), initial_state(False)}
    queue = deque(seen)
    while queue:
        state = queue.popleft()
        for action in Action:
            for actor in BOTH:
                for flags in FLAG_VARIANTS:
                    try:
                        after = apply(state, action, actor, **flags).state
                    except TransitionError:
                        continue
                    if after not in seen:
                        seen.add(after)
                        queue.append(after)
    return seen


def test_reachable_states_are_exactly_the_table() -> None:
    expected = {state for state, _, _ in TABLE} | TERMINAL
    assert reachable() == expected


def test_sweep_everything_outside_the_table_is_refused() -> None:
    checked = 0
    for state in reachable():
        for actor in BOTH:
            table_actions = tuple(a.value for a in Action if (state, a, actor) in TABLE)
            assert allowed_actions(state, actor) == table_actions, (state, actor)
            for action in Action:
                if (state, action, actor) in TABLE:
                    apply(state, action, actor)
                    continue
                with pytest.raises(TransitionError) as caught:
                    apply(state, action, actor)
                error = caught.value
                assert error.code == "invalid_transition"
                assert (error.action, error.status) == (action.value, state.status)
                assert error.request_status == state.request_status
                assert error.allowed == table_actions
                checked += 1
    assert checked > 300


def test_wrong_party_is_told_who_may() -> None:
    with pytest.raises(TransitionError, match="only the merchant may submit"):
        apply(O_U, A.SUBMIT, P)
    with pytest.raises(TransitionError, match="only the provider may accept") as caught:
        apply(O_S, A.ACCEPT, M)
    assert caught.value.allowed == ("hold", "cancel")
    with pytest.raises(TransitionError, match="only the merchant may ship"):
        apply(MO, A.SHIP, P)


def test_refusals_say_why() -> None:
    with pytest.raises(TransitionError, match="finished"):
        apply(INCOMPLETE, A.HOLD, M)
    with pytest.raises(TransitionError, match="run by the merchant"):
        apply(MO, A.SUBMIT, M)
    with pytest.raises(TransitionError, match=r"cannot ship .* open \(request submitted\)"):
        apply(O_S, A.SHIP, P)


def test_scheduled_can_only_be_cancelled() -> None:
    scheduled = S("scheduled", "submitted")
    assert apply(scheduled, A.CANCEL, M) == Outcome(CANCELLED_C, True)
    assert allowed_actions(scheduled, M) == ("cancel",)
    assert allowed_actions(scheduled, P) == ()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="actor"):
        apply(O_U, A.HOLD, "carrier")
    with pytest.raises(ValueError, match="open_holds_after"):
        apply(H_U, A.RELEASE_HOLD, M, open_holds_after=-1)
    with pytest.raises(ValueError, match="status"):
        allowed_actions(S("lost", "unsubmitted"), M)
    assert apply(O_U, "submit", M).state == O_S  # type: ignore[arg-type]


@pytest.mark.parametrize("status", ["closed", "cancelled", "incomplete"])
def test_terminal_statuses_allow_nothing_whatever_the_request(status: str) -> None:
    for request in REQUEST_STATUSES:
        for managed in (True, False):
            state = S(status, request, managed)
            for actor in BOTH:
                assert allowed_actions(state, actor) == ()
                for action in Action:
                    with pytest.raises(TransitionError, match="finished"):
                        apply(state, action, actor)
