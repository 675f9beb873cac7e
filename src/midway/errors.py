"""The exception tree of Midway and the one table that maps error codes to HTTP and CLI.

Every error the domain raises is a :class:`MidwayError` with a stable ``code``. The edges turn
it into RFC 9457 problem+json (HTTP) or one line and an exit code (CLI)::

    MidwayError
    ├── InvalidInput        422  bad field values (names the field)
    ├── NotFound            404  unknown id, or an object of another tenant
    ├── Unauthenticated     401  missing or unknown API key
    ├── PermissionDenied    403  the caller's role may not do this
    ├── Conflict            409  duplicates, idempotency key still in flight
    ├── InvalidState        409  an action not allowed in the object's current state
    ├── IdempotencyMismatch 422  an idempotency key reused with another body
    └── Busy                503  the database stayed busy too long (SQLite); try again
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class MidwayError(Exception):
    """Base of every error Midway raises on purpose."""

    code: str = "error"
    status: int = 400
    exit_code: int = 1
    title: str = "Request failed"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 body for this error."""
        body: dict[str, Any] = {
            "type": f"https://midway.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        body.update(self.extra)
        return body


class InvalidInput(MidwayError):
    """A field value is wrong; ``field`` names it (a JSON pointer-like path)."""

    code = "invalid_input"
    status = 422
    exit_code = 2
    title = "Invalid input"

    def __init__(
        self, detail: str, *, field: str | None = None, code: str | None = None, **extra: Any
    ) -> None:
        if field is not None:
            extra["field"] = field
        super().__init__(detail, code=code, **extra)


class NotFound(MidwayError):
    """No such object visible to the caller (another tenant's objects look the same)."""

    code = "not_found"
    status = 404
    exit_code = 3
    title = "Not found"


class Unauthenticated(MidwayError):
    """No valid API key."""

    code = "unauthenticated"
    status = 401
    exit_code = 4
    title = "Unauthenticated"


class PermissionDenied(MidwayError):
    """The caller is known but its role or party kind may not do this."""

    code = "permission_denied"
    status = 403
    exit_code = 4
    title = "Permission denied"


class Conflict(MidwayError):
    """The request collides with existing state (a duplicate, a key in flight)."""

    code = "conflict"
    status = 409
    exit_code = 5
    title = "Conflict"


class InvalidState(MidwayError):
    """The action is not allowed in the object's current state; ``state`` says which."""

    code = "invalid_state"
    status = 409
    exit_code = 5
    title = "Action not allowed in this state"


class IdempotencyMismatch(MidwayError):
    """An ``Idempotency-Key`` was reused with a different request body."""

    code = "idempotency_key_reused"
    status = 422
    exit_code = 2
    title = "Idempotency key reused with a different request"


class Busy(MidwayError):
    """The database stayed locked by other writers for longer than a writer waits (SQLite:
    the writer queue, then the busy handler). Nothing was written; the request may be retried."""

    code = "database_busy"
    status = 503
    exit_code = 75  # EX_TEMPFAIL
    title = "Database busy"


def field_path(loc: Sequence[str | int]) -> str:
    """The path of a field as every Midway error names it: ``lines[1].sku``,
    ``ship_to.country``, ``header.Idempotency-Key``.

    ``loc`` is a validation error's location (pydantic's, with FastAPI's leading ``body``,
    ``query`` or ``path``, which are dropped; a header keeps ``header``)."""
    parts = list(loc)
    head = ""
    if parts and parts[0] in ("body", "query", "path", "header"):
        head = str(parts.pop(0))
    text = "header" if head == "header" else ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or head
