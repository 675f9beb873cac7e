"""How every ``midway`` command reports an error: one line on standard error with the error's
stable code and the field at fault, then the error's exit code (see :mod:`midway.errors`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from midway.core.errors import DomainError
from midway.db import as_busy
from midway.errors import MidwayError

console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

# At most this many of an error's itemised problems are listed under it.
LISTED = 20


def exit_for(exc: MidwayError | DomainError) -> typer.Exit:
    """Print ``exc`` and return the exit to raise."""
    if isinstance(exc, MidwayError):
        code, detail, where = exc.code, exc.detail, exc.extra.get("field")
        items = [
            item.get("message", item) if isinstance(item, dict) else item
            for item in exc.extra.get("errors", [])
        ]
        status = exc.exit_code
    else:
        code, detail, where, items, status = exc.code, str(exc), exc.field, [], 2
    # Codes and messages may hold brackets ("[invalid_input]", "lines[0]"): printed as text,
    # not read as console markup.
    line = f"[{code}] {detail}" + (f" (field: {where})" if where else "")
    console.print(f"[red]error[/red] {escape(line)}", highlight=False, soft_wrap=True)
    for item in items[:LISTED]:
        console.print(escape(f"  - {item}"), highlight=False, soft_wrap=True)
    return typer.Exit(status)


def friendly(func: F) -> F:
    """Midway's errors as one clear line and the error's exit code; a database that stayed
    locked too long (SQLite) is :class:`~midway.errors.Busy`."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                busy = as_busy(exc)
                if busy is None:
                    raise
                raise busy from exc
        except (MidwayError, DomainError) as exc:
            raise exit_for(exc) from None

    return wrapper  # type: ignore[return-value]
