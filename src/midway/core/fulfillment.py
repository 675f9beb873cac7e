"""The fulfillment-order state machine, after Shopify's FulfillmentOrder model.

A fulfillment order (FO) has a ``status`` (where the work is) and a ``request_status`` (where
the merchant/provider handshake is). For a provider-managed facility the merchant submits the
FO, the provider accepts or rejects it, and cancelling accepted work is a request the provider
answers. A merchant-run facility has no handshake: the request status stays ``unsubmitted`` and
the merchant ships, holds and cancels directly.

Where Midway departs from Shopify:

* A rejected FO is closed at once and gives its reservation back. Shopify leaves it open for
  the merchant to move elsewhere; Midway re-sources the order into a new FO instead, so stock
  is never held by work nobody will do.
* Rejecting a cancellation request leaves the status as it is: normally ``in_progress``, but
  an FO that was put on hold meanwhile stays on hold until its holds are released.
* ``scheduled`` is a valid status (for imported data) but no action leads to it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from midway.core.errors import TransitionError

STATUSES: tuple[str, ...] = (
    "open",
    "scheduled",
    "on_hold",
    "in_progress",
    "incomplete",
    "closed",
    "cancelled",
)
REQUEST_STATUSES: tuple[str, ...] = (
    "unsubmitted",
    "submitted",
    "accepted",
    "rejected",
    "cancellation_requested",
    "cancellation_accepted",
    "cancellation_rejected",
    "closed",
)
REJECTION_REASONS: tuple[str, ...] = (
    "incorrect_address",
    "ineligible_product",
    "inventory_out_of_stock",
    "undeliverable_destination",
    "other",
)
HOLD_REASONS: tuple[str, ...] = (
    "awaiting_payment",
    "high_risk_of_fraud",
    "incorrect_address",
    "inventory_out_of_stock",
    "awaiting_inserts",
    "merchant_request",
    "other",
)
TERMINAL_STATUSES: frozenset[str] = frozenset(("closed", "cancelled", "incomplete"))
ACTORS: tuple[str, ...] = ("merchant", "provider")

_MERCHANT = frozenset(("merchant",))
_PROVIDER = frozenset(("provider",))
_EITHER = frozenset(ACTORS)
_WORKING = frozenset(("accepted", "cancellation_requested", "cancellation_rejected"))
_CANCELLABLE_REQUESTS = frozenset(("unsubmitted", "submitted", "rejected"))


class Action(StrEnum):
    """What a party can do to a fulfillment order."""

    SUBMIT = "submit"
    ACCEPT = "accept"
    REJECT = "reject"
    HOLD = "hold"
    RELEASE_HOLD = "release_hold"
    REQUEST_CANCELLATION = "request_cancellation"
    ACCEPT_CANCELLATION = "accept_cancellation"
    REJECT_CANCELLATION = "reject_cancellation"
    CLOSE = "close"
    CANCEL = "cancel"
    SHIP = "ship"


# Actions a merchant-run facility has too; every other one belongs to the handshake.
_NO_HANDSHAKE = frozenset(
    (Action.HOLD, Action.RELEASE_HOLD, Action.CANCEL, Action.SHIP, Action.CLOSE)
)


@dataclass(frozen=True, slots=True)
class FoState:
    """The two statuses of an FO, whether a provider runs it, and what a hold interrupted."""

    status: str
    request_status: str
    provider_managed: bool
    status_before_hold: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The state after an action; ``releases_reservation`` when unshipped units go back."""

    state: FoState
    releases_reservation: bool


def initial_state(provider_managed: bool) -> FoState:
    """A new FO: open and not yet submitted."""
    return FoState(status="open", request_status="unsubmitted", provider_managed=provider_managed)


def _moved(state: FoState, status: str, request_status: str | None = None) -> FoState:
    return replace(
        state,
        status=status,
        request_status=state.request_status if request_status is None else request_status,
        status_before_hold=None,
    )


def _work_status(state: FoState) -> str:
    """The status the FO is in, or would be in were it not on hold."""
    if state.status == "on_hold":
        return state.status_before_hold or "open"
    return state.status


