"""Errors raised by the pure domain core.

The service layer turns a :class:`DomainError` into an HTTP problem using ``code`` and
``field``; nothing here knows about HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken; ``field`` names the offending input when there is one."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class MatrixError(DomainError):
    """A responsibility matrix (or a request against one) is invalid."""

    def __init__(
        self, message: str, *, code: str = "invalid_matrix", field: str | None = None
    ) -> None:
        super().__init__(message, code=code, field=field)


class ScopeError(DomainError):
    """An agreement scope is invalid."""

    def __init__(
        self, message: str, *, code: str = "invalid_scope", field: str | None = None
    ) -> None:
        super().__init__(message, code=code, field=field)


class SourcingError(DomainError):
    """A sourcing request is malformed (bad quantities, duplicate ids, unknown countries)."""

    def __init__(
        self, message: str, *, code: str = "invalid_sourcing_request", field: str | None = None
    ) -> None:
        super().__init__(message, code=code, field=field)


class TransitionError(DomainError):
    """An action is not allowed on a fulfillment order in its current state (or by this party)."""

    def __init__(
        self,
        message: str,
        *,
        action: str,
        status: str,
        request_status: str,
        allowed: tuple[str, ...],
        code: str = "invalid_transition",
        field: str | None = None,
    ) -> None:
        super().__init__(message, code=code, field=field)
        self.action = action
        self.status = status
        self.request_status = request_status
        self.allowed = allowed