def _step(
    state: FoState, action: Action, open_holds_after: int, fully_shipped: bool
) -> tuple[frozenset[str], Outcome] | None:
    """Who may do ``action`` in ``state`` and what follows; ``None`` when nobody may."""
    status, request = state.status, state.request_status
    if status in TERMINAL_STATUSES:
        return None
    managed = state.provider_managed

    if action is Action.HOLD:
        if status == "on_hold":
            return (_EITHER if managed else _MERCHANT), Outcome(state, False)
        if status in ("open", "in_progress") and request not in (
            "closed",
            "cancellation_accepted",
        ):
            held = replace(state, status="on_hold", status_before_hold=status)
            return (_EITHER if managed else _MERCHANT), Outcome(held, False)
        return None
    if action is Action.RELEASE_HOLD:
        if status != "on_hold":
            return None
        after = state if open_holds_after > 0 else _moved(state, _work_status(state))
        return (_EITHER if managed else _MERCHANT), Outcome(after, False)
    if action is Action.CANCEL:
        if managed:
            if status in ("open", "on_hold", "scheduled") and request in _CANCELLABLE_REQUESTS:
                closed_request = "closed" if request == "submitted" else request
                return _MERCHANT, Outcome(_moved(state, "cancelled", closed_request), True)
            return None
        if status in ("open", "on_hold"):
            return _MERCHANT, Outcome(_moved(state, "cancelled"), True)
        return None
    if action is Action.SHIP:
        if managed:
            if status == "in_progress" and request in _WORKING:
                return _PROVIDER, Outcome(_moved(state, _shipped(fully_shipped)), False)
            return None
        if status in ("open", "in_progress"):
            return _MERCHANT, Outcome(_moved(state, _shipped(fully_shipped)), False)
        return None
    if not managed:
        if action is Action.CLOSE and status == "in_progress":
            # The merchant ends its own partly shipped work; the rest goes back for sourcing.
            return _MERCHANT, Outcome(_moved(state, "incomplete"), True)
        # Every other action is part of the merchant/provider handshake.
        return None
    return _handshake(state, action)


def _shipped(fully_shipped: bool) -> str:
    return "closed" if fully_shipped else "in_progress"


def _handshake(state: FoState, action: Action) -> tuple[frozenset[str], Outcome] | None:
    status, request = state.status, state.request_status
    if action is Action.SUBMIT:
        if status == "open" and request == "unsubmitted":
            return _MERCHANT, Outcome(replace(state, request_status="submitted"), False)
    elif action is Action.ACCEPT:
        if status == "open" and request == "submitted":
            return _PROVIDER, Outcome(_moved(state, "in_progress", "accepted"), False)
    elif action is Action.REJECT:
        if status == "open" and request == "submitted":
            return _PROVIDER, Outcome(_moved(state, "closed", "rejected"), True)
    elif action is Action.REQUEST_CANCELLATION:
        if _work_status(state) == "in_progress" and request in (
            "accepted",
            "cancellation_rejected",
        ):
            asked = replace(state, request_status="cancellation_requested")
            return _MERCHANT, Outcome(asked, False)
    elif action is Action.ACCEPT_CANCELLATION:
        if request == "cancellation_requested":
            return _PROVIDER, Outcome(_moved(state, "cancelled", "cancellation_accepted"), True)
    elif action is Action.REJECT_CANCELLATION:
        if request == "cancellation_requested":
            refused = replace(state, request_status="cancellation_rejected")
            return _PROVIDER, Outcome(refused, False)
    elif action is Action.CLOSE and status == "in_progress" and request in _WORKING:
        return _PROVIDER, Outcome(_moved(state, "incomplete", "closed"), True)
    return None


def _check(state: FoState, actor: str) -> None:
    if actor not in ACTORS:
        raise ValueError(f"actor must be 'merchant' or 'provider', got {actor!r}")
    if state.status not in STATUSES:
        raise ValueError(f"unknown fulfillment order status {state.status!r}")
    if state.request_status not in REQUEST_STATUSES:
        raise ValueError(f"unknown fulfillment order request status {state.request_status!r}")


def allowed_actions(state: FoState, actor: str) -> tuple[str, ...]:
    """The actions ``actor`` may take on an FO in ``state``, in :class:`Action` order."""
    _check(state, actor)
    allowed: list[str] = []
    for action in Action:
        step = _step(state, action, 0, False)
        if step is not None and actor in step[0]:
            allowed.append(action.value)
    return tuple(allowed)


def apply(
    state: FoState,
    action: Action,
    actor: str,
    *,
    open_holds_after: int = 0,
    fully_shipped: bool = False,
) -> Outcome:
    """Perform ``action`` as ``actor``; raises TransitionError when that is not allowed.

    ``open_holds_after`` is how many holds remain once a released hold is gone (the FO
    leaves ``on_hold`` only at zero). ``fully_shipped`` says a shipment completed the FO.
    """
    _check(state, actor)
    action = Action(action)
    if open_holds_after < 0:
        raise ValueError(f"open_holds_after must not be negative, got {open_holds_after}")
    step = _step(state, action, open_holds_after, fully_shipped)
    if step is not None and actor in step[0]:
        return step[1]
    allowed = allowed_actions(state, actor)
    where = f"a fulfillment order that is {state.status} (request {state.request_status})"
    if step is not None:
        party = " or ".join(sorted(step[0]))
        message = f"only the {party} may {action.value} {where}"
    elif state.status in TERMINAL_STATUSES:
        message = f"cannot {action.value} {where}: it is finished"
    elif not state.provider_managed and action not in _NO_HANDSHAKE:
        message = f"cannot {action.value} {where}: the facility is run by the merchant"
    else:
        message = f"cannot {action.value} {where}"
    if allowed:
        message += f"; {actor} may: {', '.join(allowed)}"
    raise TransitionError(
        message,
        action=action.value,
        status=state.status,
        request_status=state.request_status,
        allowed=allowed,
    )
